"""A SIGKILL mid-push leaves every partition readable and complete; a rerun converges."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from platform_assets.lake import Area
from platform_assets.partitions import Period
from platform_assets.settings import load_settings
from tests.conftest import MAIN

YEAR = ("--partition", "2013-01-01", "--to", "2013-12-31")


def start_push(home: Path) -> subprocess.Popen:
    env = {**os.environ, "PLATFORM_HOME": str(home)}
    env.pop("DAGSTER_PIPES_CONTEXT", None)
    return subprocess.Popen(
        [sys.executable, str(MAIN), "push", "--source", "flights", "--no-load", *YEAR],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def data_files(home: Path) -> set[Path]:
    return set((home / "lake/raw/flights").glob("dt=*/part-*.parquet"))


def republished(home: Path, since_ns: int) -> int:
    """Partitions whose manifest was rewritten after `since_ns`."""
    manifests = (home / "lake/raw/flights").glob("dt=*/_manifest.json")
    return sum(1 for path in manifests if path.stat().st_mtime_ns > since_ns)


def assert_every_partition_readable_and_complete(home: Path, per_day: dict[dt.date, int]) -> None:
    lake = load_settings({"PLATFORM_HOME": str(home)}).lake
    for day, expected in per_day.items():
        manifest = lake.manifest(Area.RAW, "flights", Period(day, day + dt.timedelta(days=1)))
        assert manifest is not None, day
        assert manifest.record_count == expected, day
        for path in lake.file_paths(manifest):
            assert Path(path).exists(), (day, path)
        assert lake.read(manifest).num_rows == expected, day


def kill_when(process: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, "the push finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_sigkill_mid_push_keeps_the_previous_version_and_a_rerun_converges(
    run_main, home, flights_per_day
):
    assert run_main("push", "--source", "flights", "--no-load", *YEAR).returncode == 0
    first_version = data_files(home)

    # killed while writing the first partition's new files, then again mid-year
    process = start_push(home)
    kill_when(process, lambda: data_files(home) - first_version)
    assert process.returncode == -signal.SIGKILL
    assert_every_partition_readable_and_complete(home, flights_per_day)

    started = time.time_ns()
    process = start_push(home)
    kill_when(process, lambda: republished(home, started) > 60)
    assert process.returncode == -signal.SIGKILL
    assert_every_partition_readable_and_complete(home, flights_per_day)
    assert 60 < republished(home, started) < 365  # some partitions were republished, some not yet
    assert first_version <= data_files(home)  # stale files go only once the range is published

    result = run_main("push", "--source", "flights", *YEAR)
    assert result.returncode == 0, result.stderr
    assert_every_partition_readable_and_complete(home, flights_per_day)
    for directory in (home / "lake/raw/flights").glob("dt=*"):
        assert len(list(directory.iterdir())) == 2, directory  # the manifest and its one file
    settings = load_settings({"PLATFORM_HOME": str(home)})
    loaded = settings.warehouse.partition_rows("flights", dt.date(2013, 1, 1), dt.date(2014, 1, 1))
    assert loaded == flights_per_day
    assert sum(loaded.values()) == 336_776
