"""Where an Iceberg catalog keeps a table's current metadata file, read and swapped directly:
the row pyiceberg's SQL catalog keeps in SQLite, or the Glue table's `metadata_location`.

A swap succeeds only if the pointer still names the file the commit started from (the
optimistic concurrency both catalogs use), so a concurrent commit makes it fail, not lose.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class Pointer(Protocol):
    def current(self, namespace: str, name: str) -> str | None:
        """The table's metadata location, or None if the catalog has no such table."""
        ...

    def swap(self, namespace: str, name: str, expected: str, location: str) -> bool:
        """Point the table at `location` if it still points at `expected`."""
        ...


@dataclass(frozen=True)
class SqlPointer:
    """pyiceberg's SQL catalog in a SQLite file: its `iceberg_tables` row for the table."""

    path: Path
    catalog: str

    def current(self, namespace: str, name: str) -> str | None:
        if not self.path.exists():
            return None
        try:
            rows = _execute(
                self.path,
                "SELECT metadata_location FROM iceberg_tables"
                " WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?",
                (self.catalog, namespace, name),
            )
        except sqlite3.OperationalError:  # no such table yet: pyiceberg makes it on connect
            return None
        row = rows[0] if rows else None
        return None if row is None else str(row[0])

    def swap(self, namespace: str, name: str, expected: str, location: str) -> bool:
        changed = _execute(
            self.path,
            "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?"
            " WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
            " AND metadata_location = ? RETURNING 1",
            (location, expected, self.catalog, namespace, name, expected),
        )
        return len(changed) == 1


def _execute(path: Path, statement: str, parameters: tuple[str, ...]) -> list[Any]:
    """One statement in its own transaction; a locked catalog is waited for, as pyiceberg's
    SQLAlchemy engine waits."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection, connection:
        return connection.execute(statement, parameters).fetchall()


_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)


@dataclass(frozen=True)
class GluePointer:
    """A Glue table's `metadata_location` parameter, updated with the table's VersionId. The
    rest of the table (its columns, for Athena) is kept as it is: a direct commit never
    changes the schema."""

    client: Callable[[], Any]

    def _table(self, namespace: str, name: str) -> dict[str, Any] | None:
        glue = self.client()
        try:
            return dict(glue.get_table(DatabaseName=namespace, Name=name)["Table"])
        except glue.exceptions.EntityNotFoundException:
            return None

    def current(self, namespace: str, name: str) -> str | None:
        table = self._table(namespace, name)
        if table is None:
            return None
        location = table.get("Parameters", {}).get("metadata_location")
        return None if location is None else str(location)

    def swap(self, namespace: str, name: str, expected: str, location: str) -> bool:
        table = self._table(namespace, name)
        if table is None or table.get("Parameters", {}).get("metadata_location") != expected:
            return False
        table_input = {key: table[key] for key in _TABLE_INPUT_KEYS if key in table}
        table_input["Parameters"] = {
            **table_input.get("Parameters", {}),
            "metadata_location": location,
            "previous_metadata_location": expected,
        }
        glue = self.client()
        try:
            glue.update_table(
                DatabaseName=namespace,
                TableInput=table_input,
                SkipArchive=True,
                VersionId=table["VersionId"],
            )
        except glue.exceptions.ConcurrentModificationException:
            return False
        return True
