"""Dagster's image (deploy/dagster.Dockerfile): the orchestration extra's commands answer, it runs
as a user who is not root, and its default command serves the code location from the
repository's workspace.yaml with Dagster's storage on PostgreSQL (the machine's, a database of
the test's own), as the webserver's ECS task runs it."""

from __future__ import annotations

import time
import urllib.error
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from testkit import docker
from testkit.aws import POSTGRES_DSN, POSTGRES_PASSWORD
from testkit.dagster_dev import free_port, graphql

DEFAULT_COMMAND = ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def test_dagsters_commands_and_postgres_storage_are_in_the_image(dagster_image):
    version = docker.run(dagster_image.tag, ["dagster", "--version"])
    assert version.returncode == 0, version.stderr
    assert "1.13.27" in version.stdout
    for command in (["dagster-webserver", "--help"], ["dagster-daemon", "run", "--help"]):
        shown = docker.run(dagster_image.tag, command)
        assert shown.returncode == 0, shown.stderr
    imported = docker.run(
        dagster_image.tag, ["python", "-c", "import dagster_postgres, dagster_aws, psycopg2"]
    )
    assert imported.returncode == 0, imported.stderr


def test_the_dagster_image_runs_as_uid_10001_with_its_instance_and_settings(dagster_image):
    ids = docker.run(dagster_image.tag, ["id", "-u"])
    assert ids.stdout.strip() == "10001"
    env = dict(item.split("=", 1) for item in docker.inspect(dagster_image.tag, ".Config.Env"))
    assert env["DAGSTER_HOME"] == "/opt/dagster/home"
    assert env["DAGSTER_EVENT_BATCH_SIZE"] == "1000"
    assert not [
        name for name in env if "PASSWORD" in name or name.startswith(("AWS_", "DAGSTER_PG"))
    ]
    assert docker.inspect(dagster_image.tag, ".Config.ExposedPorts") == {"3000/tcp": {}}
    assert docker.inspect(dagster_image.tag, ".Config.Cmd") == DEFAULT_COMMAND
    files = docker.run(
        dagster_image.tag, ["sh", "-c", "test -w $DAGSTER_HOME && ls $DAGSTER_HOME/dagster.yaml *"]
    )
    assert files.returncode == 0, files.stderr
    assert sorted(files.stdout.split()) == ["/opt/dagster/home/dagster.yaml", "workspace.yaml"]


@pytest.fixture
def dagster_database() -> Iterator[str]:
    """A database of its own for Dagster's storage on the machine's PostgreSQL, dropped after."""
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_the_webserver_serves_the_code_location_on_postgres_storage(
    dagster_image, dagster_database
):
    port = free_port()  # the default command's, on a free port of the host's network
    command = [*DEFAULT_COMMAND]
    command[command.index("-h") + 1], command[command.index("-p") + 1] = "127.0.0.1", str(port)
    env = {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_DB": dagster_database,
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": POSTGRES_PASSWORD,
        "DAGSTER_MAX_CONCURRENT_RUNS": "4",
    }
    name = f"dagster-webserver-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with docker.running(dagster_image.tag, name, command, env, network="host"):
        entries = None
        while time.monotonic() - started < 120 and docker.is_running(name):
            try:
                workspace = graphql(port, LOCATIONS)["workspaceOrError"]
                entries = workspace["locationEntries"]
                if entries and entries[0]["locationOrLoadError"] is not None:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
        served = time.monotonic() - started
        output = docker.logs(name)
    assert entries, f"the webserver did not serve the workspace:\n{output[-3000:]}"
    assert [entry["name"] for entry in entries] == ["data_platform"]
    assert entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries
    with psycopg.connect(POSTGRES_DSN.replace("dbname=test", f"dbname={dagster_database}")) as db:
        tables = {row[0] for row in db.execute("SELECT tablename FROM pg_tables").fetchall()}
    assert {"runs", "event_logs", "jobs"} <= tables  # Dagster's storage is the PostgreSQL one
    print(f"\n{dagster_image.tag}: the code location served over PostgreSQL in {served:.1f} s")
