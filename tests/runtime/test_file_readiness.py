"""A files source reads a landing file only once it is complete (its marker, or settled), and
reads the CSV nulls its catalog names: main.py as a process, locally and on S3."""

import datetime as dt
import os
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pyarrow as pa
import pytest
from pydantic import ValidationError

from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, period_at
from platform_assets.settings import load_settings
from platform_assets.sources.files.reader import read_files
from platform_assets.sources.files.readiness import FileNotReadyError, Readiness
from platform_assets.sources.files.spec import FilesRead, ReadyRule
from platform_assets.storage import LocalStore, S3Store
from testkit.main_process import start_main
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import land, landed
from testkit.warehouse import warehouse_query

CATALOG = """
sources:
  - name: readings
    read:
      kind: files
      path: "{base}/{{dt:%Y-%m-%d}}.csv"
      format: csv
      {read}
    partitioning: {{granularity: daily, start: 2024-01-01, end: 2024-02-01}}
    columns: {{id: int64, note: string}}
"""
DAY = "2024-01-02"
HEADER = "id,note\n"


def local_env(tmp_path: Path) -> dict[str, str]:
    return {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(tmp_path / "home")}


def catalog(env, tmp_path: Path, base: str, read: str = "") -> dict[str, str]:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.format(base=base, read=read))
    return {**env, "PLATFORM_CATALOG": str(path)}


def push(env, day: str = DAY) -> subprocess.Popen[str]:
    return start_main(["push", "--source", "readings", "--partition", day], env)


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def lake_rows(env, day: str = DAY) -> pa.Table | None:
    settings = load_settings(env)
    source = settings.catalog.source("readings")
    manifest = settings.lake.manifest(Layer.RAW, "readings", source.period(day))
    return None if manifest is None else settings.lake.read(manifest).select(["id", "note"])


def lake_files(env, day: str = DAY) -> list[str]:
    settings = load_settings(env)
    period = settings.catalog.source("readings").period(day)
    directory = settings.lake.partition_directory(Layer.RAW, "readings", period)
    return settings.lake.store.list_files(directory)


class Appender(threading.Thread):
    """Appends rows `id,row id` to a CSV, each in two writes, until stopped: a reader that does
    not wait sees a torn last row ('7,row ')."""

    def __init__(self, path: Path, first_id: int) -> None:
        super().__init__(daemon=True)
        self.path, self.next_id = path, first_id
        self.stop = threading.Event()

    def run(self) -> None:
        with self.path.open("a") as file:
            while not self.stop.is_set():
                file.write(f"{self.next_id},row ")
                file.flush()
                time.sleep(0.01)
                file.write(f"{self.next_id}\n")
                file.flush()
                self.next_id += 1
                time.sleep(0.04)

    def __enter__(self) -> "Appender":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.join()


def a_drop_being_written(tmp_path: Path) -> tuple[str, Path]:
    base = landed(
        {}, tmp_path, {f"{DAY}.csv": HEADER + "".join(f"{i},row {i}\n" for i in range(10))}
    )
    return base, Path(base) / f"{DAY}.csv"


def wait_for_log(process: subprocess.Popen[str], text: str) -> list[str]:
    """The stderr lines of `process` up to the first holding `text` (all of them if none does)."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            break
    return lines


def test_a_file_being_written_is_published_whole_once_it_settles(tmp_path):
    base, drop = a_drop_being_written(tmp_path)
    env = catalog(local_env(tmp_path), tmp_path, base, "ready: {wait_seconds: 60}")
    with Appender(drop, first_id=10) as appender:
        process = push(env)
        seen = wait_for_log(process, "waiting up to")
        assert "to be ready" in seen[-1], "".join(seen)
        time.sleep(1.5)  # the push waits while rows keep coming
    stopped = time.monotonic()
    _, rest = process.communicate(timeout=120)
    stderr = "".join(seen) + rest
    assert process.returncode == 0, stderr
    final_rows = drop.read_text().count("\n") - 1
    table = lake_rows(env)
    assert table is not None
    assert table.num_rows == final_rows == appender.next_id
    assert final_rows > 30
    assert table["id"].to_pylist() == list(range(final_rows))
    assert table["note"].to_pylist() == [f"row {i}" for i in range(final_rows)]  # none torn
    SUMMARY_LINES.append(
        f"file readiness: a CSV appended to during the push published whole: {final_rows} rows,"
        f" {time.monotonic() - stopped:.1f} s from the writer's last row to the push's end"
    )


def test_without_a_wait_a_file_being_written_fails_the_partition_and_publishes_nothing(tmp_path):
    base, drop = a_drop_being_written(tmp_path)
    env = catalog(local_env(tmp_path), tmp_path, base)
    with Appender(drop, first_id=10) as appender:
        process = push(env)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert last_line(stderr) == (
        f"main.py: failed: source readings partition {DAY}: file://{drop}: not ready: still being"
        " written (changed within 1 s, read.ready.settle_seconds)"
    )
    assert lake_rows(env) is None
    assert lake_files(env) == []
    SUMMARY_LINES.append(
        f"file readiness: no wait: the push failed while {appender.next_id} rows were written,"
        " 0 published"
    )


def test_a_marker_gates_the_file_and_one_landed_during_the_wait_is_picked_up(either_env, tmp_path):
    files = {f"{day}.csv": HEADER + f"1,{day}\n2,second\n" for day in (DAY, "2024-01-03")}
    base = landed(either_env, tmp_path, files)
    gated = catalog(either_env, tmp_path, base, 'ready: {marker: "{name}.done"}')
    url = f"{base}/{DAY}.csv" if base.startswith("s3://") else f"file://{base}/{DAY}.csv"

    refused = push(gated)
    _, stderr = refused.communicate(timeout=120)
    assert refused.returncode == 1, stderr
    assert last_line(stderr) == (
        f"main.py: failed: source readings partition {DAY}: {url}: not ready: no marker {url}.done"
    )
    assert lake_rows(gated) is None and lake_files(gated) == []

    land(base, {f"{DAY}.csv.done": b""})
    first = push(gated)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert lake_rows(gated).to_pylist() == [{"id": 1, "note": DAY}, {"id": 2, "note": "second"}]

    waiting = catalog(
        either_env, tmp_path, base, 'ready: {marker: "{name}.done", wait_seconds: 60}'
    )
    later = push(waiting, "2024-01-03")
    seen = wait_for_log(later, "waiting up to")
    land(base, {"2024-01-03.csv.done": b""})
    _, rest = later.communicate(timeout=120)
    assert later.returncode == 0, "".join(seen) + rest
    assert "to be ready" in seen[-1]
    assert lake_rows(waiting, "2024-01-03")["note"].to_pylist() == ["2024-01-03", "second"]
    settings = load_settings(waiting)
    rows = warehouse_query(settings, 'SELECT dt, COUNT(*) FROM "{schema}".readings GROUP BY dt')
    assert sorted(rows) == [(dt.date(2024, 1, 2), 2), (dt.date(2024, 1, 3), 2)]


NULLS_CSV = 'id,note\n1,NA\n2,\n3,\\N\n4,""\n5,null\n6,x\n'


@pytest.mark.parametrize(
    ("null_values", "notes"),
    [
        ('["", "NA", "\\\\N"]', [None, None, None, None, "null", "x"]),
        ("[]", ["NA", "", "\\N", "", "null", "x"]),
    ],
)
def test_null_values_name_the_strings_read_as_null(either_env, tmp_path, null_values, notes):
    base = landed(either_env, tmp_path, {f"{DAY}.csv": NULLS_CSV})
    env = catalog(either_env, tmp_path, base, f"null_values: {null_values}")
    process = push(env)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert lake_rows(env)["note"].to_pylist() == notes
    settings = load_settings(env)
    rows = warehouse_query(settings, 'SELECT id, note FROM "{schema}".readings ORDER BY id')
    assert [note for _, note in rows] == notes


# The settle rule itself, on real files and their real modification times.

DAY_PERIOD = period_at(Granularity.DAILY, dt.date(2024, 1, 2))


def a_file(tmp_path: Path, age_seconds: float) -> Path:
    path = tmp_path / "drop.csv"
    path.write_text(HEADER + "1,a\n")
    modified = time.time() - age_seconds
    os.utime(path, (modified, modified))
    return path


def test_a_file_modified_longer_ago_than_settle_seconds_is_ready_at_once(tmp_path):
    path = a_file(tmp_path, age_seconds=120)
    started = time.monotonic()
    Readiness(ReadyRule(settle_seconds=60), LocalStore(str(tmp_path))).wait([str(path)])
    assert time.monotonic() - started < 30  # not the 60 s a fresh file is watched


def test_a_fresh_file_is_ready_once_unchanged_for_settle_seconds(tmp_path):
    path = a_file(tmp_path, age_seconds=0)
    Readiness(ReadyRule(settle_seconds=0.5), LocalStore(str(tmp_path))).wait([str(path)])
    assert time.time() - path.stat().st_mtime >= 0.5


def test_a_file_dated_in_the_future_settles_by_what_is_seen_of_it(tmp_path):
    path = a_file(tmp_path, age_seconds=-3600)  # a writer's clock an hour ahead
    started = time.monotonic()
    Readiness(ReadyRule(settle_seconds=0.5), LocalStore(str(tmp_path))).wait([str(path)])
    assert time.monotonic() - started >= 0.5


def test_a_file_that_grows_after_it_settled_is_not_taken(tmp_path):
    path = a_file(tmp_path, age_seconds=120)
    readiness = Readiness(ReadyRule(), LocalStore(str(tmp_path)))
    readiness.wait([str(path)])
    with path.open("a") as file:
        file.write("2,b\n")
    with pytest.raises(FileNotReadyError, match=r"drop\.csv: changed while it was read \(12 bytes"):
        readiness.confirm(str(path))


def test_a_bounded_wait_for_a_marker_names_the_bound_and_a_glob_skips_the_markers(tmp_path):
    for name in ("a.csv", "b.csv"):
        a_file(tmp_path, age_seconds=0).rename(tmp_path / name)
    (tmp_path / "a.csv.done").touch()
    store = LocalStore(str(tmp_path))
    read = FilesRead(
        kind="files",
        path=f"{tmp_path}/*",
        format="csv",
        ready={"marker": "{name}.done", "wait_seconds": 0.3},
    )
    with pytest.raises(
        FileNotReadyError,
        match=rf"file://{tmp_path}/b\.csv: not ready after waiting 0\.3 s \(read\.ready\."
        rf"wait_seconds\): no marker file://{tmp_path}/b\.csv\.done$",
    ):
        list(read_files(read, DAY_PERIOD, None, store))
    (tmp_path / "b.csv.done").touch()
    table = pa.Table.from_batches(read_files(read, DAY_PERIOD, None, store))
    assert table.to_pylist() == [{"id": 1, "note": "a"}, {"id": 1, "note": "a"}]  # no .done read


def test_on_s3_an_object_is_whole_and_only_a_marker_is_waited_for(moto_endpoint):
    bucket = f"readiness-{time.time_ns()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    store = S3Store(f"s3://{bucket}/drops", "us-east-1", moto_endpoint, boto3.client("s3"))
    store.put(store.path("in/drop.csv"), (HEADER + "1,a\n").encode())
    started = time.monotonic()
    Readiness(ReadyRule(settle_seconds=60), store).wait([store.path("in/drop.csv")])
    assert time.monotonic() - started < 30
    folder_marker = Readiness(ReadyRule(marker="_SUCCESS"), store)
    with pytest.raises(
        FileNotReadyError,
        match=rf"drop\.csv: not ready: no marker s3://{bucket}/drops/in/_SUCCESS$",
    ):
        folder_marker.wait([store.path("in/drop.csv")])
    store.put(store.path("in/_SUCCESS"), b"")
    folder_marker.wait([store.path("in/drop.csv")])


@pytest.mark.parametrize(
    ("read", "message"),
    [
        ({"ready": {"marker": "_SUCCESS", "settle_seconds": 5}}, "settle_seconds applies only"),
        ({"ready": {"marker": "/abs/_SUCCESS"}}, "relative to the file's folder"),
        ({"ready": {"marker": "{dt}.done"}}, r"unknown template field\(s\) \['dt'\]"),
        ({"format": "jsonl", "null_values": ["NA"]}, "null_values applies to csv files"),
    ],
)
def test_readiness_and_null_values_are_checked_in_the_catalog(read, message):
    with pytest.raises(ValidationError, match=message):
        FilesRead.model_validate({"kind": "files", "path": "in/x.csv", "format": "csv", **read})
