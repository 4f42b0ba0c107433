"""The lake read by engines we did not write: the Iceberg table (pyiceberg) and each table's
folder (pandas, pyarrow, polars, DuckDB) count exactly what was pushed; Iceberg readers see only
whole snapshots while a rerun replaces the year, the snapshot before a rerun reads what it
replaced, a killed push leaves the table as it was, and a copied lake loads from its new place."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from platform_assets.settings import load_settings
from testkit.engines import folder_counts, iceberg_table
from testkit.main_process import start_main

YEAR_ROWS = 336_776
JANUARY_ROWS = 27_004


def push(run_main, first: str, last: str, *options: str) -> None:
    result = run_main("push", "--source", "flights", "--partition", first, "--to", last, *options)
    assert result.returncode == 0, result.stderr


def start_year_push(home: Path):
    """`main.py push` of the year, lake only, started in the background."""
    arguments = ["--source", "flights", "--partition", "2013-01-01", "--to", "2013-12-31"]
    return start_main(["push", *arguments, "--no-load"], {"PLATFORM_HOME": str(home)})


def test_a_pushed_year_counts_the_same_in_iceberg_and_in_every_folder_reader(
    run_main, settings, home: Path
) -> None:
    push(run_main, "2013-01-01", "2013-12-31", "--no-load")
    table = iceberg_table(settings, "flights")
    rows = table.scan().to_arrow()
    assert rows.num_rows == YEAR_ROWS
    assert str(rows.schema.field("dt").type) == "date32[day]"  # the partition value, projected
    counts = folder_counts(home / "lake" / "raw" / "flights")
    print(f"\nIceberg {rows.num_rows:,}; folder readers {counts}")
    assert {engine: count for engine, (count, _) in counts.items()} == dict.fromkeys(
        ("pandas", "pyarrow", "polars", "duckdb"), YEAR_ROWS
    )
    # one dt column each, of one type: what the folder name gives each reader
    assert {engine: kind for engine, (_, kind) in counts.items()} == {
        "pandas": "category",
        "pyarrow": "string",
        "polars": "Date",
        "duckdb": "DATE",
    }
    leases = home / "lake" / "_platform" / "raw" / "flights" / "leases"
    assert not any(leases.iterdir()), "a released lease is removed"


def test_duckdb_reads_the_iceberg_table_when_its_extension_installs(run_main, settings) -> None:
    push(run_main, "2013-01-01", "2013-01-31", "--no-load")
    metadata = iceberg_table(settings, "flights").metadata_location
    connection = duckdb.connect()
    try:
        connection.execute("INSTALL iceberg")
        connection.execute("LOAD iceberg")
    except duckdb.Error as error:
        pytest.skip(f"DuckDB's iceberg extension cannot be installed here: {error}")
    count = connection.execute(f"SELECT count(*) FROM iceberg_scan('{metadata}')").fetchone()
    assert count == (JANUARY_ROWS,)


def test_a_reader_polling_the_table_during_a_rerun_sees_only_whole_snapshots(
    run_main, settings, home: Path
) -> None:
    push(run_main, "2013-01-01", "2013-12-31", "--no-load")
    rerun = start_year_push(home)
    seen: dict[int, int] = {}  # snapshot id → rows read at it
    gone = 0  # reads of a snapshot whose replaced files went while it was being read
    done = threading.Event()
    threading.Thread(target=lambda: (rerun.wait(), done.set()), daemon=True).start()
    while not done.is_set() or not seen:
        table = iceberg_table(settings, "flights")
        snapshot = table.current_snapshot()
        try:
            seen[snapshot.snapshot_id] = (
                table.scan(snapshot_id=snapshot.snapshot_id).to_arrow().num_rows
            )
        except FileNotFoundError:
            gone += 1
    _, stderr = rerun.communicate()
    assert rerun.returncode == 0, stderr
    final = iceberg_table(settings, "flights").current_snapshot().snapshot_id
    seen[final] = iceberg_table(settings, "flights").scan().to_arrow().num_rows
    print(f"\n{len(seen)} snapshots read while the year was pushed again, {gone} reads retried")
    assert len(seen) >= 2, "the poller saw the snapshot before the rerun and the one after"
    assert set(seen.values()) == {YEAR_ROWS}, seen


def test_the_snapshot_before_a_rerun_reads_the_rows_it_replaced(
    run_main, settings, home: Path
) -> None:
    push(run_main, "2013-01-01", "2013-01-03", "--no-load")
    before = iceberg_table(settings, "flights").current_snapshot().snapshot_id
    drop = home / "landing" / "flights" / "2013" / "01" / "flights_2013-01-02.csv"
    lines = drop.read_text().splitlines(keepends=True)
    drop.write_text("".join(lines[:101]))  # the header and 100 of its 943 rows
    push(run_main, "2013-01-01", "2013-01-03", "--no-load")
    table = iceberg_table(settings, "flights")
    now = table.scan().to_arrow()
    previous = table.scan(snapshot_id=table.current_snapshot().parent_snapshot_id).to_arrow()
    days = {day: int(count) for day, count in zip(*_per_day(now), strict=True)}
    assert days == {dt.date(2013, 1, 1): 842, dt.date(2013, 1, 2): 100, dt.date(2013, 1, 3): 914}
    assert dict(zip(*_per_day(previous), strict=True))[dt.date(2013, 1, 2)] == 943
    assert previous.num_rows == 842 + 943 + 914
    assert before not in {snapshot.snapshot_id for snapshot in table.snapshots()}, (
        "the snapshot whose files left the folder expired"
    )
    folder = folder_counts(home / "lake" / "raw" / "flights")
    assert folder["pyarrow"][0] == 842 + 100 + 914, "the folder holds only the current files"


def test_a_push_with_iceberg_back_on_settles_files_a_push_with_it_off_removed(
    run_main, settings
) -> None:
    """The table still names files an Iceberg-off rerun deleted: they just leave it (no retired
    copy can be made of them), and the table then holds what the folders hold."""
    push(run_main, "2013-01-01", "2013-01-03", "--no-load")
    result = run_main(
        "push", "--source", "flights", "--partition", "2013-01-01", "--to", "2013-01-03",
        "--no-load", env={"PLATFORM_ICEBERG": "off"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    push(run_main, "2013-01-01", "2013-01-03", "--no-load")
    table = iceberg_table(settings, "flights")
    assert table.scan().to_arrow().num_rows == 842 + 943 + 914
    files = {task.file.file_path for task in table.scan().plan_files()}
    assert all(Path(url.removeprefix("file://")).exists() for url in files), files


def test_a_push_after_the_lake_was_removed_makes_the_table_again(
    run_main, settings, home: Path
) -> None:
    """The catalog still names the removed lake's metadata: the next push starts the table anew
    instead of failing on a missing file, push after push."""
    push(run_main, "2013-01-01", "2013-01-02", "--no-load")
    shutil.rmtree(home / "lake")
    push(run_main, "2013-01-02", "2013-01-03", "--no-load")
    table = iceberg_table(settings, "flights")
    assert table.scan().to_arrow().num_rows == 943 + 914


def test_reruns_leave_the_current_snapshot_only_the_manifests_of_its_files(
    run_main, settings
) -> None:
    """pyiceberg 0.12's overwrite carries forward manifests that hold only deleted files: each
    rerun would add two to every later snapshot, and each commit would read them all."""
    push(run_main, "2013-01-01", "2013-01-03", "--no-load")
    for _ in range(4):
        push(run_main, "2013-01-02", "2013-01-02", "--no-load")
    table = iceberg_table(settings, "flights")
    manifests = table.current_snapshot().manifests(table.io)
    kinds = sorted(
        (manifest.added_files_count, manifest.existing_files_count, manifest.deleted_files_count)
        for manifest in manifests
    )
    print(f"\nafter 4 reruns of a day: manifests (added, existing, deleted) {kinds}")
    deleted_only = [kind for kind in kinds if not kind[0] and not kind[1]]
    assert len(deleted_only) <= 1, kinds  # the last rerun's own record of what it deleted
    assert len(manifests) <= 3, kinds  # and the rerun's files, the other days'
    assert table.scan().to_arrow().num_rows == 842 + 943 + 914


def _per_day(rows) -> tuple[list, list]:
    counts = rows.group_by("dt").aggregate([([], "count_all")]).sort_by("dt")
    return counts["dt"].to_pylist(), counts["count_all"].to_pylist()


def test_a_copied_lake_loads_and_checks_from_its_new_place(
    run_main, home: Path, tmp_path: Path
) -> None:
    push(run_main, "2013-01-01", "2013-01-31")
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for folder in ("lake", "landing"):  # the lake, and the upstream's drops for the last push
        shutil.copytree(home / folder, copy / folder)
    shutil.rmtree(home)
    env = {"PLATFORM_HOME": str(copy)}
    for command in ("load", "check"):
        result = _main(command, env)
        assert result.returncode == 0, result.stderr
    status = _main("status", env)
    assert status.returncode == 0, status.stderr
    assert f"total {JANUARY_ROWS:,} {JANUARY_ROWS:,}" in " ".join(status.stdout.split())

    missing = next((copy / "lake" / "raw" / "flights" / "dt=2013-01-07").glob("*.parquet"))
    missing.unlink()
    failed = _main("check", env)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr, failed.stderr
    lines = [line for line in failed.stderr.splitlines() if line.startswith("main.py:")]
    assert len(lines) == 1, failed.stderr
    assert f"main.py: failed: file://{missing}: a published data file is missing" in lines[0]
    # a push in the new place starts its Iceberg table there, with every partition
    copied = load_settings(env)
    result = _main("push", env, "2013-01-07", "2013-01-07")
    assert result.returncode == 0, result.stderr
    table = iceberg_table(copied, "flights")
    assert table.location() == f"file://{copy}/lake/raw/flights"
    assert table.scan().to_arrow().num_rows == JANUARY_ROWS


def _main(command: str, env: dict[str, str], first: str = "2013-01-01", last: str = "2013-01-31"):
    from testkit.main_process import main_process

    return main_process([command, "--source", "flights", "--partition", first, "--to", last], env)


def test_on_s3_the_table_is_in_glue_and_a_copied_prefix_loads(aws_env) -> None:
    import boto3
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    first, last, rows = "2013-01-01", "2013-01-03", 842 + 943 + 914
    for _ in (1, 2):  # the second replaces every file: retired copies, one expired snapshot
        result = _main("push", aws_env, first, last)
        assert result.returncode == 0, result.stderr
    settings = load_settings(aws_env)
    table = iceberg_table(settings, "flights")
    lake = aws_env["PLATFORM_LAKE_URI"]
    assert table.metadata_location.startswith(f"{lake}/_platform/raw/flights/iceberg/")
    assert table.scan().to_arrow().num_rows == rows
    previous = table.scan(snapshot_id=table.current_snapshot().parent_snapshot_id)
    assert previous.to_arrow().num_rows == rows
    glue = boto3.client("glue").get_table(
        DatabaseName=aws_env["PLATFORM_GLUE_DATABASE"], Name="raw_flights"
    )
    assert glue["Table"]["Parameters"]["table_type"].upper() == "ICEBERG"
    bucket, prefix = lake.removeprefix("s3://").split("/", 1)
    s3 = pafs.S3FileSystem(endpoint_override=aws_env["AWS_ENDPOINT_URL"], region="us-east-1")
    folder = ds.dataset(f"{bucket}/{prefix}/raw/flights", filesystem=s3, partitioning="hive")
    assert folder.count_rows() == rows, "the prefix holds only the current files"

    client = boto3.client("s3")
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    for key in keys:  # the lake copied to another prefix, then the original removed
        moved = "copied/" + key.removeprefix(prefix + "/")
        client.copy_object(Bucket=bucket, Key=moved, CopySource={"Bucket": bucket, "Key": key})
        client.delete_object(Bucket=bucket, Key=key)
    env = {**aws_env, "PLATFORM_LAKE_URI": f"s3://{bucket}/copied"}
    for command in ("load", "check"):
        result = _main(command, env, first, last)
        assert result.returncode == 0, result.stderr
    loaded = load_settings(env).warehouse.partition_rows(
        "flights", dt.date(2013, 1, 1), dt.date(2013, 1, 4)
    )
    assert sum(loaded.values()) == rows


def test_a_killed_rerun_leaves_the_table_whole_and_the_next_push_settles_it(
    run_main, settings, home: Path
) -> None:
    import os
    import signal
    import time

    push(run_main, "2013-01-01", "2013-12-31", "--no-load")
    folder = home / "lake" / "raw" / "flights"
    before = set(folder.rglob("*.parquet"))
    rerun = start_year_push(home)
    notes = home / "lake" / "_platform" / "raw" / "flights" / "iceberg-pending"
    while rerun.poll() is None and not (notes.exists() and any(notes.iterdir())):
        time.sleep(0.01)  # until its first manifest is on its way
    time.sleep(0.3)
    os.kill(rerun.pid, signal.SIGKILL)
    rerun.communicate()
    assert rerun.returncode == -signal.SIGKILL, "the rerun ended before it was killed"
    assert iceberg_table(settings, "flights").scan().to_arrow().num_rows == YEAR_ROWS
    doubled = folder_counts(folder)["pyarrow"][0]
    print(f"\nafter the kill: Iceberg {YEAR_ROWS:,}, the folder {doubled:,} ({len(before)} files)")
    push(run_main, "2013-01-01", "2013-01-01", "--no-load")  # any push of the table takes it in
    assert not any(notes.iterdir())
    assert iceberg_table(settings, "flights").scan().to_arrow().num_rows == YEAR_ROWS
