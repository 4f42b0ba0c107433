"""The warehouse: one table per source, loaded a partition range per transaction.

A warehouse is one module over the SQL they share (sql.py) and a line in `WAREHOUSES`. The
settings choose one by PLATFORM_WAREHOUSE (by default the environment's own: duckdb locally,
redshift on aws) and configure it through the module's `configure`, which checks its variables
before any work and returns how to open it.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from platform_assets.write_modes import REPLACE, TableWrite

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.lake import Manifest
    from platform_assets.storage import Store
    from platform_assets.variables import Variables

WAREHOUSES = {
    "duckdb": "platform_assets.warehouse.duckdb:configure",
    "redshift": "platform_assets.warehouse.redshift:configure",
}


class Warehouse(Protocol):
    schema_name: str  # the schema that holds the tables

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
        """The manifests' rows into the table as `write` says, in one transaction: by default
        they replace the rows with dt in [start, end); merge and history: write_modes.py.

        Creates the table from `schema` (which includes `dt`) on first load and adds the columns
        that schema evolution brought; returns rows loaded. `file_columns` names each file's
        columns where files differ (an evolved schema); None: every file has `schema`'s.
        """
        ...

    def recreate(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        write: TableWrite = REPLACE,
    ) -> int:
        """Drop the table and create it from `schema` with the manifests' rows (every file has
        `schema`'s columns), in one transaction; returns rows loaded."""
        ...

    def partition_rows(self, table: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        """Rows per dt in [start, end); empty if the table does not exist."""
        ...

    def duplicate_keys(
        self,
        table: str,
        key: Sequence[str],
        start: dt.date,
        end: dt.date,
        across_table: bool = False,
    ) -> int:
        """How many key values occur more than once among the rows with dt in [start, end)
        (`across_table`: among all rows, for the key values that have a row in the range)."""
        ...

    def key_versions(
        self, table: str, columns: Sequence[str], start: dt.date, end: dt.date
    ) -> list[tuple[Any, ...]]:
        """The values of `columns` in the rows with dt in [start, end)."""
        ...

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        """Write the query's rows with dt in [start, end) as parquet under `destination` (a lake
        URL), one folder per day (dt=YYYY-MM-DD/), each file keeping `dt` as a column."""
        ...


@dataclass(frozen=True)
class WarehouseContext:
    """What the settings hand a warehouse's `configure`."""

    home: Path  # PLATFORM_HOME, where a warehouse kept in a file lives
    lake_scheme: str  # 'file://' or 's3://': where the lake's files are
    lake_store: Callable[[], Store]  # the lake's store, made when first needed
    secret_string: Callable[[str], str]  # a Secrets Manager secret's string


Configure = Callable[["Variables", WarehouseContext], Callable[[], Warehouse]]


def configure_warehouse(
    name: str, variables: Variables, context: WarehouseContext
) -> Callable[[], Warehouse]:
    """Check the named warehouse's settings now; open it when the returned callable is called."""
    module, _, function = WAREHOUSES[name].partition(":")
    configure: Configure = getattr(importlib.import_module(module), function)
    return configure(variables, context)
