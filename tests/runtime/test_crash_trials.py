"""SIGKILL of main.py at random points of a push and its load, locally and on S3: after every
kill each partition's published version is readable and complete, and a rerun converges to
exact counts. Nothing is lost and nothing is duplicated, or the test says which trial did it.

The kills are exact, not timed. Locally an LD_PRELOAD library (tests/kill_at.c) kills the
process at the n-th rename, unlink or open of a matching path, whichever thread or library
(pyarrow, DuckDB) makes it. On S3 the fault proxy kills it at the n-th matching request, before
or after moto performed it, and the Redshift stand-in at a statement of the load's transaction.
Trials come from one seeded random.Random: `PLATFORM_CRASH_SEED` replays a session's draws,
`PLATFORM_CRASH_TRIALS` sets how many each fault point gets (12: five points on two storages, 120
trials, keep `make test` well inside CI's time; set it higher to search longer).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.settings import Settings, load_settings
from testkit.aws import aws_environment
from testkit.engines import iceberg_table
from testkit.main_process import main_process, start_main
from testkit.redshift_standin import RedshiftStandIn
from testkit.s3_fault_proxy import Request, S3FaultProxy
from testkit.summary import SUMMARY_LINES

pytestmark = pytest.mark.trials

TRIALS = int(os.environ.get("PLATFORM_CRASH_TRIALS", "12"))
DAYS = [dt.date(2013, 1, 1) + dt.timedelta(days=offset) for offset in range(8)]
POINTS = ("data_files", "manifests", "iceberg", "stale_files", "warehouse")
LEASE_TTL = {"PLATFORM_LEASE_TTL_SECONDS": "2"}  # a killed run's S3 lease expires soon
DATA_FILE = "/raw/flights/dt=*/part-*.parquet"
MANIFEST = "/_platform/raw/flights/manifests/dt=*.json"
ICEBERG_FILE = "/_platform/raw/flights/iceberg/*"  # pyiceberg's manifests, lists and metadata


@pytest.fixture(scope="session")
def seed() -> int:
    chosen = os.environ.get("PLATFORM_CRASH_SEED") or str(random.SystemRandom().randrange(2**32))
    SUMMARY_LINES.append(f"crash trials: seed {chosen} (PLATFORM_CRASH_SEED replays it)")
    return int(chosen)


@pytest.fixture(scope="session")
def kill_at(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/kill_at.c, built for this machine."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    assert compiler, "the crash trials build tests/kill_at.c: install a C compiler (cc)"
    library = tmp_path_factory.mktemp("kill_at") / "kill_at.so"
    source = Path(__file__).parents[1] / "kill_at.c"
    command = [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"]
    subprocess.run(command, check=True)
    return library


class Victim:
    """The main.py process a trial kills, named before it starts (the S3 kills need it)."""

    process: subprocess.Popen | None = None

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)


@dataclass
class Tally:
    """What the trials of one fault point found."""

    trials: int = 0
    lost: int = 0
    duplicated: int = 0
    variants: Counter[str] = field(default_factory=Counter)

    def line(self, case: str) -> str:
        kinds = "; ".join(f"{name}: {count}" for name, count in sorted(self.variants.items()))
        return (
            f"crash trials {case}: {self.trials} trials, rows lost {self.lost},"
            f" rows duplicated {self.duplicated} ({kinds})"
        )


def span(days: list[dt.date]) -> list[str]:
    return ["--source", "flights", "--partition", str(days[0]), "--to", str(days[-1])]


@dataclass
class Platform:
    """One storage the trials run on: how main.py is started there and where to look."""

    env: dict[str, str]  # straight to the lake and the warehouse
    run_env: dict[str, str]  # what main.py gets (through the fault proxy on S3)
    kill_at: Path
    proxy: S3FaultProxy | None = None
    standin: RedshiftStandIn | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.env)

    def periods(self, days: list[dt.date]) -> list[Period]:
        source = self.settings.catalog.source("flights")
        return [source.period(str(day)) for day in days]

    def push(self, days: list[dt.date], victim: Victim, extra: Mapping[str, str]) -> None:
        """Start `main.py push` of the days (and their load) as the victim."""
        victim.process = start_main(["push", *span(days)], {**self.run_env, **extra})

    def unlisted(self, period: Period, manifest: Manifest) -> set[str]:
        """What the partition's directory holds besides its manifest and the files it lists."""
        lake = self.settings.lake
        directory = lake.partition_directory(Layer.RAW, "flights", period)
        if self.settings.environment.name == "local":
            contents = {str(path) for path in Path(directory).iterdir()}
        else:
            bucket, _, prefix = directory.partition("/")
            pages = boto3.client("s3").get_paginator("list_objects_v2")
            contents = {
                f"{bucket}/{item['Key']}"
                for page in pages.paginate(Bucket=bucket, Prefix=prefix + "/")
                for item in page.get("Contents", [])
            }
        return contents - set(lake.file_paths(manifest))

    def iceberg_rows(self) -> dict[dt.date, int]:
        """Rows per day in the Iceberg table's current snapshot, read whole."""
        rows = iceberg_table(self.settings, "flights").scan().to_arrow()
        counts = rows.group_by("dt").aggregate([([], "count_all")])
        return dict(zip(counts["dt"].to_pylist(), counts["count_all"].to_pylist(), strict=True))

    def notes(self) -> list[str]:
        """The Iceberg notes of ranges published and not yet committed."""
        area = self.settings.lake.layout(Layer.RAW, "flights").beside("iceberg-pending")
        return self.settings.lake.store.list_files(area)


@dataclass(frozen=True)
class KillPoint:
    """Where a trial kills main.py: what to tell main.py's environment, and what it means."""

    variant: str
    description: str
    env: dict[str, str]


def local_kill(
    platform: Platform, point: str, rng: random.Random, days: int, trial: int
) -> KillPoint:
    """The kill_at library's settings for `point` in a push of `days` partitions (the variants
    of a point take turns, the call to kill at is drawn)."""
    lake = platform.settings.lake.store.root
    nth = rng.randint(1, days)
    when = ("before", "after")[trial % 2]
    if point == "iceberg" and trial % 3 == 0:  # the catalog's own commit: SQLite's journal
        catalog = str(platform.settings.home / "iceberg.sqlite-journal")
        env = {
            "LD_PRELOAD": str(platform.kill_at),
            "KILL_AT_CALL": "open",
            "KILL_AT_PATH": catalog,
            "KILL_AT_NTH": "1",
            "KILL_AT_WHEN": "before",
        }
        return KillPoint("the SQL catalog's commit", "the SQL catalog's commit", env)
    if point == "iceberg":
        nth = rng.randint(1, 3)  # an overwrite writes manifests, a manifest list, the metadata
    call, path, when, variant = {
        "data_files": ("rename", DATA_FILE, "after", "data file renamed into place"),
        "manifests": ("rename", MANIFEST, "after", "manifest renamed into place"),
        "iceberg": ("open", ICEBERG_FILE, when, f"Iceberg metadata file opened, {when}"),
        "stale_files": ("unlink", DATA_FILE, when, f"replaced file unlinked, {when}"),
        # the load's INSERT reads the files after its DELETE, in the same transaction
        "warehouse": ("open", DATA_FILE, when, f"DuckDB opening a lake file, {when}"),
    }[point]
    env = {
        "LD_PRELOAD": str(platform.kill_at),
        "KILL_AT_CALL": call,
        "KILL_AT_PATH": lake + path,
        "KILL_AT_NTH": str(nth),
        "KILL_AT_WHEN": when,
    }
    return KillPoint(variant, f"{variant} (#{nth} of {days})", env)


# the load's transaction on the Redshift stand-in, statement by statement
LOAD_STATEMENTS = {
    "CREATE TEMP TABLE": (r"^CREATE TEMP TABLE", None),
    "COPY": (r"^COPY ", None),
    "staged count": (r'^SELECT count\(\*\) FROM "stage_', None),
    "DELETE": (r"^DELETE FROM ", None),
    "INSERT": (r"^INSERT INTO ", None),
    "COMMIT": (r"^commit$", r"^INSERT INTO "),
}


def s3_kill(
    platform: Platform,
    point: str,
    rng: random.Random,
    days: int,
    trial: int,
    kill: Callable[[], None],
) -> KillPoint:
    """Arm the fault proxy (or the Redshift stand-in) to `kill` main.py at `point` (the variants
    of a point take turns, the request to kill at is drawn)."""
    proxy = platform.proxy
    assert proxy is not None
    nth = rng.randint(1, days)

    def under(pattern: str) -> Callable[[Request], bool]:
        regex = re.compile(pattern)
        return lambda request: bool(regex.search(request.key))

    if point == "data_files":
        proxy.interrupt("PUT", nth, kill, under(r"/raw/flights/dt=[^/]+/part-[^/]+$"))
        return KillPoint(
            "data file PutObject performed", f"data file PutObject #{nth} of {days}", {}
        )
    if point == "manifests":
        proxy.interrupt(
            "PUT", nth, kill, under(r"/_platform/raw/flights/manifests/dt=[^/]+\.json$")
        )
        return KillPoint("manifest PutObject performed", f"manifest PutObject #{nth} of {days}", {})
    if point == "iceberg":
        variant = ("retired CopyObject", "Iceberg metadata upload", "Glue UpdateTable")[trial % 3]
        if variant == "retired CopyObject":
            proxy.interrupt("PUT", nth, kill, under(r"/_platform/raw/flights/retired/"))
        elif variant == "Iceberg metadata upload":
            proxy.interrupt(
                "PUT", rng.randint(1, 3), kill, under(r"/_platform/raw/flights/iceberg/")
            )
        else:  # pyiceberg's commit: UpdateTable carries the VersionId it read
            performed = bool(trial % 2)
            proxy.interrupt(
                "POST",
                1,
                kill,
                lambda request: request.path == "/" and b'"VersionId"' in request.body,
                performed=performed,
            )
            variant += (", after", ", before")[not performed]
        return KillPoint(variant, f"{variant} (trial {trial})", {})
    if point == "stale_files":
        variant = ("listing", "DeleteObjects before", "DeleteObjects after")[trial % 3]
        if variant == "listing":
            proxy.interrupt(
                "GET",
                1,
                kill,
                lambda request: "raw/flights/dt=" in request.params.get("prefix", ""),
                performed=False,
            )
        else:
            proxy.interrupt(
                "POST",
                1,
                kill,
                lambda request: "delete" in request.params,
                performed=variant.endswith("after"),
            )
        return KillPoint(variant, f"range {variant}", {})
    statement = list(LOAD_STATEMENTS)[trial % len(LOAD_STATEMENTS)]
    pattern, after = LOAD_STATEMENTS[statement]
    assert platform.standin is not None
    platform.standin.interrupt(pattern, kill, after)
    return KillPoint(f"before {statement}", f"load transaction, before {statement}", {})


@pytest.fixture(params=["local", "s3"])
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, kill_at: Path, landed_flights: Path
) -> Iterator[Platform]:
    """The first version of DAYS pushed and loaded on the storage under trial."""
    if request.param == "local":
        home = tmp_path / "home"
        shutil.copytree(landed_flights, home / "landing")
        env = {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(home)}
        yield from _first_version(Platform(env, env, kill_at))
        return
    moto_endpoint = request.getfixturevalue("moto_endpoint")
    standin = request.getfixturevalue("redshift")
    landing = request.getfixturevalue("landing_uri")
    with aws_environment(tmp_path, moto_endpoint, standin, landing) as env:
        proxy = S3FaultProxy(moto_endpoint)
        proxy.start()
        try:
            run_env = {**env, **LEASE_TTL, "AWS_ENDPOINT_URL": proxy.url}
            yield from _first_version(Platform(env, run_env, kill_at, proxy, standin))
        finally:
            proxy.stop()


def _first_version(platform: Platform) -> Iterator[Platform]:
    result = main_process(["push", *span(DAYS)], platform.env)
    assert result.returncode == 0, result.stderr
    yield platform


def published(platform: Platform, where: str) -> dict[dt.date, Manifest]:
    found = platform.settings.lake.manifests(Layer.RAW, "flights", platform.periods(DAYS))
    manifests = {}
    for day, manifest in zip(DAYS, found, strict=True):
        assert manifest is not None, f"{where}: {day} lost its manifest"
        manifests[day] = manifest
    return manifests


def count(
    platform: Platform, expected: Mapping[dt.date, int], where: str
) -> tuple[int, int, dict[dt.date, Manifest]]:
    """Rows lost and duplicated, in the lake's published versions and in the warehouse. Each
    published version must be readable: its manifest, and every file it lists."""
    settings = platform.settings
    manifests = published(platform, where)
    lost = duplicated = 0
    for day, manifest in manifests.items():
        try:
            rows = settings.lake.read(manifest).num_rows
        except (OSError, pa.ArrowException) as error:
            pytest.fail(f"{where}: {day}'s published version is unreadable: {error}")
        assert manifest.record_count == rows, f"{where}: {day}'s manifest and files disagree"
        lost += max(0, expected[day] - rows)
        duplicated += max(0, rows - expected[day])
    loaded = settings.warehouse.partition_rows("flights", DAYS[0], DAYS[-1] + dt.timedelta(1))
    in_iceberg = platform.iceberg_rows()  # whichever version its snapshot holds, whole
    for day in DAYS:
        for rows in (loaded.get(day, 0), in_iceberg.get(day, 0)):
            lost += max(0, expected[day] - rows)
            duplicated += max(0, rows - expected[day])
    return lost, duplicated, manifests


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_a_random_step_loses_and_duplicates_nothing(
    platform: Platform, point: str, seed: int, flights_per_day: dict[dt.date, int]
) -> None:
    storage = "local" if platform.proxy is None else "s3"
    rng = random.Random(f"{seed}-{storage}-{point}")
    expected = {day: flights_per_day[day] for day in DAYS}
    tally = Tally()
    for trial in range(1, TRIALS + 1):
        first = rng.randrange(len(DAYS))
        days = DAYS[first : first + rng.randint(1, 4)]
        before = published(platform, "before the trial")
        victim = Victim()
        if platform.proxy is None:
            kill = local_kill(platform, point, rng, len(days), trial)
        else:
            platform.proxy.clear()
            kill = s3_kill(platform, point, rng, len(days), trial, victim.kill)
        where = f"seed {seed}, {storage} {point} trial {trial}, {days[0]}..{days[-1]}"
        where += f", killed at {kill.description}"
        platform.push(days, victim, kill.env)
        assert victim.process is not None
        _, stderr = victim.process.communicate(timeout=300)
        assert victim.process.returncode == -signal.SIGKILL, f"{where}: not killed: {stderr}"

        lost, duplicated, after = count(platform, expected, f"{where}, after the kill")
        assert_landed(platform, point, days, before, after, where)
        rerun = main_process(["push", *span(days)], {**platform.env, **LEASE_TTL})
        assert rerun.returncode == 0, f"{where}: the rerun failed: {rerun.stderr}"
        rerun_lost, rerun_duplicated, converged = count(platform, expected, f"{where}, rerun")
        for period, day in zip(platform.periods(days), days, strict=True):
            left = platform.unlisted(period, converged[day])
            assert not left, f"{where}: the rerun left {left} in {day}'s partition"
        assert not platform.notes(), f"{where}: the rerun left Iceberg notes {platform.notes()}"

        tally.trials += 1
        tally.lost += lost + rerun_lost
        tally.duplicated += duplicated + rerun_duplicated
        tally.variants[kill.variant] += 1
        assert (tally.lost, tally.duplicated) == (0, 0), f"{where}: {tally.line(point)}"
    SUMMARY_LINES.append(tally.line(f"{storage} {point}"))


def assert_landed(
    platform: Platform,
    point: str,
    days: list[dt.date],
    before: dict[dt.date, Manifest],
    after: dict[dt.date, Manifest],
    where: str,
) -> None:
    """The kill happened where the trial aimed: the lake shows that step's state."""
    republished = [day for day in days if after[day] != before[day]]
    leftovers = {
        day: platform.unlisted(period, after[day])
        for day, period in zip(days, platform.periods(days), strict=True)
    }
    if point in ("data_files", "manifests"):
        assert len(republished) < len(days) or any(leftovers.values()), where
    else:  # the whole range is published anew
        assert republished == days, f"{where}: only {republished} republished"
    if point == "iceberg":  # published, not (or just) committed: the note says what to take in
        assert platform.notes() or not any(leftovers.values()), where
    if point == "data_files":
        assert any(leftovers[day] for day in days if day not in republished), where
    if point == "warehouse":
        assert not any(leftovers.values()), f"{where}: replaced files not removed: {leftovers}"
