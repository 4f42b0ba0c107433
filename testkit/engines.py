"""Engines we did not write, reading the lake as its README tells them to: the Iceberg table
through pyiceberg, a table's folder through pandas, pyarrow, polars and DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platform_assets.layers import Layer
from platform_assets.settings import Settings


def iceberg_table(settings: Settings, name: str, layer: Layer = Layer.RAW) -> Any:
    """The pyiceberg Table of a lake table, from the catalog the settings name."""
    assert settings.iceberg is not None, "PLATFORM_ICEBERG is off"
    catalog = settings.iceberg.connect()
    return catalog.load_table(settings.iceberg.table_name(settings.lake.layout(layer, name)))


def folder_counts(folder: Path) -> dict[str, tuple[int, str]]:
    """Each folder reader's row count and the type it gives `dt`, with no option but hive."""
    import duckdb
    import pandas as pd  # type: ignore[import-untyped]  # no stubs: only read_parquet is used
    import polars as pl
    import pyarrow.dataset as ds

    frame = pd.read_parquet(folder)
    dataset = ds.dataset(folder, partitioning="hive")
    lazy = pl.scan_parquet(folder, hive_partitioning=True)
    glob = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
    (duck,) = (
        duckdb.connect().execute(f"SELECT count(*), any_value(typeof(dt)) FROM {glob}").fetchall()
    )
    return {
        "pandas": (len(frame), str(frame["dt"].dtype)),
        "pyarrow": (dataset.count_rows(), str(dataset.schema.field("dt").type)),
        "polars": (lazy.select(pl.len()).collect().item(), str(lazy.collect_schema()["dt"])),
        "duckdb": (int(duck[0]), str(duck[1])),
    }
