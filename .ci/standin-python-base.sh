#!/usr/bin/env bash
# A stand-in for Docker Hub's python:3.11-slim, under that name, for machines that cannot pull it.
#
# Why it exists: the CI machines cannot reach Docker Hub, so the Dockerfiles' `FROM python:3.11-slim`
# would fail and the container tests could never build the real image. The official image is Debian
# bookworm with CPython 3.11 in /usr/local; this builds the same shape from Debian's own packages:
# a minbase bookworm root filesystem (debootstrap, from the mirror the host's apt uses), Debian's
# python3 (3.11) and a virtualenv at /usr/local, so `python` and `pip` sit in /usr/local/bin as in the
# official image. The project's Dockerfiles then build unchanged on top of it.
#
# The build-time bits that belong to this machine, not to the project, live here and only here: the
# host's locally added CA certificates (TLS to the package index is intercepted on these machines and
# pip fails without them, hence PIP_CERT) and the host's pip index, if it names one reachable from a
# container. Idempotent: nothing is done when the image already exists. Needs root (debootstrap).
set -euo pipefail

IMAGE="${1:-python:3.11-slim}"
SUITE=bookworm
ROOTFS_IMAGE="local/debian-${SUITE}-minbase"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "== $IMAGE exists: nothing to build"
  exit 0
fi
started=$SECONDS

# the first Debian mirror the host's apt sources name (deb822 .sources, or one-line sources.list)
mirror="$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } \
    | grep -m1 '/debian/\?$' || true
)"
mirror="${mirror:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1; then
  echo "== debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | docker import - "$ROOTFS_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
fi

mkdir -p "$work/context/ca"
cp /usr/local/share/ca-certificates/*.crt "$work/context/ca/" 2>/dev/null || true

# the host's index, unless it is a local path a container cannot see (file://)
index="${PIP_INDEX_URL:-$(pip config get global.index-url 2>/dev/null || true)}"
{
  echo "[global]"
  echo "cert = /etc/ssl/certs/ca-certificates.crt"
  case "$index" in
    http://* | https://*) echo "index-url = $index" ;;
  esac
} >"$work/context/pip.conf"

cat >"$work/context/Dockerfile" <<DOCKERFILE
FROM $ROOTFS_IMAGE
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      ca-certificates python3 python3-venv \\
 && update-ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && python3 -m venv /usr/local \\
 && rm -rf /root/.cache
COPY pip.conf /etc/pip.conf
ENV LANG=C.UTF-8 \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
DOCKERFILE

echo "== building the stand-in $IMAGE"
docker build -q -t "$IMAGE" --label "org.data-platform.standin=debootstrap $SUITE" \
  "$work/context" >/dev/null
docker run --rm "$IMAGE" python --version
echo "== $IMAGE (stand-in) built in $((SECONDS - started)) s"
