"""Dagster runs main.py through Pipes: subsets map to commands, and a year backfills as one run."""

import datetime as dt
import re

import dagster as dg
import duckdb
import pytest

from platform_assets.layers import Layer
from platform_assets.orchestration.assets import source_assets
from platform_assets.orchestration.runner import PIPES_CLIENT, pipes_client
from platform_assets.settings import Settings
from testkit.main_process import backfill_flights
from testkit.summary import SUMMARY_LINES

RAW, WAREHOUSE = dg.AssetKey(["raw", "flights"]), dg.AssetKey(["warehouse", "flights"])


def materialize(
    settings: Settings, selection, partition_key: str | None, **options
) -> dg.ExecuteInProcessResult:
    """Run a selection of the flights assets and checks in process (main.py still a subprocess);
    `options` for execute_in_process (tags, instance)."""
    source = settings.catalog.source("flights")
    defs = dg.Definitions(
        assets=[source_assets(source, settings)],
        jobs=[dg.define_asset_job("selected", selection=selection)],
        resources={PIPES_CLIENT: pipes_client(settings)},
    )
    job = defs.resolve_job_def("selected")
    return job.execute_in_process(partition_key=partition_key, raise_on_error=False, **options)


def test_each_selection_runs_the_matching_command(settings, flights_per_day):
    day = dt.date(2013, 2, 1)
    rows = settings.warehouse.partition_rows

    raw_only = materialize(settings, dg.AssetSelection.assets(RAW), day.isoformat())
    assert raw_only.success
    assert settings.lake.manifest(
        Layer.RAW, "flights", settings.catalog.source("flights").period("2013-02-01")
    )
    assert rows("flights", day, day + dt.timedelta(1)) == {}
    [event] = raw_only.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["dagster/row_count"].value == flights_per_day[day]
    assert metadata["files"].value == 1
    assert len(metadata["schema_fingerprint"].value) == 12
    assert metadata["partitions"].value == "2013-02-01..2013-02-01 (1)"
    [check] = raw_only.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("schema_matches", True)

    warehouse_only = materialize(settings, dg.AssetSelection.assets(WAREHOUSE), day.isoformat())
    assert warehouse_only.success
    assert rows("flights", day, day + dt.timedelta(1)) == {day: flights_per_day[day]}
    assert {c.check_name: c.passed for c in warehouse_only.get_asset_check_evaluations()} == {
        "rows_match_lake": True,
        "unique_key": True,
    }

    # checks alone run unpartitioned, over all of the source's partitions
    checks_only = materialize(settings, dg.AssetSelection.checks_for_assets(WAREHOUSE), None)
    assert checks_only.success
    assert not checks_only.get_asset_materialization_events()
    verdicts = {c.check_name: c for c in checks_only.get_asset_check_evaluations()}
    assert verdicts["unique_key"].passed
    assert verdicts["rows_match_lake"].passed
    assert verdicts["rows_match_lake"].metadata["partitions_compared"].value == 1


def test_a_check_fails_when_the_warehouse_disagrees_with_the_lake(settings):
    day = dt.date(2013, 2, 2)
    assert materialize(settings, dg.AssetSelection.assets(RAW, WAREHOUSE), day.isoformat()).success
    with duckdb.connect(str(settings.home / "warehouse.duckdb")) as connection:
        connection.execute("DELETE FROM flights WHERE carrier = 'UA' AND dt = ?", [day])
    result = materialize(settings, dg.AssetSelection.checks_for_assets(WAREHOUSE), None)
    verdicts = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert verdicts["rows_match_lake"].passed is False
    assert "2013-02-02: warehouse" in verdicts["rows_match_lake"].metadata["summary"].value


def test_a_range_logs_throttled_progress_not_a_line_per_partition(settings):
    instance = dg.DagsterInstance.ephemeral()
    january = {
        "dagster/asset_partition_range_start": "2013-01-01",
        "dagster/asset_partition_range_end": "2013-01-31",
    }
    result = materialize(
        settings, dg.AssetSelection.assets(RAW, WAREHOUSE), None, tags=january, instance=instance
    )
    assert result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    progress = [message for message in messages if re.match(r"push flights: \d+/31 ", message)]
    SUMMARY_LINES.append(f"progress through Pipes, January: {len(progress)} lines in the run log")
    assert 2 <= len(progress) <= 15, progress  # every tenth (or 15 s), not 31
    assert progress[-1].startswith("push flights: 31/31 partitions (100%), 27,004 rows, ")
    assert not [message for message in messages if "partition 2013-01-05: " in message]


def test_a_failing_push_fails_the_step_with_the_cause(settings, home):
    drop = home / "landing/flights/2013/02/flights_2013-02-03.csv"
    drop.write_text(drop.read_text() + "2013,2,3,not,a,row\n")
    result = materialize(settings, dg.AssetSelection.assets(RAW, WAREHOUSE), "2013-02-03")
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    description = failure.user_failure_data.description
    assert description.startswith("source flights partition 2013-02-03: file://")
    assert description.endswith("flights_2013-02-03.csv: line 816: expected 19 columns, got 6")
    assert not result.get_asset_materialization_events()


def test_a_range_that_fails_midway_records_what_it_published_and_how_to_resume(
    settings, home, tmp_path, flights_per_day
):
    drop = home / "landing/flights/2013/03/flights_2013-03-05.csv"
    drop.write_text(drop.read_text() + "2013,3,5,not,a,row\n")
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()

    result = backfill_flights(
        {"PLATFORM_HOME": str(home)}, dagster_home, "2013-03-01", "2013-03-10"
    )

    assert result.returncode != 0
    source = settings.catalog.source("flights")
    days = [period.key for period in source.periods("2013-03-01", "2013-03-10")]
    # the four before the bad day, and any after it that threads published alongside
    published = [
        key for key in days if settings.lake.manifest(Layer.RAW, "flights", source.period(key))
    ]
    assert published[:4] == days[:4] and days[4] not in published
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.get_materialized_partitions(RAW) == set(published)  # the lake's truth
        assert instance.get_materialized_partitions(WAREHOUSE) == set()  # the load never ran
        for key in published:
            [record] = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=RAW, asset_partitions=[key]), limit=5
            ).records
            rows = record.asset_materialization.metadata["dagster/row_count"].value
            assert rows == flights_per_day[dt.date.fromisoformat(key)]
        attempts = instance.event_log_storage
        failed = (
            attempts.get_latest_asset_partition_materialization_attempts_without_materializations
        )
        assert set(failed(RAW)) == set(days) - set(published)
        assert set(failed(WAREHOUSE)) == set(days)
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.FAILURE
        [failure] = [
            record.event_log_entry.dagster_event
            for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
            ).records
        ]
    description = failure.step_failure_data.user_failure_data.description
    assert re.search(
        rf"; {len(published)} of 10 partitions published"
        r" \(2013-03-01\.\.2013-03-04(, [\d., -]+)?\), none loaded; to resume:"
        r" python main\.py push --source flights --partition 2013-03-05"
        r" --to 2013-03-10, then python main\.py load --source flights --partition 2013-03-01"
        r" --to 2013-03-04$",
        description,
    ), description


@pytest.mark.parametrize(("last", "rows"), [("2013-01-31", 27_004), ("2013-12-31", 336_776)])
def test_a_range_backfills_through_dagster_as_one_run_and_again_without_duplicates(
    settings, home, tmp_path, flights_per_day, last, rows
):
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    end = dt.date.fromisoformat(last) + dt.timedelta(days=1)
    expected = {day: count for day, count in flights_per_day.items() if day < end}
    for attempt in (1, 2):
        result = backfill_flights({"PLATFORM_HOME": str(home)}, dagster_home, "2013-01-01", last)
        assert result.returncode == 0, result.stderr[-3000:]
        loaded = settings.warehouse.partition_rows("flights", dt.date(2013, 1, 1), end)
        assert loaded == expected
        assert sum(loaded.values()) == rows
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            assert len(instance.get_runs()) == attempt  # one run per backfill, not one per day
            # each partition its own figures: one event per partition and asset, each run
            for key in (RAW, WAREHOUSE):
                records = instance.fetch_materializations(key, limit=1000).records
                assert len(records) == attempt * len(expected)
                counts = {
                    record.partition_key: record.asset_materialization.metadata[
                        "dagster/row_count"
                    ].value
                    for record in records[: len(expected)]
                }
                assert counts == {day.isoformat(): count for day, count in expected.items()}
    assert (expected[dt.date(2013, 1, 5)], expected[dt.date(2013, 1, 31)]) == (720, 928)
