#!/usr/bin/env bash
# A Docker daemon for the container tests (tests/container/): Debian's docker.io when docker or
# dockerd is absent, dockerd started in the background when no daemon answers, and the base image
# python:3.11-slim: pulled, or, only when the pull fails (Docker Hub unreachable), the stand-in built
# by .ci/standin-python-base.sh. Needs root. dockerd keeps running after this script (its PID in
# /var/run/docker.pid); its log is /var/log/dockerd.log.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
  echo "== installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd"
  # its own session, so it outlives this script and no signal to the CI job's group reaches it
  setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker info --format 'docker {{.ServerVersion}} ({{.Driver}}), dockerd pid '"$(cat /var/run/docker.pid)"

if timeout 120 docker pull -q python:3.11-slim >/dev/null 2>&1; then
  echo "== python:3.11-slim pulled"
else
  echo "== python:3.11-slim cannot be pulled: the stand-in"
  .ci/standin-python-base.sh python:3.11-slim
fi
echo "== docker ready in $((SECONDS - started)) s"
