"""The images, built once per session from the repository's Dockerfiles as committed (the layer
cache makes a rebuild cheap); every test here is skipped, with the reason, where no Docker daemon
can run."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_assets.settings import PROJECT_DIRECTORY
from testkit import docker
from testkit.summary import SUMMARY_LINES

JOB_IMAGE = "data-platform"
DAGSTER_IMAGE = "data-platform-dagster"
DAGSTER_DOCKERFILE = Path("deploy/dagster.Dockerfile")


def report(line: str) -> None:
    print(f"\n{line}")
    SUMMARY_LINES.append(line)


@pytest.fixture(scope="session")
def docker_daemon() -> None:
    if (reason := docker.daemon_unavailable()) is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def job_image(docker_daemon: None) -> docker.Image:
    """The Batch job's image: the repository's Dockerfile, unchanged."""
    image = docker.build(JOB_IMAGE, PROJECT_DIRECTORY)
    report(image.line())
    return image


@pytest.fixture(scope="session")
def dagster_image(docker_daemon: None) -> docker.Image:
    """Dagster's image: deploy/dagster.Dockerfile from the repository's root (it copies
    deploy/dagster.yaml into $DAGSTER_HOME)."""
    image = docker.build(DAGSTER_IMAGE, PROJECT_DIRECTORY, PROJECT_DIRECTORY / DAGSTER_DOCKERFILE)
    report(image.line())
    return image
