"""The embedded warehouse: a DuckDB file, loaded straight from the lake's parquet files."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
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

log = logging.getLogger("platform")
LOCK_WAIT_SECONDS = 120.0
LOCK_WAIT_VARIABLE = "PLATFORM_DUCKDB_LOCK_WAIT_SECONDS"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>\S+) \(PID (?P<pid>\d+)\)")
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
    lock_wait = variables.seconds(LOCK_WAIT_VARIABLE, LOCK_WAIT_SECONDS)
    return lambda: DuckDBWarehouse(path, memory_limit, lock_wait)


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
            "autoinstall_known_extensions": False,  # never a download mid-run
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
            # the export's SQL is the catalog's: it reaches no file but its destination's
            # folder (DuckDB allows what lies inside a directory, not the directory itself)
            inside = literal(str(Path(directory).parent) + "/")
            connection.execute(f"SET allowed_directories = [{inside}]")
            connection.execute("SET enable_external_access = false")
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

    def _reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return self._session(read_only=True)

    @contextmanager
    def _session(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file, opened when its lock allows, waiting up to the lock wait; read only, a
        file not yet made reads as an empty database."""
        import duckdb

        if read_only and not self.path.exists():
            connection = duckdb.connect(":memory:", config=self._config)
        else:
            connection = self._connect(read_only)
        try:
            yield connection
        except duckdb.Error as error:
            raise RunError(f"warehouse {self.path}: {' '.join(str(error).split())}") from error
        finally:
            connection.close()

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_seconds
        waits = pauses()
        told = False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=self._config)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    raise RunError(f"warehouse {self.path}: {error}") from None
                holder = _lock_holder(str(error))
                if time.monotonic() > deadline:
                    raise RunError(
                        f"warehouse {self.path}: still locked by {holder} after"
                        f" {self._lock_wait_seconds:g} s ({LOCK_WAIT_VARIABLE} sets the wait)"
                    ) from None
                if not told:
                    log.warning(
                        "warehouse %s is locked by %s: waiting up to %g s (%s)",
                        self.path,
                        holder,
                        self._lock_wait_seconds,
                        LOCK_WAIT_VARIABLE,
                    )
                    told = True
                time.sleep(next(waits))


def _lock_holder(message: str) -> str:
    """Who holds the file's lock, as DuckDB names it: the process, and its command line when
    it runs on this machine (a run of ours, a notebook, a DuckDB shell)."""
    match = _LOCK_HOLDER.search(message)
    if match is None:
        return "another process"
    pid = match.group("pid")
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        command = match.group("program")
    return f"process {pid} ({command[:120]})"
