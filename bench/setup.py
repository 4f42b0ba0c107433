"""The benchmarks' inputs: the year of flights as the platform lands it, locally and on S3."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from bench.harness import PROJECT, CountingMoto
from testkit.main_process import MAIN

BENCH_PYTHON = PROJECT / ".venv-bench" / "bin" / "python"  # the peers that conflict with our pins
DAYS = 365
ROWS = 336_776


def landed_home(home: Path) -> Path:
    """A PLATFORM_HOME whose landing folder holds the year of daily flights CSVs."""
    from platform_assets.settings import load_settings
    from samples.nycflights13 import land_flights

    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"PLATFORM_HOME": str(home)})
    days, rows = land_flights(settings.catalog.source("flights"), settings.landing)
    assert (days, rows) == (DAYS, ROWS), (days, rows)
    return home


def fresh_home(home: Path, landed: Path) -> Path:
    """A PLATFORM_HOME with (a copy of) `landed`'s landing folder and nothing else."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copytree(landed / "landing", home / "landing")
    return home


def upload_landing(moto: CountingMoto, home: Path, bucket: str) -> None:
    """The landing folder's files into s3://`bucket`/drops/landing/, as the catalog's paths say."""
    client = moto.client()
    client.create_bucket(Bucket=bucket)
    landing = home / "landing"
    for path in sorted(landing.rglob("*.csv")):
        key = f"drops/{path.relative_to(home).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def push_source(source: str, first: str, last: str, *options: str) -> list[str]:
    """`main.py push` of `source` from `first` through `last`."""
    command = [sys.executable, str(MAIN), "push", "--source", source]
    return [*command, "--partition", first, "--to", last, *options]


def push_flights(first: str, last: str, load: bool = True) -> list[str]:
    """`main.py push` of the flights from `first` through `last` (lake only unless `load`)."""
    return push_source("flights", first, last, *(() if load else ("--no-load",)))


def catalog_home(home: Path, catalog: str, work: Path) -> dict[str, str]:
    """The environment of a local platform in `home` whose catalog is `catalog` (its YAML, kept
    in `work`)."""
    path = work / "catalog.yaml"
    path.write_text(catalog)
    return {"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local", "PLATFORM_CATALOG": str(path)}


def fresh_platform(home: Path, *others: Path) -> Callable[[int], None]:
    """A variant's `prepare`: `home` without its lake, Iceberg catalog and warehouse (and
    without `others`), as before a first push."""
    names = ("lake", "iceberg.sqlite", "warehouse.duckdb", "warehouse.duckdb.wal")

    def prepare(_: int) -> None:
        for path in (*(home / name for name in names), *others):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(True)

    return prepare
