"""The platform's event logs store a batch of asset events at once (the local SQLite one and the
deployment's PostgreSQL one), and Dagster then tells each partition's truth as it does from
events stored one by one: real runs of a range, a failed one among them, on both storages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry

from platform_assets.orchestration.event_log import (
    KeptEngineSqliteEventLogStorage,
    PooledPostgresEventLogStorage,
)
from platform_assets.orchestration.local_instance import write_local_instance
from testkit.deployed_dagster import deployed_instance, fresh_database

DAYS = dg.DailyPartitionsDefinition(start_date="2013-01-01", end_date="2013-02-01")
RANGE = {
    "dagster/asset_partition_range_start": "2013-01-01",
    "dagster/asset_partition_range_end": "2013-01-31",
}
JANUARY = {f"2013-01-{day:02d}" for day in range(1, 32)}


def result(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(context.partition_keys)},
        data_version=dg.DataVersion(context.run.run_id),
    )


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def daily(context) -> dg.MaterializeResult:  # type: ignore[no-untyped-def]
    """A range's partitions, one output."""
    if context.run.tags.get("fail"):
        raise RuntimeError("upstream broke")
    return result(context)


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[daily])
def daily_table(context) -> dg.MaterializeResult:  # type: ignore[no-untyped-def]
    """Downstream of `daily`, in the same runs: a run's planned events are of both."""
    return result(context)


ASSETS = [daily, daily_table]
Instance = Callable[[Path], AbstractContextManager[dg.DagsterInstance]]


@contextmanager
def sqlite_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The local instance `make run` writes."""
    write_local_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage) is KeptEngineSqliteEventLogStorage
        yield instance


@contextmanager
def postgres_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The deployment's instance (deploy/dagster.yaml) in a fresh database."""
    with fresh_database() as database, pytest.MonkeyPatch.context() as patch:
        for name, value in deployed_instance(home, database).items():
            if name != "DAGSTER_EVENT_BATCH_SIZE":  # each test sets its own
                patch.setenv(name, value)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.event_log_storage) is PooledPostgresEventLogStorage
            yield instance


STORAGES = [
    pytest.param(sqlite_instance, KeptEngineSqliteEventLogStorage, id="sqlite"),
    pytest.param(postgres_instance, PooledPostgresEventLogStorage, id="postgresql"),
]


def asset_state(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, object]:
    """What Dagster tells of an asset's partitions, and each run's events of it in order."""
    storage = instance.event_log_storage
    records = instance.fetch_materializations(key, limit=1000).records
    failed = storage.get_latest_asset_partition_materialization_attempts_without_materializations
    runs = list(reversed(instance.get_runs()))
    run_number = {run.run_id: number for number, run in enumerate(runs)}
    return {
        "materialized": instance.get_materialized_partitions(key),
        "figures": sorted(
            (
                r.partition_key,
                r.asset_materialization.metadata["dagster/row_count"].value,
                run_number[r.run_id],
            )
            for r in records
        ),
        "failed": set(failed(key)),
        "last run": run_number[instance.get_asset_records([key])[0].asset_entry.last_run_id],
        "indexed tags": sorted(  # the data versions, each its run's id
            tuple(sorted((name, run_number[value]) for name, value in tags.items()))
            for tags in storage.get_event_tags_for_asset(key)
        ),
        "events": [
            [
                (e.dagster_event_type, e.dagster_event.partition)
                for e in instance.all_logs(run.run_id)
                if e.dagster_event and e.dagster_event.asset_key == key
            ]
            for run in runs
        ],
    }


@pytest.mark.parametrize(("instance", "storage"), STORAGES)
def test_batched_asset_events_tell_each_partitions_truth_as_events_stored_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: Instance, storage: type
):
    batches: list[int] = []
    store_event_batch = storage.store_event_batch

    def counted(self: object, events: list[EventLogEntry]) -> None:
        batches.append(len(events))
        store_event_batch(self, events)

    monkeypatch.setattr(storage, "store_event_batch", counted)
    states = []
    for batched in (False, True):
        if batched:
            monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
        with instance(tmp_path / f"batched-{batched}") as dagster:
            for tags in (RANGE, {**RANGE, "fail": "1"}, RANGE):
                dg.materialize(ASSETS, instance=dagster, tags=tags, raise_on_error=False)
            states.append([asset_state(dagster, asset.key) for asset in ASSETS])
        # per run: the planned events of both assets, then each asset's materializations
        assert batches == ([62, 31, 31, 62, 62, 31, 31] if batched else [])
    one_by_one, batched_state = states
    assert batched_state == one_by_one
    for state in one_by_one:
        assert state["materialized"] == JANUARY and state["failed"] == set()
        assert [len(run) for run in state["events"]] == [62, 31, 62]
        assert state["last run"] == 2
        assert {run for _, _, run in state["figures"]} == {0, 2}
        assert [run for ((_, run),) in state["indexed tags"]] == [0] * 31 + [2] * 31


@pytest.mark.parametrize(("instance", "storage"), STORAGES)
def test_a_failed_batched_range_marks_every_partition_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: Instance, storage: type
):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    with instance(tmp_path / "dagster") as dagster:
        dg.materialize(ASSETS, instance=dagster, tags={**RANGE, "fail": "1"}, raise_on_error=False)
        states = [asset_state(dagster, asset.key) for asset in ASSETS]
    for state in states:
        assert state["materialized"] == set() and state["failed"] == JANUARY
