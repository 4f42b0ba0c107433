"""The embedded warehouse: a DuckDB file, loaded straight from the lake's parquet files."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from platform_assets.backoff import pauses
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.identifiers import quote
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.variables import Variables
from platform_assets.warehouse import WarehouseContext
from platform_assets.warehouse.modes import table_schema
from platform_assets.warehouse.sql import (
    SqlTypes,
    SqlWarehouse,
    check_loaded,
    columns_to_add,
    literal,
    ranged,
)
from platform_assets.write_modes import REPLACE, TableWrite, WriteMode

if TYPE_CHECKING:
    import duckdb

    from platform_assets.lake import Manifest

LOCK_WAIT_SECONDS = 120.0
# DuckDB's buffers (it spills beyond them): BENCHMARKS.md (P4) measures what this costs
MEMORY_LIMIT = "128MB"
_TIMESTAMPS = {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}


def _timestamp_type(timestamp: pa.TimestampType) -> str:
    if timestamp.tz is None:
        return _TIMESTAMPS[timestamp.unit]
    return "TIMESTAMPTZ_NS" if timestamp.unit == "ns" else "TIMESTAMP WITH TIME ZONE"


# as DESCRIBE names them, which is also how tables are created: a table is made from these
# names, never from an Arrow object (building an empty Arrow table imports pandas when present)
TYPES = SqlTypes(
    "DuckDB",
    {
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.string(): "VARCHAR",
        pa.date32(): "DATE",
        pa.json_(): "JSON",
    },
    _timestamp_type,
    "DECIMAL({precision},{scale})",
    # a struct's fields may grow (schema contract evolve), which JSON takes without DDL; the
    # load's INSERT casts STRUCT and LIST to JSON
    "JSON",
)


def configure(variables: Variables, context: WarehouseContext) -> Callable[[], DuckDBWarehouse]:
    """PLATFORM_HOME/warehouse.duckdb, loading a lake on this machine's disk."""
    if context.lake_scheme != "file://":
        raise ConfigurationError(
            "PLATFORM_WAREHOUSE=duckdb loads a lake on this machine's disk;"
            " with PLATFORM_ENV=aws use redshift"
        )
    path = context.home / "warehouse.duckdb"
    memory_limit = variables.get("PLATFORM_DUCKDB_MEMORY_LIMIT", MEMORY_LIMIT)
    return lambda: DuckDBWarehouse(path, memory_limit)


class DuckDBWarehouse(SqlWarehouse):
    """Each call opens the file briefly, so concurrent runs take turns instead of failing."""

    PARAMETER = "?"

    def __init__(
        self,
        path: Path,
        memory_limit: str = MEMORY_LIMIT,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = path
        self.schema_name = "main"
        # rows are found by dt, never by their order: not keeping it lets DuckDB insert in
        # parallel with less memory
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
        write: TableWrite = REPLACE,
    ) -> int:
        def ensure_table(connection: duckdb.DuckDBPyConnection) -> None:
            self._ensure_table(connection, table, table_schema(schema, write))

        # files that predate a column (schema contract evolve) differ: DuckDB then matches them
        # by name and reads missing columns as NULL, at the price of reading every footer first
        union_by_name = file_columns is not None
        return self._write(
            table, schema, manifests, ensure_table, write, (start, end), union_by_name
        )

    def recreate(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        write: TableWrite = REPLACE,
    ) -> int:
        def drop_and_create(connection: duckdb.DuckDBPyConnection) -> None:
            connection.execute(f"DROP TABLE IF EXISTS {self._table(table)}")
            self._ensure_table(connection, table, table_schema(schema, write))

        every_day = (dt.date.min, dt.date.max)
        return self._write(table, schema, manifests, drop_and_create, write, every_day, False)

    def _write(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        prepare: Callable[[duckdb.DuckDBPyConnection], None],
        write: TableWrite,
        bounds: tuple[dt.date, dt.date],
        union_by_name: bool,
    ) -> int:
        """In one transaction: `prepare` the table, write the manifests' rows in the write mode
        (replace: straight from the files; merge, history: through a stage), check them."""
        # the files hold no `dt`: it is their folders' (dt=YYYY-MM-DD/), read as a DATE
        files = (
            f"read_parquet(?, union_by_name = {str(union_by_name).lower()},"
            f" hive_partitioning = true, hive_types = {{{literal(PARTITION_COLUMN)}: 'DATE'}})"
        )
        urls = [url for manifest in manifests for url in manifest.urls]
        expected = sum(manifest.record_count for manifest in manifests)
        with self._session() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                prepare(connection)
                if write.mode is WriteMode.REPLACE:
                    self._replace_range(connection, table, *bounds)
                    loaded = self._insert(connection, self._table(table), files, urls)
                else:
                    stage = quote(f"stage_{table}")
                    columns = ", ".join(quote(name) for name in schema.names)
                    connection.execute(
                        f"CREATE TEMP TABLE {stage} AS"
                        f" SELECT {columns} FROM {self._table(table)} LIMIT 0"
                    )
                    loaded = self._insert(connection, stage, files, urls)
                    self._write_staged(connection, write, schema, table, stage, bounds)
                    connection.execute(f"DROP TABLE {stage}")
                check_loaded(table, "loaded", loaded, expected)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return loaded

    @staticmethod
    def _insert(
        connection: duckdb.DuckDBPyConnection, target: str, files: str, urls: list[str]
    ) -> int:
        if not urls:
            return 0
        row = connection.execute(
            f"INSERT INTO {target} BY NAME SELECT * FROM {files}", [urls]
        ).fetchone()
        return row[0] if row else 0

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        directory = destination.removeprefix("file://")
        Path(directory).parent.mkdir(parents=True, exist_ok=True)
        with self._session() as connection:
            connection.execute(
                f"COPY ({ranged(query, '?', '?')}) TO {literal(directory)}"
                f" (FORMAT parquet, PARTITION_BY ({quote(PARTITION_COLUMN)}), COMPRESSION zstd)",
                [start, end],
            )

    def _ensure_table(
        self, connection: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema
    ) -> None:
        wanted_columns = [(field.name, TYPES.of(field.type)) for field in schema]
        if not self._exists(connection, table):
            columns = ", ".join(f"{quote(name)} {kind}" for name, kind in wanted_columns)
            connection.execute(f"CREATE TABLE {self._table(table)} ({columns})")
            return
        actual = connection.execute(f"DESCRIBE {self._table(table)}").fetchall()
        actual_columns = [(name, kind) for name, kind, *_ in actual]
        for name, kind in columns_to_add(table, wanted_columns, actual_columns):
            connection.execute(f"ALTER TABLE {self._table(table)} ADD COLUMN {quote(name)} {kind}")

    @contextmanager
    def _session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        import duckdb

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
