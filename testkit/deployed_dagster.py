"""The deployment's Dagster instance (deploy/dagster.yaml, unchanged) on the machine's
PostgreSQL, in a database of its own."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from platform_assets.settings import PROJECT_DIRECTORY
from testkit.aws import POSTGRES_DSN

DEPLOYED_INSTANCE = PROJECT_DIRECTORY / "deploy" / "dagster.yaml"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database (Dagster creates its schema), dropped afterwards."""
    name = f"dagster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def deployed_instance(directory: Path, database: str) -> dict[str, str]:
    """A DAGSTER_HOME holding deploy/dagster.yaml, and the environment it reads (the task's
    environment and secret in AWS)."""
    directory.mkdir(parents=True)
    shutil.copy(DEPLOYED_INSTANCE, directory / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(directory),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",  # the machine's PostgreSQL trusts loopback
        "DAGSTER_MAX_CONCURRENT_RUNS": "4",
        "DAGSTER_EVENT_BATCH_SIZE": "1000",  # as the Dagster image sets it
    }
