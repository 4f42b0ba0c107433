"""Reading back what a run left in the warehouse, whichever warehouse the settings name."""

from __future__ import annotations

import duckdb

from platform_assets.settings import Settings
from platform_assets.warehouse.redshift import RedshiftWarehouse


def warehouse_query(settings: Settings, sql: str) -> list[tuple]:
    """Rows of `sql` in the settings' warehouse; `{schema}` names the platform's schema."""
    if settings.warehouse_name == "duckdb":
        with duckdb.connect(str(settings.home / "warehouse.duckdb"), read_only=True) as db:
            return db.execute(sql.format(schema="main")).fetchall()
    warehouse = settings.warehouse  # the one other than DuckDB (warehouse.WAREHOUSES)
    assert isinstance(warehouse, RedshiftWarehouse), settings.warehouse_name
    connection = warehouse.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql.format(schema=warehouse.schema_name))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()
