"""Schema contracts: what happens when upstream's columns differ from the source's schema.

`freeze` (the default): any new or missing column is an error that names it, and so is a new
field inside an object (by its dotted path, `user.email`).
`evolve`: new columns are added (nullable) to the lake's and the warehouse's schema, and new
fields to their struct, where older rows read NULL; a declared column that goes missing is still
an error. A field missing from some records is null in them, under either contract; a field
inside an object whose every value in a batch is null is no news, and joins once it has one.

Sources tag their batches with where the rows came from (a file, a URL, a table), so that the
messages here can name it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

from platform_assets.errors import RunError
from platform_assets.identifiers import is_sql_identifier
from platform_assets.nesting import as_json
from platform_assets.schemas import (
    MAX_NESTING,
    PARTITION_COLUMN,
    added_fields,
    is_storable,
    merged_type,
    nesting,
    valued_type,
)

log = logging.getLogger("platform")
ORIGIN = b"platform.origin"


class SchemaContract(StrEnum):
    FREEZE = "freeze"
    EVOLVE = "evolve"


def with_origin(batch: pa.RecordBatch, origin: str) -> pa.RecordBatch:
    return batch.replace_schema_metadata({ORIGIN: origin.encode()})


def origin_of(batch: pa.RecordBatch) -> str:
    metadata = batch.schema.metadata or {}
    return metadata.get(ORIGIN, b"upstream").decode()


def effective_schema(
    declared: pa.Schema | None, stored: pa.Schema | None, contract: SchemaContract
) -> pa.Schema | None:
    """The catalog's columns, then (under evolve) their structs grown and the columns that
    evolution added, kept in the lake; or, with nothing declared, the schema inferred at the
    first push and evolved since."""
    if declared is None:
        return stored
    if stored is None or contract is SchemaContract.FREEZE:
        return declared
    extras = [f for f in stored if f.name not in declared.names]
    return pa.schema([*_grown(declared, stored), *extras])


def _grown(schema: pa.Schema, other: pa.Schema) -> pa.Schema:
    """`schema`, its structs grown by the fields `other`'s same columns add."""
    names = set(other.names)
    return pa.schema(
        [
            f.with_type(merged_type(f.type, other.field(f.name).type)) if f.name in names else f
            for f in schema
        ]
    )


def changed_types(
    declared: pa.Schema | None, stored: pa.Schema | None
) -> list[tuple[str, pa.DataType, pa.DataType]]:
    """The declared columns whose type is not the one the lake holds: (name, lake's, catalog's)."""
    if declared is None or stored is None:
        return []
    return [
        (field.name, stored.field(field.name).type, field.type)
        for field in declared
        if field.name in stored.names and stored.field(field.name).type != field.type
    ]


@dataclass
class Conformer:
    """Brings each batch to the source's current schema, growing it under `evolve`."""

    source: str
    contract: SchemaContract
    declared: pa.Schema | None
    schema: pa.Schema | None
    grown: bool = field(default=False, init=False)

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        origin = origin_of(batch)
        if self.schema is None:
            self.schema = _storable(batch.schema, origin)
            self.grown = True
            log.info("source %s: schema inferred from %s", self.source, origin)
        extra = [f for f in batch.schema if f.name not in self.schema.names]
        if extra and self.contract is SchemaContract.FREEZE:
            raise RunError(
                f"{origin}: upstream added column(s) {', '.join(f.name for f in extra)}, which the"
                " frozen schema does not have (schema_contract: evolve would add them)"
            )
        if extra:
            self.schema = pa.schema([*self.schema, *_storable(pa.schema(extra), origin)])
            self.grown = True
            log.warning(
                "source %s: new column(s) %s from %s added to the schema",
                self.source,
                ", ".join(f.name for f in extra),
                origin,
            )
        self._follow_fields(batch.schema, origin)
        missing = [name for name in self.schema.names if name not in batch.schema.names]
        required = (
            missing
            if self.contract is SchemaContract.FREEZE or self.declared is None
            else [name for name in missing if name in self.declared.names]
        )
        if required:
            raise RunError(f"{origin}: upstream lacks column(s) {', '.join(required)}")
        columns = []
        for target in self.schema:
            if target.name not in batch.schema.names:
                columns.append(pa.nulls(batch.num_rows, target.type))
                continue
            column = batch.column(target.name)
            if target.type == pa.json_() and column.type != target.type:
                columns.append(as_json(column))
                continue
            try:
                columns.append(column.cast(target.type) if column.type != target.type else column)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise RunError(
                    f"{origin}: column {target.name} is {column.type}, the schema says"
                    f" {target.type} ({' '.join(str(error).split())})"
                ) from None
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    def _follow_fields(self, upstream: pa.Schema, origin: str) -> None:
        """New fields inside upstream's objects: drift under freeze, grown into the struct
        under evolve (a struct cast would drop them silently)."""
        assert self.schema is not None
        added = [
            path
            for target in self.schema
            if target.name in upstream.names
            for path in added_fields(target.type, upstream.field(target.name).type, target.name)
        ]
        if not added:
            return
        if self.contract is SchemaContract.FREEZE:
            raise RunError(
                f"{origin}: upstream added field(s) {', '.join(added)}, which the frozen schema"
                " does not have (schema_contract: evolve would add them)"
            )
        self.schema = _storable(_grown(self.schema, upstream), origin)
        self.grown = True
        log.warning(
            "source %s: new field(s) %s from %s added to the schema",
            self.source,
            ", ".join(added),
            origin,
        )


def named_usably(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch`, if its column names are as the lake and the warehouse need them: each once,
    each an SQL identifier. Checked before anything is written, so a bad header publishes
    nothing."""
    names = batch.schema.names
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise RunError(
            f"{origin_of(batch)}: column(s) {', '.join(twice)} appear more than once upstream"
        )
    unusable = [name for name in names if not is_sql_identifier(name)]
    if unusable:
        raise RunError(
            f"{origin_of(batch)}: column name(s) {', '.join(map(repr, unusable))} are not SQL"
            " identifiers (letters, digits and _, not starting with a digit): rename them upstream"
        )
    return batch


def _storable(schema: pa.Schema, origin: str) -> pa.Schema:
    """`schema` as the source's, its fields of no value yet left out (schemas.valued_type)."""
    schema = pa.schema([pa.field(item.name, valued_type(item.type)) for item in schema])
    for item in schema:
        if item.name == PARTITION_COLUMN:
            raise RunError(f"{origin}: column {PARTITION_COLUMN!r} is reserved for partitions")
        if (levels := nesting(item.type)) > MAX_NESTING:
            raise RunError(
                f"{origin}: column {item.name} nests {levels} levels deep, more than"
                f" {MAX_NESTING}: declare it json to keep it as a document"
            )
        if not is_storable(item.type):
            raise RunError(
                f"{origin}: column {item.name}: type {item.type} cannot be stored;"
                " declare the source's columns in the catalog"
            )
    return schema
