"""The source catalog: the YAML file declaring every source, and the loader that validates it."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pyarrow as pa
import yaml
from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from platform_assets.contracts import SchemaContract
from platform_assets.errors import ConfigurationError
from platform_assets.identifiers import COLUMN, NAME, UPSTREAM_COLUMN, UPSTREAM_TABLE
from platform_assets.partitions import (
    Granularity,
    Period,
    period_index,
    period_start,
    periods_between,
)
from platform_assets.schemas import PARTITION_COLUMN, parse_type, schema_from_mapping


class CatalogError(ConfigurationError):
    """The catalog file cannot be used; the message names the file, the source and the key."""


def _storable_type(name: str) -> str:
    parse_type(name)
    return name


ColumnType = Annotated[str, AfterValidator(_storable_type)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FilesRead(_Strict):
    """Files dropped by an upstream system: a path template per day, optionally a glob."""

    kind: Literal["files"]
    path: str = Field(description="Relative to PLATFORM_HOME, or absolute; {dt:%Y-%m-%d} fields.")
    format: Literal["csv", "jsonl", "parquet"]
    date_column: str | None = Field(
        default=None, description="Keep only rows whose date in this column is in the partition."
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @field_validator("path")
    @classmethod
    def _template_uses_only_dt(cls, value: str) -> str:
        return _template(value, {"dt"})

    def paths_for(self, period: Period) -> list[str]:
        """The distinct path patterns (possibly globs) that hold the period's rows, in order."""
        patterns = (self.path.format(dt=day) for day in period.days())
        return list(dict.fromkeys(patterns))


def _template(value: str, allowed: set[str]) -> str:
    """A str.format template whose fields are among `allowed` (their [items] aside)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        raise ValueError(f"malformed template: {error}") from None
    unknown = sorted({name.split("[")[0] for name in fields} - allowed)
    if unknown:
        shown = ", ".join(f"{{{name}}}" for name in sorted(allowed))
        raise ValueError(f"unknown template field(s) {unknown}; there are {shown}")
    return value


class SecretRef(_Strict):
    """Where a secret comes from (its value never sits in the catalog): an environment variable,
    an AWS Secrets Manager secret, or both (in aws mode the secret, locally the variable)."""

    env: str | None = Field(default=None, description="An environment variable holding it.")
    aws_secret: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9/_+=.@-]+$",
        description="A Secrets Manager secret name (infra creates it and lets the job read it).",
    )
    field: str | None = Field(default=None, description="A key of the secret's JSON string.")

    @model_validator(mode="after")
    def _somewhere(self) -> SecretRef:
        if self.env is None and self.aws_secret is None:
            raise ValueError("name env, aws_secret or both")
        return self


class Pagination(_Strict):
    """How to get every page: none, page numbers, a cursor in the body, or a Link header."""

    style: Literal["none", "page", "cursor", "link"] = "none"
    param: str | None = Field(default=None, description="page: the page parameter; cursor: its.")
    start: int = Field(default=1, description="page: the first page's number.")
    size_param: str | None = Field(default=None, description="page: the page-size parameter.")
    size: int | None = Field(default=None, ge=1, description="page: records per page asked for.")
    next_path: str | None = Field(default=None, description="cursor: dotted path to the next one.")

    @model_validator(mode="after")
    def _complete(self) -> Pagination:
        needs = {"page": ["param"], "cursor": ["param", "next_path"]}.get(self.style, [])
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.style} pagination needs {', '.join(missing)}")
        return self


class HttpApiRead(_Strict):
    """A JSON API: one partition is the records of its dates, page after page."""

    kind: Literal["http_api"]
    base_url_env: str = Field(description="Environment variable with the API's base URL.")
    path: str = Field(description="Appended to the base URL; {start}, {end} (exclusive), {dt}.")
    params: dict[str, str] = Field(default_factory=dict, description="Query parameters.")
    headers: dict[str, str] = Field(default_factory=dict, description="{secret[name]} allowed.")
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    records: str = Field(default="", description="Dotted path to the records ('': the body).")
    pagination: Pagination = Field(default_factory=Pagination)
    date_column: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    max_seconds: float = Field(default=900, gt=0, description="Bound on one partition's time.")

    @model_validator(mode="after")
    def _templates(self) -> HttpApiRead:
        dates = {"start", "end", "dt"}
        _template(self.path, dates)
        for value in self.params.values():
            _template(value, dates | {"secret"})
        for value in self.headers.values():
            _template(value, dates | {"secret"})
        used = {
            name.split("[")[1].rstrip("]")
            for value in [*self.params.values(), *self.headers.values()]
            for _, name, _, _ in string.Formatter().parse(value)
            if name and name.startswith("secret[")
        }
        unknown = sorted(used - set(self.secrets))
        if unknown:
            raise ValueError(f"secret(s) {unknown} used but not among 'secrets'")
        return self


class DatabaseRead(_Strict):
    """A client database over SQLAlchemy: a table (optionally filtered to the partition's dates
    by `date_column`) or a query binding :start and :end, streamed through a server-side cursor.

    With `cursor_column` the source is incremental: each partition takes the rows whose cursor
    lies past the last partition's and up to the newest at its first run; the window is kept in
    the lake beside the data, so rerunning a partition replays exactly its window.
    """

    kind: Literal["database"]
    url: SecretRef = Field(description="The SQLAlchemy URL (it may carry a password).")
    table: str | None = Field(default=None, pattern=UPSTREAM_TABLE)
    query: str | None = Field(default=None, description="A SELECT; :start, :end are bound.")
    date_column: str | None = Field(default=None, pattern=UPSTREAM_COLUMN)
    cursor_column: str | None = Field(default=None, pattern=UPSTREAM_COLUMN)
    chunk_rows: int = Field(default=50_000, ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _table_or_query(self) -> DatabaseRead:
        if (self.table is None) == (self.query is None):
            raise ValueError("name either a table or a query")
        if self.query is not None:
            if not re.match(r"(?is)^\s*(select|with)\b", self.query):
                raise ValueError("query must be a SELECT (or WITH … SELECT)")
            if ";" in self.query.strip().removesuffix(";"):
                raise ValueError("query: one statement only")
            if self.date_column is not None:
                raise ValueError("date_column goes with table; a query filters with :start/:end")
        return self


ReadSpec = Annotated[FilesRead | HttpApiRead | DatabaseRead, Field(discriminator="kind")]


class Partitioning(_Strict):
    granularity: Granularity
    start: dt.date
    end: dt.date | None = Field(default=None, description="Exclusive: the first day not covered.")
    chunk: int = Field(
        default=31, ge=1, le=1000, description="Partitions per Batch job when a range fans out."
    )

    @model_validator(mode="after")
    def _aligned(self) -> Partitioning:
        if period_start(self.granularity, self.start) != self.start:
            first = "a Monday" if self.granularity is Granularity.WEEKLY else "the 1st of a month"
            raise ValueError(f"start {self.start} of a {self.granularity} source must be {first}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class Schedule(_Strict):
    cron: str = Field(description="Five-field cron expression, evaluated in UTC.")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value


class Partitioned:
    """Partition keys of a source or an export, validated against its partitioning."""

    name: str
    kind_label: ClassVar[str]
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
        return periods_between(granularity, first, last)


class Source(Partitioned, _Strict):
    kind_label: ClassVar[str] = "source"

    name: str = Field(pattern=NAME)
    description: str = ""
    read: ReadSpec
    partitioning: Partitioning
    schedule: Schedule | None = None
    table: str | None = Field(default=None, pattern=NAME)
    key: tuple[str, ...] = ()
    columns: dict[str, ColumnType] | None = Field(
        default=None, description="Declared schema; omitted, it is inferred once, then frozen."
    )
    empty_ok: bool = False
    schema_contract: SchemaContract = SchemaContract.FREEZE

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

    @model_validator(mode="after")
    def _key_in_columns(self) -> Source:
        if self.columns is not None:
            unknown = [column for column in self.key if column not in self.columns]
            if unknown:
                raise ValueError(f"key column(s) {', '.join(unknown)} not among 'columns'")
        return self

    @property
    def table_name(self) -> str:
        return self.table or self.name

    @property
    def declared_schema(self) -> pa.Schema | None:
        return None if self.columns is None else schema_from_mapping(self.columns)


class Export(Partitioned, _Strict):
    """SQL over warehouse tables, written back to the lake per partition (`main.py pull`).

    The query must return a `dt` column; the platform keeps the rows of the partitions pulled.
    Partitions are those of the sources it depends on.
    """

    kind_label: ClassVar[str] = "export"

    name: str = Field(pattern=NAME)
    description: str = ""
    depends_on: tuple[str, ...] = Field(min_length=1)
    sql: str
    _partitioning: Partitioning | None = PrivateAttr(default=None)

    @field_validator("sql")
    @classmethod
    def _one_select(cls, value: str) -> str:
        query = value.strip().removesuffix(";").strip()
        if ";" in query:
            raise ValueError("one statement only: remove the ';'")
        if not re.match(r"(?is)^(select|with)\b", query):
            raise ValueError("must be a SELECT (or WITH … SELECT) query")
        return query

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


class Catalog(_Strict):
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


class _CatalogLoader(yaml.SafeLoader):
    """Safe YAML with no implicit timestamps (pydantic parses dates) and no duplicate keys."""


_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _CatalogLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_CatalogLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog; each problem is a CatalogError naming file, source, key."""
    try:
        raw = yaml.load(path.read_text(), Loader=_CatalogLoader)
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the catalog ({error.strerror})") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise CatalogError(f"{path}: not valid YAML at {where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {error}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as error:
        # unknown keys first: a misspelt key also shows up as a missing one
        details = sorted(error.errors(), key=lambda detail: detail["type"] != "extra_forbidden")
        raise CatalogError("; ".join(_describe(path, raw, detail) for detail in details)) from None


def _describe(path: Path, raw: Any, detail: Any) -> str:
    location = list(detail["loc"])
    where = str(path)
    if location[:1] == ["sources"] and len(location) > 1 and isinstance(location[1], int):
        index = location[1]
        name = _source_name(raw, index)
        where += f": source {name!r}" if name else f": source #{index + 1}"
        location = location[2:]
    # pydantic names the union member it tried after its parent ('read', 'files', ...): drop it
    location = [
        part for i, part in enumerate(location) if not (i > 0 and location[i - 1] == "read")
    ]
    key = ".".join(str(part) for part in location)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        message = f"unknown key{_suggestion(detail)}"
    elif detail["type"] == "missing":
        message = "missing required key"
    elif detail["type"] == "union_tag_invalid":
        message = (
            f"unknown kind {detail['ctx']['tag']!r} (expected {detail['ctx']['expected_tags']})"
        )
    elif "input" in detail and detail["type"] not in ("value_error", "model_type", "dict_type"):
        message += f" (got {detail['input']!r})"
    return f"{where}: key {key!r}: {message}" if key else f"{where}: {message}"


def _source_name(raw: Any, index: int) -> str | None:
    try:
        name = raw["sources"][index]["name"]
    except (TypeError, KeyError, IndexError):
        return None
    return name if isinstance(name, str) else None


def _suggestion(detail: Any) -> str:
    misspelt = str(detail["loc"][-1])
    candidates = [
        *Source.model_fields,
        *FilesRead.model_fields,
        *HttpApiRead.model_fields,
        *DatabaseRead.model_fields,
        *Partitioning.model_fields,
    ]
    close = difflib.get_close_matches(misspelt, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
