"""The images, built once per session from the repository's Dockerfiles as committed (the layer
cache makes a rebuild cheap); every test here is skipped, with the reason, where no Docker daemon
can run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_assets.settings import PROJECT_DIRECTORY
from testkit import docker
from testkit.summary import SUMMARY_LINES

JOB_IMAGE = "data-platform"
DAGSTER_IMAGE = "data-platform-dagster"
DAGSTER_DOCKERFILE = Path("deploy/dagster.Dockerfile")
INSTANCE = Path("deploy/dagster.yaml")
# only where the repository has no deploy/dagster.yaml yet: Dagster's storage on PostgreSQL from
# the same environment the deployment's instance reads
MINIMAL_INSTANCE = """\
storage:
  postgres:
    postgres_db:
      hostname: { env: DAGSTER_PG_HOST }
      port: { env: DAGSTER_PG_PORT }
      db_name: { env: DAGSTER_PG_DB }
      username: { env: DAGSTER_PG_USER }
      password: { env: DAGSTER_PG_PASSWORD }
      scheme: postgresql+psycopg2
telemetry:
  enabled: false
"""


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
def dagster_image(docker_daemon: None, tmp_path_factory: pytest.TempPathFactory) -> docker.Image:
    """Dagster's image: deploy/dagster.Dockerfile from the repository's root, or, while the
    repository has no deploy/dagster.yaml, from a copy of what the Dockerfile copies plus a minimal
    instance."""
    context = PROJECT_DIRECTORY
    if not (PROJECT_DIRECTORY / INSTANCE).exists():
        context = tmp_path_factory.mktemp("dagster-context")
        for name in ("pyproject.toml", "README.md", "workspace.yaml"):
            shutil.copy(PROJECT_DIRECTORY / name, context / name)
        shutil.copytree(
            PROJECT_DIRECTORY / "platform_assets",
            context / "platform_assets",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        (context / "deploy").mkdir()
        shutil.copy(PROJECT_DIRECTORY / DAGSTER_DOCKERFILE, context / DAGSTER_DOCKERFILE)
        (context / INSTANCE).write_text(MINIMAL_INSTANCE)
        report(f"{INSTANCE} is not in the repository: {DAGSTER_IMAGE} built with a minimal one")
    image = docker.build(DAGSTER_IMAGE, context, context / DAGSTER_DOCKERFILE)
    report(image.line())
    return image
