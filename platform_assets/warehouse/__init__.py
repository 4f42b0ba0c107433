"""The warehouse: one table per source, loaded a partition range per transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

import pyarrow as pa

from platform_assets.errors import RunError
from platform_assets.identifiers import quote
from platform_assets.lake import Manifest
from platform_assets.schemas import PARTITION_COLUMN


class Warehouse(Protocol):
    def load(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        start: dt.date,
        end: dt.date,
        file_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> int:
        """Replace the table's rows with dt in [start, end) by the manifests' rows; one transaction.

        Creates the table from `schema` (which includes `dt`) on first load and adds the columns
        that schema evolution brought; returns rows loaded. `file_columns` names each file's
        columns where files differ (an evolved schema); None: every file has `schema`'s.
        """
        ...

    def partition_rows(self, table: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        """Rows per dt in [start, end); empty if the table does not exist."""
        ...

    def duplicate_keys(self, table: str, key: Sequence[str], start: dt.date, end: dt.date) -> int:
        """How many key values occur more than once among the rows with dt in [start, end)."""
        ...

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        """Write the query's rows with dt in [start, end) as parquet under `destination` (a lake
        URL), one folder per day (dt=YYYY-MM-DD/), each file keeping `dt` as a column."""
        ...


def ranged(query: str, low: str, high: str) -> str:
    """The export query restricted to the days from `low` up to `high` (SQL expressions)."""
    column = quote(PARTITION_COLUMN)
    return f"SELECT * FROM ({query}) AS export WHERE {column} >= {low} AND {column} < {high}"


def literal(text: str) -> str:
    """A SQL string literal, for the few places that take no bound values (COPY, UNLOAD)."""
    return "'" + text.replace("'", "''") + "'"


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
        raise RunError(f"table {table} does not match the lake: {'; '.join(problems)}")
    return [(name, kind) for name, kind in wanted if name not in have]
