"""The deployment's Dagster instance (deploy/dagster.yaml) on the machine's PostgreSQL: the year
of flights backfilled through the source's job as one run, every partition's figures stored."""

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from platform_assets.orchestration.event_log import PooledPostgresEventLogStorage
from platform_assets.settings import PROJECT_DIRECTORY
from testkit.deployed_dagster import deployed_instance, fresh_database
from testkit.main_process import job_execute

RAW, WAREHOUSE = dg.AssetKey(["raw", "flights"]), dg.AssetKey(["warehouse", "flights"])


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as name:
        yield name


def run_job(home: Path, environment: dict[str, str], first: str, last: str) -> int:
    """flights_job over `first`...`last` as one run, on that instance; its exit code."""
    return subprocess.run(
        job_execute("flights_job", first, last),
        cwd=PROJECT_DIRECTORY,
        env={**os.environ, **environment, "PLATFORM_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    ).returncode


def test_the_year_backfills_through_dagster_on_postgresql(
    home, tmp_path, settings, flights_per_day, database, monkeypatch
):
    environment = deployed_instance(tmp_path / "dagster", database)
    assert run_job(home, environment, "2013-01-01", "2013-12-31") == 0
    year = settings.warehouse.partition_rows("flights", dt.date(2013, 1, 1), dt.date(2014, 1, 1))
    assert year == flights_per_day
    assert sum(year.values()) == 336_776

    for name, value in environment.items():  # the instance reads its settings from them
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.from_config(environment["DAGSTER_HOME"]) as instance:
        assert isinstance(instance.event_log_storage, PooledPostgresEventLogStorage)
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        [run] = instance.get_runs()
        assert run.job_name == "flights_job"
        assert run.status == dg.DagsterRunStatus.SUCCESS
        for key in (RAW, WAREHOUSE):
            records = instance.fetch_materializations(key, limit=1000).records
            counts = {
                r.partition_key: r.asset_materialization.metadata["dagster/row_count"].value
                for r in records
            }
            assert counts == {day.isoformat(): n for day, n in flights_per_day.items()}
        assert instance.get_materialized_partitions(WAREHOUSE) == {
            day.isoformat() for day in flights_per_day
        }


def test_a_failed_range_marks_its_unwritten_partitions_failed_on_postgresql(
    home, tmp_path, settings, database, monkeypatch
):
    """Why DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS stays unset: with it, Dagster plans a
    range as one event and marks none of a failed run's partitions failed."""
    drop = home / "landing/flights/2013/03/flights_2013-03-05.csv"
    drop.write_text(drop.read_text() + "2013,3,5,not,a,row\n")
    environment = deployed_instance(tmp_path / "dagster", database)
    assert run_job(home, environment, "2013-03-01", "2013-03-10") == 1

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    source = settings.catalog.source("flights")
    days = {period.key for period in source.periods("2013-03-01", "2013-03-10")}
    with dg.DagsterInstance.from_config(environment["DAGSTER_HOME"]) as instance:
        published = instance.get_materialized_partitions(RAW)
        assert "2013-03-04" in published and "2013-03-05" not in published
        events = instance.event_log_storage
        failed = events.get_latest_asset_partition_materialization_attempts_without_materializations
        assert set(failed(RAW)) == days - published
        assert set(failed(WAREHOUSE)) == days
