"""Arrow schemas as the catalog writes them: column → type name, plus a stable fingerprint."""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from collections.abc import Mapping

import pyarrow as pa

PARTITION_COLUMN = "dt"

_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:,\s*tz=([A-Za-z0-9_/+\-:]+))?\]$")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")
_DECIMAL = re.compile(r"^decimal(?:128)?\((\d+),\s*(\d+)\)$")
# The types both warehouses hold without loss, by their catalog names; besides these, timestamps
# (any unit, with or without a zone) and decimals. Each warehouse spells them (warehouse/sql.py).
STORABLE_PLAIN = {
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "date32": pa.date32(),
}
_SUPPORTED = (
    f"{', '.join(STORABLE_PLAIN)}, timestamp[s|ms|us|ns] (optionally with tz=UTC), decimal(p, s)"
)


def parse_type(name: str) -> pa.DataType:
    """An Arrow type from its name ('int64', 'string', 'timestamp[s, tz=UTC]', 'decimal(12, 2)')."""
    text = name.strip()
    if match := _TIMESTAMP.match(text):
        return _timestamp(match.group(1), match.group(2))
    if match := _DECIMAL.match(text):
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 0 < precision <= 38 or scale > precision:
            raise ValueError(
                f"type {name!r}: a decimal's precision is 1 to 38, its scale at most the precision"
            )
        return pa.decimal128(precision, scale)
    try:
        parsed = pa.type_for_alias(text)
    except ValueError:
        raise ValueError(f"unknown type {name!r} (supported: {_SUPPORTED})") from None
    if not is_storable(parsed):
        raise ValueError(
            f"type {name!r} cannot be stored in the warehouse (supported: {_SUPPORTED})"
        )
    return parsed


def _timestamp(unit: str, zone: str | None) -> pa.TimestampType:
    """Arrow takes any word for a zone and fails only where it needs it: it is looked up now."""
    if zone is not None and zone != "UTC" and not _OFFSET.match(zone):
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {zone!r} (e.g. UTC, Europe/Paris, +01:00)"
            ) from None
    return pa.timestamp(unit, tz=zone)


def is_storable(data_type: pa.DataType) -> bool:
    """Whether both warehouses (DuckDB, Redshift) hold this type without loss."""
    return (
        data_type in STORABLE_PLAIN.values()
        or pa.types.is_timestamp(data_type)
        or pa.types.is_decimal128(data_type)
    )


def schema_from_mapping(columns: Mapping[str, str]) -> pa.Schema:
    return pa.schema([pa.field(name, parse_type(type_name)) for name, type_name in columns.items()])


def schema_to_mapping(schema: pa.Schema) -> dict[str, str]:
    return {field.name: str(field.type) for field in schema}


def lake_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of the lake's files and the warehouse's table: the source's columns, then `dt`.

    Parquet has no second-resolution timestamps, so those are stored in milliseconds.
    """
    fields = [
        field.with_type(pa.timestamp("ms", tz=field.type.tz))
        if pa.types.is_timestamp(field.type) and field.type.unit == "s"
        else field
        for field in schema
    ]
    return pa.schema([*fields, pa.field(PARTITION_COLUMN, pa.date32())])


def fingerprint(schema: pa.Schema) -> str:
    """A short, stable hash of column names and types (nullability and metadata ignored)."""
    text = ";".join(f"{field.name}:{field.type}" for field in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def describe_difference(expected: pa.Schema, actual: pa.Schema) -> str:
    """One line saying how `actual` differs from `expected`, or '' when names and types agree."""
    problems = []
    missing = [name for name in expected.names if name not in actual.names]
    extra = [name for name in actual.names if name not in expected.names]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    for field in expected:
        if field.name in actual.names:
            other = actual.field(field.name).type
            if other != field.type:
                problems.append(f"column {field.name} is {other}, expected {field.type}")
    if not problems and expected.names != actual.names:
        problems.append(f"columns in another order: {', '.join(actual.names)}")
    return "; ".join(problems)
