import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from platform_assets.catalog import load_catalog
from platform_assets.definitions import defs
from platform_assets.orchestration.partitions import partitions_def
from platform_assets.settings import PROJECT_DIRECTORY
from testkit.main_process import DAGSTER

RAW, WAREHOUSE = dg.AssetKey(["raw", "flights"]), dg.AssetKey(["warehouse", "flights"])


def test_both_assets_with_lineage_daily_partitions_and_single_run_backfills():
    graph = defs.resolve_asset_graph()
    assert {RAW, WAREHOUSE} <= set(graph.get_all_asset_keys())
    assert graph.get(WAREHOUSE).parent_keys == {RAW}
    assets_def = graph.assets_def_for_key(RAW)
    keys = assets_def.partitions_def.get_partition_keys()
    assert (keys[0], keys[-1], len(keys)) == ("2013-01-01", "2013-12-31", 365)
    assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
    assert {(key.asset_key, key.name) for key in assets_def.check_keys} == {
        (RAW, "schema_matches"),
        (WAREHOUSE, "rows_match_lake"),
        (WAREHOUSE, "unique_key"),
    }


def test_each_export_is_a_partitioned_asset_downstream_of_its_sources_tables():
    graph = defs.resolve_asset_graph()
    export = dg.AssetKey(["exports", "carrier_daily_delays"])
    assert graph.get(export).parent_keys == {WAREHOUSE}
    assets_def = graph.assets_def_for_key(export)
    assert assets_def.partitions_def == graph.assets_def_for_key(RAW).partitions_def
    assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
    assert "FROM flights" in assets_def.specs_by_key[export].metadata["sql"].value


def test_the_schedule_comes_from_the_catalog_and_asks_for_the_last_ended_day():
    schedule = defs.resolve_schedule_def("flights_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    repository = defs.get_repository_def()
    with dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2013, 3, 2, 6, tzinfo=dt.UTC),
        repository_def=repository,
    ) as context:
        request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2013-03-01"
    with dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 28, 6, tzinfo=dt.UTC),
        repository_def=repository,
    ) as context:
        result = schedule.evaluate_tick(context)
    assert not result.run_requests
    assert "2026-11-27 is outside source flights's partitions" in result.skip_message


def test_weekly_and_monthly_partitions_match_the_platforms_periods(tmp_path: Path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "sources:\n"
        + "".join(
            f"""  - name: {name}
    read: {{kind: files, path: "x/*.csv", format: csv}}
    partitioning: {{granularity: {name}, start: 2024-01-01, end: 2024-04-01}}
"""
            for name in ("weekly", "monthly")
        )
    )
    sources = load_catalog(catalog).sources
    for source in sources:
        keys = partitions_def(source).get_partition_keys()
        periods = source.periods(keys[0], keys[-1])
        assert [period.key for period in periods] == keys
        assert periods[-1].end <= dt.date(2024, 4, 1)
    assert len(partitions_def(sources[0]).get_partition_keys()) == 13
    assert partitions_def(sources[1]).get_partition_keys() == [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
    ]


def in_the_project(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` run from the project's directory with `env` added, finished with exit 0."""
    result = subprocess.run(
        command,
        cwd=PROJECT_DIRECTORY,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_dagster_definitions_validate_passes(tmp_path: Path):
    env = {"DAGSTER_HOME": str(tmp_path), "PLATFORM_HOME": str(tmp_path)}
    result = in_the_project([DAGSTER, "definitions", "validate", "-w", "workspace.yaml"], env)
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_a_source_in_a_time_zone_has_dagster_partitions_of_its_local_days(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        """sources:
  - name: events
    read: {kind: files, path: "x/*.csv", format: csv}
    partitioning: {granularity: daily, start: 2024-03-30, end: 2024-04-02, timezone: Europe/Berlin}
"""
    )
    partitions = partitions_def(load_catalog(catalog).source("events"))
    assert partitions.timezone == "Europe/Berlin"
    assert partitions.get_partition_keys() == ["2024-03-30", "2024-03-31", "2024-04-01"]
    # the day of the change to summer time is 23 hours long, as the platform's period is
    window = partitions.time_window_for_partition_key("2024-03-31")
    hours = window.end.astimezone(dt.UTC) - window.start.astimezone(dt.UTC)
    assert hours == dt.timedelta(hours=23)


def test_local_definitions_leave_the_aws_client_unimported(tmp_path: Path):
    """dagster-aws (boto3 and its components) is imported for the state machine's client only:
    every run's process and code server loads the definitions."""
    env = {"PLATFORM_HOME": str(tmp_path), "PLATFORM_ENV": "local"}
    probe = (
        "import sys, platform_assets.definitions;"
        " print(sorted({'dagster_aws', 'boto3'} & set(sys.modules)))"
    )
    result = in_the_project([sys.executable, "-W", "ignore", "-c", probe], env)
    assert result.stdout.strip() == "[]"
