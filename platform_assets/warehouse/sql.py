"""What the warehouses share: the SQL that differs between them only in the driver's
placeholder, the rule that maps Arrow types to SQL types, and how a table must match the lake.

A warehouse subclasses `SqlWarehouse`, names its placeholder and schema, opens sessions, spells
the storable types (`SqlTypes`) and writes what only it does (its load, its export).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pyarrow as pa

from platform_assets.errors import ConfigurationError, RunError
from platform_assets.identifiers import quote
from platform_assets.schemas import PARTITION_COLUMN, is_nested
from platform_assets.warehouse.modes import write_statements
from platform_assets.write_modes import TableWrite


class Cursor(Protocol):
    """What a session yields: a DB-API cursor, or DuckDB's connection, which acts as one."""

    def execute(self, query: str, parameters: Any = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


@dataclass(frozen=True)
class SqlTypes:
    """How one warehouse spells the storable Arrow types (schemas.STORABLE_TYPES), one rule:
    a table of the plain types (`json` among them), then timestamps by unit and zone, then
    decimals, then structs and lists, held whole in one schemaless type."""

    warehouse: str
    plain: Mapping[pa.DataType, str]
    timestamp: Callable[[pa.TimestampType], str]
    decimal: str  # a format with {precision} and {scale}
    nested: str

    def of(self, data_type: pa.DataType) -> str:
        if data_type in self.plain:
            return self.plain[data_type]
        if is_nested(data_type):
            return self.nested
        if isinstance(data_type, pa.TimestampType):
            return self.timestamp(data_type)
        if isinstance(data_type, pa.Decimal128Type):
            return self.decimal.format(precision=data_type.precision, scale=data_type.scale)
        raise ConfigurationError(f"no {self.warehouse} type for Arrow type {data_type}")


class SqlWarehouse(ABC):
    PARAMETER: ClassVar[str]  # the driver's placeholder for a bound value
    schema_name: str  # the schema that holds the tables

    @abstractmethod
    def _session(self) -> AbstractContextManager[Cursor]:
        """One connection, whose work is committed if the block ends without an error; any
        error of the driver's becomes a one-line RunError."""

    def _reading(self) -> AbstractContextManager[Cursor]:
        """A session that only reads (status, checks): read-only where the warehouse has it."""
        return self._session()

    def _table(self, table: str) -> str:
        return f"{quote(self.schema_name)}.{quote(table)}"

    def _in_range(self) -> str:
        """`dt` from the first bound value up to, not including, the second."""
        column, value = quote(PARTITION_COLUMN), self.PARAMETER
        return f"{column} >= {value} AND {column} < {value}"

    def _exists(self, cursor: Cursor, table: str) -> bool:
        value = self.PARAMETER
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables"
            f" WHERE table_schema = {value} AND table_name = {value}",
            (self.schema_name, table),
        )
        row = cursor.fetchone()
        return bool(row and row[0])

    def partition_rows(self, table: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        column, target = quote(PARTITION_COLUMN), self._table(table)  # validated before any SQL
        with self._reading() as cursor:
            if not self._exists(cursor, table):
                return {}
            cursor.execute(
                f"SELECT {column}, count(*) FROM {target}"
                f" WHERE {self._in_range()} GROUP BY {column} ORDER BY {column}",
                (start, end),
            )
            return {day: count for day, count in cursor.fetchall()}

    def duplicate_keys(
        self,
        table: str,
        key: Sequence[str],
        start: dt.date,
        end: dt.date,
        across_table: bool = False,
    ) -> int:
        columns, target = ", ".join(quote(name) for name in key), self._table(table)
        rows = f"{target} WHERE {self._in_range()}"
        if across_table:  # every row of a key that has one in the range
            keys = ", ".join(f"{target}.{quote(name)}" for name in key)
            inner = quote("in_range")
            same = " AND ".join(f"{inner}.{quote(name)} = {target}.{quote(name)}" for name in key)
            rows = (
                f"{target} WHERE EXISTS (SELECT 1 FROM {target} AS {inner}"
                f" WHERE {same} AND {inner}.{quote(PARTITION_COLUMN)} >= {self.PARAMETER}"
                f" AND {inner}.{quote(PARTITION_COLUMN)} < {self.PARAMETER}) GROUP BY {keys}"
            )
        else:
            rows += f" GROUP BY {columns}"
        with self._reading() as cursor:
            if not self._exists(cursor, table):
                return 0
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {rows} HAVING count(*) > 1) AS repeated",
                (start, end),
            )
            row = cursor.fetchone()
            return row[0] if row else 0

    def key_versions(
        self, table: str, columns: Sequence[str], start: dt.date, end: dt.date
    ) -> list[tuple[Any, ...]]:
        """The values of `columns` in the rows with dt in [start, end); none without a table."""
        selected, target = ", ".join(quote(name) for name in columns), self._table(table)
        with self._reading() as cursor:
            if not self._exists(cursor, table):
                return []
            cursor.execute(
                f"SELECT {selected} FROM {target} WHERE {self._in_range()}", (start, end)
            )
            return [tuple(row) for row in cursor.fetchall()]

    def _write_staged(
        self,
        cursor: Cursor,
        write: TableWrite,
        schema: pa.Schema,
        table: str,
        stage: str,
        bounds: tuple[dt.date, dt.date],
        staged: str | None = None,
    ) -> None:
        """The staged rows into the table, as its write mode says (warehouse/modes.py);
        `staged` reads the stage's columns in the table's types (by default, as they are)."""
        for statement in write_statements(
            write, schema, self._table(table), stage, self._in_range(), staged
        ):
            if statement.ranged:
                cursor.execute(statement.sql, bounds)
            else:
                cursor.execute(statement.sql)

    def _replace_range(self, cursor: Cursor, table: str, start: dt.date, end: dt.date) -> None:
        """The load's DELETE: the range's rows go, in the transaction that inserts anew."""
        cursor.execute(f"DELETE FROM {self._table(table)} WHERE {self._in_range()}", (start, end))


def check_loaded(table: str, what: str, loaded: int, expected: int) -> None:
    """A load's rows must be the manifests' rows, or it rolls back."""
    if loaded != expected:
        raise RunError(f"table {table}: {what} {loaded} rows but the manifests list {expected}")


class TableMismatchError(RunError):
    """A table whose columns are not the lake's: only recreating it from the lake mends it."""


def columns_to_add(
    table: str, wanted: Sequence[tuple[str, str]], actual: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (name, type) columns the table lacks; the table may have fewer, never other, columns."""
    have = dict(actual)
    conflicts = [
        f"{name} {have[name]} (the lake's files: {kind})"
        for name, kind in wanted
        if name in have and have[name] != kind
    ]
    unknown = [name for name in have if name not in dict(wanted)]
    if conflicts or unknown:
        problems = conflicts + [f"{name} (not in the lake's files)" for name in unknown]
        raise TableMismatchError(f"table {table} does not match the lake: {'; '.join(problems)}")
    return [(name, kind) for name, kind in wanted if name not in have]


def ranged(query: str, low: str, high: str) -> str:
    """The export query restricted to the days from `low` up to `high` (SQL expressions)."""
    column = quote(PARTITION_COLUMN)
    return f"SELECT * FROM ({query}) AS export WHERE {column} >= {low} AND {column} < {high}"


def literal(text: str, *, backslash_escapes: bool = False) -> str:
    """A SQL string literal, for the few places that take no bound values (COPY, UNLOAD): its
    quotes doubled, and its backslashes too where the database reads a backslash in a literal as
    an escape (Redshift, whose own QUOTE_LITERAL doubles both); standard SQL (DuckDB) keeps them."""
    if backslash_escapes:
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"
