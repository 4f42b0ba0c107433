"""Docker for the container tests: is a daemon there, build an image (timed, its size and how many
steps the layer cache gave), run a container to the end or in the background. The engine is the
`docker` command line; .ci/docker-up.sh starts a daemon (and a stand-in base where Docker Hub
cannot be reached)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUILD_TIMEOUT = 1800
# a step the layer cache answered: the legacy builder's line, and BuildKit's
_CACHED = re.compile(r"^ ---> Using cache$|^#\d+ CACHED$", re.MULTILINE)
_STEP = re.compile(r"^Step \d+/\d+ :|^#\d+ \[[^\]]*\d+/\d+\]", re.MULTILINE)


def daemon_unavailable() -> str | None:
    """Why no container can run here (None when a daemon answers `docker info`)."""
    if shutil.which("docker") is None:
        return "no `docker` command (.ci/docker-up.sh installs Debian's docker.io)"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if info.returncode != 0:
        cause = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker daemon answers `docker info` ({cause}); .ci/docker-up.sh starts one"
    return None


@dataclass(frozen=True)
class Image:
    tag: str
    size_bytes: int
    build_seconds: float
    steps: int
    cached_steps: int

    def line(self) -> str:
        cache = f"{self.cached_steps} of {self.steps} steps from the layer cache"
        return (
            f"image {self.tag}: {self.size_bytes / 1e6:.0f} MB, "
            f"built in {self.build_seconds:.1f} s ({cache})"
        )


def build(tag: str, context: Path, dockerfile: Path | None = None) -> Image:
    """`docker build -t TAG [-f DOCKERFILE] CONTEXT`, timed; fails with the build's output."""
    command = ["docker", "build", "-t", tag]
    if dockerfile is not None:
        command += ["-f", str(dockerfile)]
    started = time.monotonic()
    built = subprocess.run(
        [*command, str(context)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    seconds = time.monotonic() - started
    output = built.stdout + built.stderr
    assert built.returncode == 0, f"{' '.join(command)} {context} failed:\n{output[-4000:]}"
    return Image(
        tag=tag,
        size_bytes=size(tag),
        build_seconds=seconds,
        steps=len(_STEP.findall(output)),
        cached_steps=len(_CACHED.findall(output)),
    )


def inspect(tag: str, field: str) -> Any:
    """A field of the image's `docker image inspect`, e.g. `.Config.Env`, `.Size`."""
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", f"{{{{json {field}}}}}", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(inspected.stdout)


def size(tag: str) -> int:
    return int(inspect(tag, ".Size"))


def run_options(
    image: str,
    arguments: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    entrypoint: str | None = None,
    network: str | None = None,
    name: str | None = None,
    remove: bool = True,
) -> list[str]:
    """What follows `docker run`: IMAGE and ARGUMENTS, its settings as `-e` (nothing else of this
    environment reaches the container), `--rm` unless told otherwise."""
    command = ["--rm"] if remove else []
    if name is not None:
        command += ["--name", name]
    if network is not None:
        command += ["--network", network]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    for variable, value in sorted((env or {}).items()):
        command += ["-e", f"{variable}={value}"]
    return [*command, image, *arguments]


def run(
    image: str,
    arguments: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    entrypoint: str | None = None,
    network: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """A container of IMAGE run to the end (removed after)."""
    return subprocess.run(
        [
            "docker",
            "run",
            *run_options(image, arguments, env, entrypoint=entrypoint, network=network),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def running(
    image: str,
    name: str,
    arguments: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    network: str | None = None,
) -> Iterator[str]:
    """A container of IMAGE in the background, named NAME; removed after, so that its output
    (`logs(NAME)`) outlives it if it exits early. Yields its name."""
    subprocess.run(
        [
            "docker",
            "run",
            "--detach",
            *run_options(image, arguments, env, network=network, name=name, remove=False),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    try:
        yield name
    finally:
        subprocess.run(
            ["docker", "rm", "--force", name], capture_output=True, timeout=60, check=False
        )


def is_running(name: str) -> bool:
    shown = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Running}}", name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return shown.stdout.strip() == "true"


def logs(name: str) -> str:
    shown = subprocess.run(
        ["docker", "logs", name], capture_output=True, text=True, timeout=60, check=False
    )
    return shown.stdout + shown.stderr
