"""How nested upstream values land: kept whole, flattened into columns, or as JSON text.

Flattening follows dlt's normalizer: an object's fields become columns `parent__child`, down to
`max_depth` levels (deeper objects stay whole), and lists always stay whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

SEPARATOR = "__"


def flattened(batch: pa.RecordBatch, max_depth: int | None) -> pa.RecordBatch:
    """`batch` with its struct columns spread into `parent__child` columns, `max_depth` levels
    deep (None: all of them). A null object gives null fields; a field with no value in the
    batch (Arrow type null) gives no column."""
    columns = [
        pair
        for field, column in zip(batch.schema, batch.columns, strict=True)
        for pair in _spread(field.name, column, 1, max_depth)
    ]
    names = [name for name, _ in columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"flattening gives column(s) {', '.join(repeated)} twice")
    flat = pa.RecordBatch.from_arrays([column for _, column in columns], names=names)
    return flat.replace_schema_metadata(batch.schema.metadata)


def _spread(
    name: str, column: pa.Array, depth: int, max_depth: int | None
) -> Iterator[tuple[str, pa.Array]]:
    if not pa.types.is_struct(column.type) or (max_depth is not None and depth > max_depth):
        yield name, column
        return
    for field, child in zip(column.type, column.flatten(), strict=True):
        if not pa.types.is_null(field.type):  # no value yet: as a struct's field would (contracts)
            yield from _spread(f"{name}{SEPARATOR}{field.name}", child, depth + 1, max_depth)


def json_values(values: Sequence[Any]) -> pa.Array:
    """Python values as a `json` column: each its JSON text (dates and timestamps as their ISO
    text), None null."""
    texts = [
        None if value is None else json.dumps(value, ensure_ascii=False, default=str)
        for value in values
    ]
    return pa.ExtensionArray.from_storage(pa.json_(), pa.array(texts, pa.string()))


def as_json(column: pa.Array) -> pa.Array:
    """A column as a `json` column: text is taken as the JSON it holds, any other value is
    written as JSON."""
    if pa.types.is_string(column.type):
        return pa.ExtensionArray.from_storage(pa.json_(), column)
    return json_values(column.to_pylist())
