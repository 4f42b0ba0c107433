"""The commit a push makes to a table that exists, written without pyiceberg: pyiceberg reads
what it wrote (every file, each snapshot's summary, the snapshot before a rerun), a rerun never
imports pyiceberg, and a commit another run overtook is redone, losing neither run's files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from platform_assets.lake import Lake
from platform_assets.lake.iceberg_pointer import SqlPointer
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from testkit.engines import iceberg_table
from testkit.main_process import main_process

DAYS = {dt.date(2013, 1, 1): 842, dt.date(2013, 1, 2): 943, dt.date(2013, 1, 3): 914}


def push(home: Path, first: str, last: str, **env: str) -> str:
    arguments = ["push", "--source", "flights", "--partition", first, "--to", last, "--no-load"]
    result = main_process(arguments, {"PLATFORM_HOME": str(home), **env})
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_rerun_commits_without_pyiceberg_and_pyiceberg_reads_every_snapshot(
    home: Path, settings
) -> None:
    push(home, "2013-01-01", "2013-01-03")  # pyiceberg makes the table
    imports = push(home, "2013-01-02", "2013-01-03", PYTHONPROFILEIMPORTTIME="1")
    assert "fastavro" in imports
    assert "pyiceberg" not in imports and "sqlalchemy" not in imports

    table = iceberg_table(settings, "flights")
    current = table.current_snapshot()
    before = table.snapshot_by_id(current.parent_snapshot_id)
    assert table.scan().to_arrow().num_rows == sum(DAYS.values())
    assert table.scan(snapshot_id=before.snapshot_id).to_arrow().num_rows == sum(DAYS.values())
    summary = current.summary
    print(f"\nthe rerun's snapshot: {summary.additional_properties}")
    assert summary.operation.value == "overwrite"
    assert summary["added-data-files"] == summary["deleted-data-files"] == "2"
    assert summary["added-records"] == str(DAYS[dt.date(2013, 1, 2)] + DAYS[dt.date(2013, 1, 3)])
    assert summary["total-records"] == str(sum(DAYS.values()))
    assert summary["total-data-files"] == "3"
    assert current.sequence_number == before.sequence_number + 1
    lake_files = {url for day in DAYS for url in _manifest_urls(settings.lake, day)}
    assert {task.file.file_path for task in table.scan().plan_files()} == lake_files
    kinds = sorted(
        (m.added_files_count, m.existing_files_count, m.deleted_files_count)
        for m in current.manifests(table.io)
    )
    assert kinds == [(0, 0, 2), (0, 1, 0), (2, 0, 0)], kinds


class OvertakenPointer:
    """The catalog's real pointer; before its first swap, another run's push commits."""

    def __init__(self, pointer: SqlPointer, overtake) -> None:
        self.pointer, self.overtake, self.swaps = pointer, overtake, []

    def current(self, namespace: str, name: str) -> str | None:
        return self.pointer.current(namespace, name)

    def swap(self, namespace: str, name: str, expected: str, location: str) -> bool:
        if not self.swaps:
            self.overtake()
        swapped = self.pointer.swap(namespace, name, expected, location)
        self.swaps.append(swapped)
        return swapped


def test_a_commit_another_run_overtook_is_redone_from_the_manifests(home: Path, settings) -> None:
    push(home, "2013-01-01", "2013-01-03")
    push(home, "2013-01-02", "2013-01-02", PLATFORM_ICEBERG="off")  # the table lags January 2
    iceberg = settings.iceberg
    pointer = OvertakenPointer(iceberg.pointer, lambda: push(home, "2013-01-03", "2013-01-03"))
    lake = Lake(settings.lake.store, dataclasses.replace(iceberg, pointer=pointer))
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    schema = schema_to_pyarrow(iceberg_table(settings, "flights").schema(), include_field_ids=False)
    metadata = home / "lake" / "_platform" / "raw" / "flights" / "iceberg"
    committed = lake.commit_table(
        Layer.RAW, "flights", "test-run", [Period(dt.date(2013, 1, 2), dt.date(2013, 1, 3))], schema
    )
    assert committed is not None and committed.changed
    assert pointer.swaps == [False, True], "the first swap lost to the other run, then redone"

    table = iceberg_table(settings, "flights")
    lake_files = {url for day in DAYS for url in _manifest_urls(settings.lake, day)}
    assert {task.file.file_path for task in table.scan().plan_files()} == lake_files
    assert table.scan().to_arrow().num_rows == sum(DAYS.values())
    referenced = {Path(entry.metadata_file).name for entry in table.metadata.metadata_log}
    referenced.add(Path(table.metadata_location).name)
    left = {path.name for path in metadata.glob("*.metadata.json")}
    assert left == referenced, "the overtaken attempt's metadata file went"


def _manifest_urls(lake: Lake, day: dt.date) -> list[str]:
    manifest = lake.manifest(Layer.RAW, "flights", Period(day, day + dt.timedelta(days=1)))
    assert manifest is not None
    return [entry.url for entry in manifest.entries]
