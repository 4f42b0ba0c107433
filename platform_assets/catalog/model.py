"""The catalog's model: sources, exports, their partitioning and schedules, validated.

A source's `read:` block is one of the source kinds (sources/registry.py). Loading the YAML and
describing what is wrong with it is loading.py's job.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pyarrow as pa
from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from platform_assets.catalog.labels import Owner, Tags
from platform_assets.catalog.schedule import Schedule
from platform_assets.contracts import SchemaContract, origin_of
from platform_assets.errors import RunError
from platform_assets.identifiers import COLUMN, NAME
from platform_assets.layers import Layer
from platform_assets.nesting import SEPARATOR, flattened
from platform_assets.partitions import (
    UTC,
    Granularity,
    Period,
    period_index,
    period_start,
    periods_between,
)
from platform_assets.schemas import PARTITION_COLUMN, known_zone, parse_type, schema_from_mapping
from platform_assets.sources.kind import ReadSpec
from platform_assets.sources.registry import read_union
from platform_assets.sql_statements import single_select
from platform_assets.strict import StrictModel
from platform_assets.write_modes import HISTORY_COLUMNS, TableWrite, Write, WriteMode

if TYPE_CHECKING:
    AnyRead = ReadSpec
else:
    AnyRead = read_union()


def _storable_type(name: str) -> str:
    parse_type(name)
    return name


ColumnType = Annotated[str, AfterValidator(_storable_type)]


EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
MAX_PARTITIONS = 100_000
"""A source's partitions, start to end (or to today): each is a Dagster partition, a line of
`status --every` and a key every range operation lists."""


class Partitioning(StrictModel):
    granularity: Granularity
    start: dt.date
    end: dt.date | None = Field(default=None, description="Exclusive: the first day not covered.")
    chunk: int = Field(
        default=31, ge=1, le=1000, description="Partitions per Batch job when a range fans out."
    )
    timezone: str = Field(default=UTC, description="IANA name: partitions are its local days.")
    outside_period: Literal["count", "fail"] = Field(
        default="count",
        description="Rows a date_column dates outside the partition: count or fail.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value, "an IANA name, e.g. Europe/Berlin")

    @model_validator(mode="after")
    def _aligned(self) -> Partitioning:
        if period_start(self.granularity, self.start) != self.start:
            first = "a Monday" if self.granularity is Granularity.WEEKLY else "the 1st of a month"
            raise ValueError(f"start {self.start} of a {self.granularity} source must be {first}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    @model_validator(mode="after")
    def _bounded(self) -> Partitioning:
        if self.start < EARLIEST_DAY:
            raise ValueError(f"start {self.start} is before {EARLIEST_DAY}, the earliest allowed")
        if self.end is not None and self.end > LATEST_DAY:
            raise ValueError(
                f"end {self.end} is after {LATEST_DAY}, the latest allowed"
                " (leave end out for a source that goes on)"
            )
        if self.start > LATEST_DAY:
            raise ValueError(f"start {self.start} is after {LATEST_DAY}, the latest allowed")
        last = self.end or max(dt.date.today(), self.start)
        count = period_index(self.granularity, self.start, last)
        if count > MAX_PARTITIONS:
            raise ValueError(
                f"{count:,} {self.granularity} partitions from {self.start} to {last}, more than"
                f" {MAX_PARTITIONS:,}: start later, or choose a coarser granularity"
            )
        return self


class Nested(StrictModel):
    """How upstream's objects land: `keep` (each a struct column, lists too), or `flatten`
    (their fields as `parent__child` columns, `max_depth` levels deep; lists stay whole)."""

    mode: Literal["keep", "flatten"] = "keep"
    max_depth: int | None = Field(
        default=None, ge=1, description="flatten: levels of objects spread (none: all)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _depth_flattens(self) -> Nested:
        if self.max_depth is not None and self.mode != "flatten":
            raise ValueError("max_depth goes with mode: flatten")
        return self

    def reading(self, schema: pa.Schema | None) -> pa.Schema | None:
        """The schema upstream's records are read by: the lake's, less (under flatten) the
        columns flattening made, which are not upstream's shape; its objects are inferred, then
        flattened again."""
        if self.mode == "keep" or schema is None:
            return schema
        return pa.schema([field for field in schema if SEPARATOR not in field.name])

    def shaped(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.mode == "keep":
            return batch
        try:
            return flattened(batch, self.max_depth)
        except ValueError as error:
            raise RunError(f"{origin_of(batch)}: {error}") from None


class Severity(StrEnum):
    """What a failed check means: `error` fails `main.py check` (exit 1), `warn` is reported."""

    WARN = "warn"
    ERROR = "error"


class CheckSetting(StrictModel):
    """A check's settings for one source: `unique_key: warn` or `unique_key: {severity: warn}`."""

    severity: Severity = Severity.ERROR

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"severity": value} if isinstance(value, str) else value


CHECK_NAMES_CONTEXT = "check_names"  # validation context: the check names a catalog may set


class Partitioned:
    """Partition keys of a source or an export, validated against its partitioning."""

    name: str
    kind_label: ClassVar[str]  # 'source' or 'export', as messages name it
    lake_layer: ClassVar[Layer]  # where its partitions are published
    if TYPE_CHECKING:

        @property
        def partitioning(self) -> Partitioning: ...

    @property
    def last_day(self) -> dt.date | None:
        end = self.partitioning.end
        return None if end is None else end - dt.timedelta(1)

    def index(self, period: Period) -> int:
        """How many partitions come before `period`."""
        partitioning = self.partitioning
        return period_index(partitioning.granularity, partitioning.start, period.start)

    def blocks(self, periods: Sequence[Period]) -> dict[int, list[Period]]:
        """`periods` by block, in order: a block is `partitioning.chunk` consecutive partitions
        counted from the first, what one Batch job of a fanned-out range takes and one lease
        holds."""
        blocks: dict[int, list[Period]] = {}
        for period in periods:
            blocks.setdefault(self.index(period) // self.partitioning.chunk, []).append(period)
        return blocks

    def period(self, key: str) -> Period:
        """The period a partition key names; ValueError if it is not one of these partitions."""
        return self.periods(key, key)[0]

    def periods(self, first_key: str, last_key: str) -> list[Period]:
        """The periods from `first_key` through `last_key`, validated against the partitioning."""
        first, last = _parse_key(first_key), _parse_key(last_key)
        granularity = self.partitioning.granularity
        for day in (first, last):
            if period_start(granularity, day) != day:
                raise ValueError(
                    f"{day} does not start a {granularity} period of {self.kind_label}"
                    f" {self.name} (that period starts {period_start(granularity, day)})"
                )
        if last < first:
            raise ValueError(f"the range ends ({last}) before it starts ({first})")
        if first < self.partitioning.start or (self.last_day and last > self.last_day):
            span = first_key if first == last else f"{first_key}..{last_key}"
            raise ValueError(
                f"{span} is outside {self.kind_label} {self.name}'s partitions"
                f" ({self.partitioning.start} to {self.last_day or 'today'})"
            )
        return periods_between(granularity, first, last, self.partitioning.timezone)


class Source(Partitioned, StrictModel):
    kind_label: ClassVar[str] = "source"
    lake_layer: ClassVar[Layer] = Layer.RAW

    name: str = Field(pattern=NAME)
    description: str = ""
    owners: tuple[Owner, ...] = ()
    tags: Tags = Field(default_factory=dict)
    read: AnyRead
    partitioning: Partitioning
    schedule: Schedule | None = None
    table: str | None = Field(default=None, pattern=NAME)
    key: tuple[str, ...] = ()
    columns: dict[str, ColumnType] | None = Field(
        default=None, description="Declared schema; omitted, it is inferred once, then frozen."
    )
    empty_ok: bool = False
    schema_contract: SchemaContract = SchemaContract.FREEZE
    write: Write = Write()
    nested: Nested = Field(default_factory=Nested)
    checks: dict[str, CheckSetting] = Field(
        default_factory=dict, description="Per check name, its settings (severity)."
    )

    @field_validator("columns")
    @classmethod
    def _valid_columns(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("declare at least one column, or omit 'columns' to infer them")
        for name in value:
            if not COLUMN.match(name):
                raise ValueError(f"column name {name!r} must be lower-case letters, digits and _")
            if name == PARTITION_COLUMN:
                raise ValueError(f"{PARTITION_COLUMN!r} is reserved for the partition column")
        return value

    @field_validator("checks")
    @classmethod
    def _known_checks(
        cls, value: dict[str, CheckSetting], info: ValidationInfo
    ) -> dict[str, CheckSetting]:
        known: Collection[str] | None = (info.context or {}).get(CHECK_NAMES_CONTEXT)
        if known is None:
            return value
        for name in value:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                raise ValueError(f"unknown check {name!r} ({hint})")
        return value

    def check_severity(self, name: str) -> Severity:
        """The severity the catalog gives check `name` for this source (default error)."""
        setting = self.checks.get(name)
        return Severity.ERROR if setting is None else setting.severity

    @model_validator(mode="after")
    def _read_takes_the_zone(self) -> Source:
        refusal = self.read.refuses_timezone(self.partitioning.timezone)
        if refusal is not None:
            raise ValueError(refusal)
        return self

    @model_validator(mode="after")
    def _key_in_columns(self) -> Source:
        if self.columns is not None:
            unknown = [column for column in self.key if column not in self.columns]
            if unknown:
                raise ValueError(f"key column(s) {', '.join(unknown)} not among 'columns'")
        if self.read.incremental and not self.key:
            raise ValueError(
                "an incremental source needs 'key': a row version is known by its key and"
                " cursor values, so that a lookback or a rerun publishes each version once"
            )
        return self

    @model_validator(mode="after")
    def _write_mode(self) -> Source:
        write = self.write
        if write.mode is WriteMode.REPLACE:
            return self
        if not self.key:
            raise ValueError(f"write mode {write.mode} needs a key: what identifies a row")
        named = [name for name in (write.order_by, write.deleted) if name is not None]
        if write.deleted is not None and write.deleted in self.key:
            raise ValueError(f"write.deleted {write.deleted!r} cannot be a key column")
        if self.columns is not None:
            unknown = [name for name in named if name not in self.columns]
            if unknown:
                raise ValueError(f"write column(s) {', '.join(unknown)} not among 'columns'")
        if write.mode is WriteMode.HISTORY:
            taken = [name for name in HISTORY_COLUMNS if name in (self.columns or {})]
            if taken:
                raise ValueError(
                    f"column(s) {', '.join(taken)} are the history table's own; rename them"
                )
        return self

    @property
    def table_write(self) -> TableWrite:
        write = self.write
        return TableWrite(write.mode, self.key, write.order_by or "", write.deleted)

    @property
    def table_name(self) -> str:
        return self.table or self.name

    @property
    def declared_schema(self) -> pa.Schema | None:
        return None if self.columns is None else schema_from_mapping(self.columns)


class Export(Partitioned, StrictModel):
    """SQL over warehouse tables, written back to the lake per partition (`main.py pull`).

    The query must return a `dt` column; the platform keeps the rows of the partitions pulled.
    Partitions are those of the sources it depends on.
    """

    kind_label: ClassVar[str] = "export"
    lake_layer: ClassVar[Layer] = Layer.EXPORTS

    name: str = Field(pattern=NAME)
    description: str = ""
    owners: tuple[Owner, ...] = ()
    tags: Tags = Field(default_factory=dict)
    depends_on: tuple[str, ...] = Field(min_length=1)
    sql: str
    _partitioning: Partitioning | None = PrivateAttr(default=None)

    @field_validator("sql")
    @classmethod
    def _one_select(cls, value: str) -> str:
        return single_select(value)

    @property
    def partitioning(self) -> Partitioning:
        if self._partitioning is None:
            raise ValueError(f"export {self.name} was not resolved by its catalog")
        return self._partitioning


def _parse_key(key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(key)
    except ValueError as error:
        raise ValueError(f"{key!r} is not a date YYYY-MM-DD ({error})") from None


class Catalog(StrictModel):
    sources: tuple[Source, ...]
    exports: tuple[Export, ...] = ()

    @field_validator("sources")
    @classmethod
    def _unique(cls, value: tuple[Source, ...]) -> tuple[Source, ...]:
        for attribute in ("name", "table_name"):
            seen: set[str] = set()
            for source in value:
                name = getattr(source, attribute)
                if name in seen:
                    label = "source name" if attribute == "name" else "table"
                    raise ValueError(f"duplicate {label} {name!r}")
                seen.add(name)
        return value

    @model_validator(mode="after")
    def _resolve_exports(self) -> Catalog:
        sources = {source.name: source for source in self.sources}
        seen: set[str] = set()
        for export in self.exports:
            if export.name in seen or export.name in sources:
                raise ValueError(f"export {export.name!r}: the name is taken")
            seen.add(export.name)
            unknown = [name for name in export.depends_on if name not in sources]
            if unknown:
                raise ValueError(
                    f"export {export.name!r}: depends_on names unknown source(s) {unknown}"
                )
            partitionings = {sources[name].partitioning for name in export.depends_on}
            if len(partitionings) > 1:
                raise ValueError(f"export {export.name!r}: its sources are partitioned differently")
            export._partitioning = partitionings.pop()
        return self

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(source.name for source in self.sources)
        raise KeyError(f"unknown source {name!r} (known: {known})")

    def export(self, name: str) -> Export:
        for export in self.exports:
            if export.name == name:
                return export
        known = ", ".join(export.name for export in self.exports) or "none"
        raise KeyError(f"unknown export {name!r} (known: {known})")
