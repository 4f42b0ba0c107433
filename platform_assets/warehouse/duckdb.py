"""The embedded warehouse: a DuckDB file, loaded straight from the lake's parquet files."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from platform_assets.backoff import pauses
from platform_assets.errors import RunError
from platform_assets.identifiers import quote
from platform_assets.lake import Manifest
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.warehouse import columns_to_add, literal, ranged

LOCK_WAIT_SECONDS = 120.0
# DuckDB's buffers (it spills beyond them): the load and the checks then take about the same
# memory for ten times the rows, and just as long (BENCHMARKS.md, P4)
MEMORY_LIMIT = "128MB"


class DuckDBWarehouse:
    """Each call opens the file briefly, so concurrent runs take turns instead of failing."""

    def __init__(
        self,
        path: Path,
        memory_limit: str = MEMORY_LIMIT,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = path
        # rows are found by dt, never by their order: not keeping it lets DuckDB insert in
        # parallel with less memory (the year's load: 0.42 s instead of 0.98 s at 128MB)
        self._config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "preserve_insertion_order": False,
        }
        self._lock_wait_seconds = lock_wait_seconds

    def load(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        start: dt.date,
        end: dt.date,
        file_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> int:
        target = quote(table)
        # files that predate a column (schema contract evolve) differ: DuckDB then matches them
        # by name and reads missing columns as NULL, at the price of reading every footer first
        union_by_name = "true" if file_columns is not None else "false"
        urls = [url for manifest in manifests for url in manifest.urls]
        expected = sum(manifest.record_count for manifest in manifests)
        with self._connect() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                self._ensure_table(connection, table, schema)
                connection.execute(
                    f"DELETE FROM {target} WHERE {quote(PARTITION_COLUMN)} >= ?"
                    f" AND {quote(PARTITION_COLUMN)} < ?",
                    [start, end],
                )
                loaded = 0
                if urls:
                    row = connection.execute(
                        f"INSERT INTO {target} BY NAME"
                        f" SELECT * FROM read_parquet(?, union_by_name = {union_by_name})",
                        [urls],
                    ).fetchone()
                    loaded = row[0] if row else 0
                if loaded != expected:
                    raise RunError(
                        f"table {table}: loaded {loaded} rows but the manifests list {expected}"
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return loaded

    def partition_rows(self, table: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        column, target = quote(PARTITION_COLUMN), quote(table)
        with self._connect() as connection:
            if not _exists(connection, table):
                return {}
            rows = connection.execute(
                f"SELECT {column}, count(*) FROM {target}"
                f" WHERE {column} >= ? AND {column} < ? GROUP BY {column} ORDER BY {column}",
                [start, end],
            ).fetchall()
        return {day: count for day, count in rows}

    def duplicate_keys(self, table: str, key: Sequence[str], start: dt.date, end: dt.date) -> int:
        column, target = quote(PARTITION_COLUMN), quote(table)
        columns = ", ".join(quote(name) for name in key)
        with self._connect() as connection:
            if not _exists(connection, table):
                return 0
            row = connection.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {target}"
                f" WHERE {column} >= ? AND {column} < ? GROUP BY {columns} HAVING count(*) > 1)",
                [start, end],
            ).fetchone()
        return row[0] if row else 0

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        directory = destination.removeprefix("file://")
        Path(directory).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(
                f"COPY ({ranged(query, '?', '?')}) TO {literal(directory)}"
                f" (FORMAT parquet, PARTITION_BY ({quote(PARTITION_COLUMN)}),"
                " WRITE_PARTITION_COLUMNS true, COMPRESSION zstd)",
                [start, end],
            )

    def _ensure_table(
        self, connection: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema
    ) -> None:
        wanted_columns = [(field.name, duckdb_type(field.type)) for field in schema]
        if not _exists(connection, table):
            columns = ", ".join(f"{quote(name)} {kind}" for name, kind in wanted_columns)
            connection.execute(f"CREATE TABLE {quote(table)} ({columns})")
            return
        actual = connection.execute(f"DESCRIBE {quote(table)}").fetchall()
        actual_columns = [(name, kind) for name, kind, *_ in actual]
        for name, kind in columns_to_add(table, wanted_columns, actual_columns):
            connection.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {kind}")

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_seconds
        waits = pauses()
        while True:
            try:
                connection = duckdb.connect(str(self.path), config=self._config)
                break
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise RunError(f"warehouse {self.path}: {error}") from None
                time.sleep(next(waits))
        try:
            yield connection
        except duckdb.Error as error:
            raise RunError(f"warehouse {self.path}: {' '.join(str(error).split())}") from error
        finally:
            connection.close()


_PLAIN_TYPES = {
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.string(): "VARCHAR",
    pa.date32(): "DATE",
}
_TIMESTAMPS = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


def duckdb_type(data_type: pa.DataType) -> str:
    """The type DuckDB gives an Arrow column (as DESCRIBE names it), without handing DuckDB an
    Arrow object: that makes it import pandas when present, ~0.5 s of a load."""
    if data_type in _PLAIN_TYPES:
        return _PLAIN_TYPES[data_type]
    if isinstance(data_type, pa.TimestampType):
        if data_type.tz is None:
            return _TIMESTAMPS[data_type.unit]
        return "TIMESTAMPTZ_NS" if data_type.unit == "ns" else "TIMESTAMP WITH TIME ZONE"
    if isinstance(data_type, pa.Decimal128Type):
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    raise ValueError(f"no DuckDB type for {data_type}")


def _exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])
