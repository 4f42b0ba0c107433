"""Arrow schemas as the catalog writes them: column → type name, plus a stable fingerprint.

Nested types are `struct<name: type, ...>` and `list<type>` (either nesting the other), and
`json`: a JSON document of any shape, held as its text.
"""

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
_NESTED = re.compile(r"^(struct|list)<(.*)>$", re.S)
_FIELD_NAME = r"[A-Za-z_][A-Za-z0-9_$-]*"
_FIELD = re.compile(rf"^({_FIELD_NAME}):(.+)$", re.S)
_BRACKETS = {"<": 1, "(": 1, "[": 1, ">": -1, ")": -1, "]": -1}
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
    "json": pa.json_(),
}
# Levels of struct and list a column may have: Parquet readers stop at 100 schema levels, and a
# list takes two.
MAX_NESTING = 32
_SUPPORTED = (
    f"{', '.join(STORABLE_PLAIN)}, timestamp[s|ms|us|ns] (optionally with tz=UTC), decimal(p, s),"
    " struct<name: type, ...>, list<type>"
)


def parse_type(name: str) -> pa.DataType:
    """An Arrow type from its name ('int64', 'string', 'timestamp[s, tz=UTC]', 'decimal(12, 2)')."""
    text = name.strip()
    if text in STORABLE_PLAIN:
        return STORABLE_PLAIN[text]
    if match := _NESTED.match(text):
        if text.count("<") > MAX_NESTING:
            raise ValueError(f"type {name!r} nests more than {MAX_NESTING} levels deep")
        nested = _nested(name, match.group(1), match.group(2))
        if not is_storable(nested):
            raise ValueError(f"type {name!r}: json is a column's own type, not a field's")
        return nested
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


def _nested(name: str, kind: str, inner: str) -> pa.DataType:
    if kind == "list":
        return pa.list_(parse_type(inner))
    fields = []
    for part in _top_level(inner):
        match = _FIELD.match(part.strip())
        if match is None:
            raise ValueError(f"type {name!r}: {part.strip()!r} is not 'name: type'")
        fields.append(pa.field(match.group(1), parse_type(match.group(2).strip())))
    if not fields or len({field.name for field in fields}) != len(fields):
        raise ValueError(f"type {name!r}: a struct has fields, each named once")
    return pa.struct(fields)


def _top_level(text: str) -> list[str]:
    """`text` split at the commas outside brackets: 'a: int64, b: decimal(9, 2)' is two."""
    parts, depth, start = [], 0, 0
    for position, character in enumerate(text):
        depth += _BRACKETS.get(character, 0)
        if character == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    return [*parts, text[start:]] if text.strip() else []


def _timestamp(unit: str, zone: str | None) -> pa.TimestampType:
    """Arrow takes any word for a zone and fails only where it needs it: it is looked up now."""
    if zone is not None and zone != "UTC" and not _OFFSET.match(zone):
        known_zone(zone, "e.g. UTC, Europe/Paris, +01:00")
    return pa.timestamp(unit, tz=zone)


def known_zone(zone: str, examples: str) -> str:
    """`zone`, an IANA time zone name this machine knows; else ValueError with `examples`."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} ({examples})") from None
    return zone


def is_storable(data_type: pa.DataType) -> bool:
    """Whether both warehouses (DuckDB, Redshift) hold this type without loss. A `json` document
    is a column of its own: inside a struct or a list it would land as a string."""
    if pa.types.is_struct(data_type):
        return data_type.num_fields > 0 and all(
            re.fullmatch(_FIELD_NAME, field.name) and _storable_inside(field.type)
            for field in data_type
        )
    if pa.types.is_list(data_type):
        return _storable_inside(data_type.value_type)
    return (
        data_type in STORABLE_PLAIN.values()
        or pa.types.is_timestamp(data_type)
        or pa.types.is_decimal128(data_type)
    )


def _storable_inside(data_type: pa.DataType) -> bool:
    return data_type != pa.json_() and is_storable(data_type)


def nesting(data_type: pa.DataType) -> int:
    """How many levels of struct and list `data_type` has (0: a plain type)."""
    deepest, pending = 0, [(data_type, 0)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if pa.types.is_struct(current):
            pending.extend((field.type, depth + 1) for field in current)
        elif pa.types.is_list(current) or pa.types.is_large_list(current):
            pending.append((current.value_type, depth + 1))
    return deepest


def is_nested(data_type: pa.DataType) -> bool:
    """A struct or a list: what the warehouses hold whole (DuckDB JSON, Redshift SUPER)."""
    return pa.types.is_struct(data_type) or pa.types.is_list(data_type)


def type_name(data_type: pa.DataType) -> str:
    """The catalog's name of a type, which parse_type reads back. Nested types are named by
    their fields' names and types alone: a list's child name ('item' in Arrow, 'element' in
    parquet), nullability and metadata are not part of it."""
    if pa.types.is_struct(data_type):
        fields = ", ".join(f"{field.name}: {type_name(field.type)}" for field in data_type)
        return f"struct<{fields}>"
    if pa.types.is_list(data_type):
        return f"list<{type_name(data_type.value_type)}>"
    if data_type == pa.json_():
        return "json"
    return str(data_type)


def merged_type(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """`old` grown by the struct fields only `new` has, at any depth (schema contract evolve)."""
    if pa.types.is_struct(old) and pa.types.is_struct(new):
        fields = [
            field.with_type(merged_type(field.type, new.field(field.name).type))
            if new.get_field_index(field.name) >= 0
            else field
            for field in old
        ]
        added = [field for field in new if old.get_field_index(field.name) < 0 and _valued(field)]
        return pa.struct(
            [*fields, *(pa.field(field.name, valued_type(field.type)) for field in added)]
        )
    if pa.types.is_list(old) and pa.types.is_list(new):
        return pa.list_(merged_type(old.value_type, new.value_type))
    return old


def added_fields(old: pa.DataType, new: pa.DataType, path: str) -> list[str]:
    """The dotted paths (`user.email`) of the struct fields `new` has and `old` lacks."""
    if pa.types.is_list(old) and pa.types.is_list(new):
        return added_fields(old.value_type, new.value_type, path)
    if not (pa.types.is_struct(old) and pa.types.is_struct(new)):
        return []
    found = []
    for field in new:
        if old.get_field_index(field.name) < 0:
            if _valued(field):
                found.append(f"{path}.{field.name}")
        else:
            found += added_fields(old.field(field.name).type, field.type, f"{path}.{field.name}")
    return found


def valued_type(data_type: pa.DataType) -> pa.DataType:
    """`data_type` without the struct fields of Arrow type null, at any depth: a key whose every
    value was null says nothing of its type yet, and reads null when it is absent anyway."""
    if pa.types.is_struct(data_type):
        return pa.struct(
            [field.with_type(valued_type(field.type)) for field in data_type if _valued(field)]
        )
    if pa.types.is_list(data_type):
        return pa.list_(valued_type(data_type.value_type))
    return data_type


def _valued(field: pa.Field) -> bool:
    return not pa.types.is_null(field.type)


def narrowed_type(wide: pa.DataType, like: pa.DataType) -> pa.DataType:
    """`wide` keeping only the struct fields `like` has, at any depth: what a file written
    before a struct grew (schema contract evolve) is expected to hold."""
    if pa.types.is_struct(wide) and pa.types.is_struct(like):
        return pa.struct(
            [
                field.with_type(narrowed_type(field.type, like.field(field.name).type))
                for field in wide
                if like.get_field_index(field.name) >= 0
            ]
        )
    if pa.types.is_list(wide) and pa.types.is_list(like):
        return pa.list_(narrowed_type(wide.value_type, like.value_type))
    return wide


def schema_from_mapping(columns: Mapping[str, str]) -> pa.Schema:
    return pa.schema([pa.field(name, parse_type(type_name)) for name, type_name in columns.items()])


def schema_to_mapping(schema: pa.Schema) -> dict[str, str]:
    return {field.name: type_name(field.type) for field in schema}


def lake_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of a lake table (and the warehouse's): the files' columns, then `dt`, which is
    their folder's (`dt=YYYY-MM-DD/`)."""
    return with_partition_column(file_schema(schema))


def file_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of the lake's files: the source's columns.

    Parquet has no second-resolution timestamps, so those are stored in milliseconds, inside
    structs and lists too.
    """
    return pa.schema([field.with_type(_lake_type(field.type)) for field in schema])


def with_partition_column(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field(PARTITION_COLUMN, pa.date32()))


def _lake_type(data_type: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(data_type) and data_type.unit == "s":
        return pa.timestamp("ms", tz=data_type.tz)
    if pa.types.is_struct(data_type):
        return pa.struct([field.with_type(_lake_type(field.type)) for field in data_type])
    if pa.types.is_list(data_type):
        return pa.list_(_lake_type(data_type.value_type))
    return data_type


def fingerprint(schema: pa.Schema) -> str:
    """A short, stable hash of column names and types (nullability and metadata ignored)."""
    text = ";".join(f"{field.name}:{type_name(field.type)}" for field in schema)
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
            other, wanted = type_name(actual.field(field.name).type), type_name(field.type)
            if other != wanted:
                problems.append(f"column {field.name} is {other}, expected {wanted}")
    if not problems and expected.names != actual.names:
        problems.append(f"columns in another order: {', '.join(actual.names)}")
    return "; ".join(problems)
