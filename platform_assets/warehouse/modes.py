"""The SQL that writes a staged range into a table in its write mode (write_modes.py), the same
for every warehouse: the stage holds the range's rows as the lake's files have them, `target`
and `stage` are quoted names, the range's two bounds are bound values."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from platform_assets.identifiers import quote
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.write_modes import IS_CURRENT, VALID_FROM, VALID_TO, TableWrite, WriteMode


@dataclass(frozen=True)
class Statement:
    sql: str
    ranged: bool = False  # binds the range's (start, end)


def table_schema(schema: pa.Schema, write: TableWrite) -> pa.Schema:
    """The table's columns: the lake's; a history table's then say when each version was valid."""
    if write.mode is not WriteMode.HISTORY:
        return schema
    order_type = schema.field(write.order_by).type
    return (
        schema.append(pa.field(VALID_FROM, order_type))
        .append(pa.field(VALID_TO, order_type))
        .append(pa.field(IS_CURRENT, pa.bool_()))
    )


def write_statements(
    write: TableWrite,
    schema: pa.Schema,
    target: str,
    stage: str,
    in_range: str,
    staged: str | None = None,
) -> list[Statement]:
    """What replaces (replace), upserts (merge) or adds versions (history) from the stage;
    `staged` is the select list that reads the stage's columns in the table's types."""
    columns = ", ".join(quote(name) for name in schema.names)
    values = staged or columns
    if write.mode is WriteMode.REPLACE:
        return [
            Statement(f"DELETE FROM {target} WHERE {in_range}", ranged=True),
            Statement(f"INSERT INTO {target} ({columns}) SELECT {values} FROM {stage}"),
        ]
    if write.mode is WriteMode.MERGE:
        return _merge(write, schema, target, stage, columns, values)
    return _history(write, schema, target, stage, columns, values, in_range)


def _deleted(write: TableWrite, schema: pa.Schema, table: str) -> str:
    """Whether a row of `table` is a deletion marker."""
    if write.deleted is None:
        return "FALSE"
    marker = f"{table}.{quote(write.deleted)}"
    if pa.types.is_boolean(schema.field(write.deleted).type):
        return f"COALESCE({marker}, FALSE)"
    return f"{marker} IS NOT NULL"


def _same_key(write: TableWrite, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{quote(name)} = {right}.{quote(name)}" for name in write.key)


def _merge(
    write: TableWrite, schema: pa.Schema, target: str, stage: str, columns: str, values: str
) -> list[Statement]:
    """The latest version per key in the stage replaces an older one in the table; a marker
    version removes it. The stage holds every partition from the range on, so no later
    version can hide in a partition the load does not read."""
    latest = quote(stage.strip('"') + "_latest")
    key = ", ".join(quote(name) for name in write.key)
    order = f"{quote(write.order_by)} DESC, {quote(PARTITION_COLUMN)} DESC"
    order_by = quote(write.order_by)
    return [
        Statement(
            f"CREATE TEMP TABLE {latest} AS SELECT {columns} FROM"
            f" (SELECT {values}, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order})"
            f" AS version_rank FROM {stage}) AS ranked WHERE version_rank = 1"
        ),
        Statement(
            f"DELETE FROM {target} USING {latest}"
            f" WHERE {_same_key(write, target, latest)}"
            f" AND {target}.{order_by} <= {latest}.{order_by}"
        ),
        Statement(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {latest}"
            f" WHERE NOT {_deleted(write, schema, latest)} AND NOT EXISTS"
            f" (SELECT 1 FROM {target} WHERE {_same_key(write, target, latest)})"
        ),
        Statement(f"DROP TABLE {latest}"),
    ]


def _history(
    write: TableWrite,
    schema: pa.Schema,
    target: str,
    stage: str,
    columns: str,
    values: str,
    in_range: str,
) -> list[Statement]:
    """The range's versions replace those it held before (a version other partitions also
    hold is kept once, from the first); then the keys touched get their validity anew."""
    touched = quote(stage.strip('"') + "_keys")
    versions = quote(stage.strip('"') + "_versions")
    key = ", ".join(quote(name) for name in write.key)
    order_by, valid_from = quote(write.order_by), quote(VALID_FROM)
    valid_to, is_current = quote(VALID_TO), quote(IS_CURRENT)
    later = "later"
    return [
        Statement(
            f"CREATE TEMP TABLE {touched} AS SELECT DISTINCT {key} FROM {target}"
            f" WHERE {in_range} UNION SELECT DISTINCT {key} FROM {stage}",
            ranged=True,
        ),
        Statement(f"DELETE FROM {target} WHERE {in_range}", ranged=True),
        Statement(
            f"CREATE TEMP TABLE {versions} AS SELECT {columns} FROM"
            f" (SELECT {values}, ROW_NUMBER() OVER (PARTITION BY {key}, {order_by}"
            f" ORDER BY {quote(PARTITION_COLUMN)}) AS version_rank FROM {stage}) AS ranked"
            " WHERE version_rank = 1"
        ),
        Statement(
            f"INSERT INTO {target} ({columns}, {valid_from}, {valid_to}, {is_current})"
            f" SELECT {columns}, {order_by}, NULL, FALSE FROM {versions} WHERE NOT EXISTS"
            f" (SELECT 1 FROM {target} WHERE {_same_key(write, target, versions)}"
            f" AND {target}.{valid_from} = {versions}.{order_by})"
        ),
        Statement(
            f"UPDATE {target} SET {valid_to} = {later}.next_from,"
            f" {is_current} = ({later}.next_from IS NULL AND NOT {_deleted(write, schema, target)})"
            f" FROM (SELECT {key}, {valid_from}, LEAD({valid_from}) OVER"
            f" (PARTITION BY {key} ORDER BY {valid_from}) AS next_from FROM {target}"
            f" WHERE EXISTS (SELECT 1 FROM {touched} WHERE {_same_key(write, target, touched)}))"
            f" AS {later} WHERE {_same_key(write, target, later)}"
            f" AND {target}.{valid_from} = {later}.{valid_from}"
        ),
        Statement(f"DROP TABLE {versions}"),
        Statement(f"DROP TABLE {touched}"),
    ]
