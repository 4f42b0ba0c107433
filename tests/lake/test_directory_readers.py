"""A table's folder read as it stands by engines that list folders (pandas, pyarrow, polars,
DuckDB): it holds only its partitions' data files, without `dt` inside, so each reads exactly
the published rows with one `dt` column, from the folder names; what the platform keeps beside
(manifests, leases) lives under `_platform/` and none of them sees it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import pandas
import polars
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from platform_assets.lake import Lake
from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, Period, period_at
from platform_assets.storage import LocalStore

SCHEMA = pa.schema([("id", pa.int64()), ("at", pa.timestamp("s", tz="UTC"))])
COLUMNS = ["id", "at", "dt"]


def day(number: int) -> Period:
    return period_at(Granularity.DAILY, dt.date(2024, 1, number))


def publish(lake: Lake, period: Period, rows: int, run_id: str) -> None:
    """As a push does it: the partition's files and manifest, then what it no longer lists goes."""
    moment = dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    ids = list(range(rows))
    batch = pa.RecordBatch.from_pydict({"id": ids, "at": [moment] * rows}, schema=SCHEMA)
    with lake.writer(Layer.RAW, "orders", period, SCHEMA, run_id) as writer:
        writer.write(batch)
        writer.commit()
    lake.remove_stale(Layer.RAW, "orders", [period])


def read_by_engine(table: Path) -> dict[str, tuple[list[str], Counter[str]]]:
    """Each engine's column names and rows per `dt` (as text) of the whole folder."""
    frame = pandas.read_parquet(table)
    dataset = ds.dataset(table, format="parquet", partitioning="hive").to_table()
    lazy = polars.scan_parquet(table, hive_partitioning=True).collect()
    with duckdb.connect() as connection:
        relation = connection.sql(
            f"SELECT * FROM read_parquet('{table}/**', hive_partitioning = true)"
        )
        duck = (relation.columns, relation.fetchall())
    dt_at = duck[0].index("dt")
    return {
        "pandas": (list(frame.columns), Counter(str(value) for value in frame["dt"])),
        "pyarrow": (dataset.column_names, Counter(map(str, dataset["dt"].to_pylist()))),
        "polars": (lazy.columns, Counter(map(str, lazy["dt"].to_list()))),
        "duckdb": (duck[0], Counter(str(row[dt_at]) for row in duck[1])),
    }


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(LocalStore(str(tmp_path / "lake")))


def test_engines_read_a_table_folder_as_it_stands(lake, tmp_path):
    table = tmp_path / "lake/raw/orders"
    leases = tmp_path / "lake/_platform/raw/orders/leases"
    with lake.lease(Layer.RAW, "orders", [0], "run1", 0, 60):
        assert [path.name for path in leases.iterdir()] == ["block-00000"]
        for number, rows in ((2, 3), (3, 5), (4, 7)):
            publish(lake, day(number), rows, "run1")
        publish(lake, day(3), 11, "run2")  # republished: its replaced file is gone
        # the lease is held, the manifests are written: the folder holds data files only
        files = [path for path in table.rglob("*") if path.is_file()]
        assert sorted(str(path.relative_to(table)) for path in files) == [
            "dt=2024-01-02/part-run1-00000.parquet",
            "dt=2024-01-03/part-run2-00000.parquet",
            "dt=2024-01-04/part-run1-00000.parquet",
        ]
        expected = Counter({"2024-01-02": 3, "2024-01-03": 11, "2024-01-04": 7})
        for engine, (columns, per_day) in read_by_engine(table).items():
            assert columns == COLUMNS, engine  # one dt, the folder's
            assert per_day == expected, engine
    assert list(leases.iterdir()) == []  # a released local lease leaves no file behind
    published = lake.manifests(Layer.RAW, "orders", [day(2), day(3), day(4)])
    assert [manifest.record_count for manifest in published if manifest] == [3, 11, 7]
