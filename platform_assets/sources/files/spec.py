"""The `files` kind's `read:` block and traits; the reader is reader.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from platform_assets.sources.kind import Origin, ReadSpec, Upstream, template
from platform_assets.strict import StrictModel

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.partitions import Period
    from platform_assets.sources.window import Window


class ReadyRule(StrictModel):
    """When a landing file is complete: its marker exists, or (without one) it has settled."""

    marker: str | None = Field(
        default=None,
        description="A file whose presence says the file is complete, relative to the file's"
        " folder: {name} is the file's name, {stem} that name without its extension.",
    )
    settle_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Without a marker: size and modification time unchanged this long (a file"
        " modified longer ago is complete at once; S3 objects appear whole).",
    )
    wait_seconds: float = Field(
        default=0.0, ge=0, description="How long a partition waits for a file not yet ready."
    )

    @field_validator("marker")
    @classmethod
    def _marker_is_relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or "://" in value):
            raise ValueError("the marker is relative to the file's folder")
        return value if value is None else template(value, {"name", "stem"})

    @model_validator(mode="after")
    def _settle_only_without_marker(self) -> ReadyRule:
        if self.marker is not None and "settle_seconds" in self.model_fields_set:
            raise ValueError("settle_seconds applies only without a marker")
        return self


class FilesRead(ReadSpec):
    """Files dropped by an upstream system: a path template per day, optionally a glob."""

    kind: Literal["files"]
    path: str = Field(description="Relative to PLATFORM_HOME, or absolute; {dt:%Y-%m-%d} fields.")
    format: Literal["csv", "jsonl", "parquet"]
    date_column: str | None = Field(
        default=None, description="Keep only rows whose date in this column is in the partition."
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    null_values: list[str] | None = Field(
        default=None,
        description="CSV: the strings read as NULL, in columns of every type ([] for none);"
        " default pyarrow's list ('', NA, N/A, NULL, null, NaN, nan, …).",
    )
    block_mib: int = Field(
        default=4,
        ge=1,
        le=1024,
        description="CSV: MiB read at a time; the largest field (and row) must fit in one block.",
    )
    ready: ReadyRule = Field(default_factory=ReadyRule)

    # each partition reads its own files
    parallel_partitions = True

    @field_validator("path")
    @classmethod
    def _template_uses_only_dt(cls, value: str) -> str:
        return template(value, {"dt"})

    @model_validator(mode="after")
    def _null_values_only_for_csv(self) -> FilesRead:
        if self.null_values is not None and self.format != "csv":
            raise ValueError(f"null_values applies to csv files, not {self.format}")
        return self

    @property
    def origin(self) -> Origin:
        fixed = self.path.split("{", 1)[0]
        for wildcard in "*?[":
            fixed = fixed.split(wildcard, 1)[0]
        folder = fixed.rsplit("/", 1)[0] + "/" if "/" in fixed else ""
        return Origin(
            f"{self.format} files landing as {self.path}", frozenset({self.format}), folder
        )

    def paths_for(self, period: Period) -> list[str]:
        """The distinct path patterns (possibly globs) that hold the period's rows, in order."""
        patterns = (self.path.format(dt=day) for day in period.days())
        return list(dict.fromkeys(patterns))

    def batches(
        self,
        period: Period,
        schema: pa.Schema | None,
        upstream: Upstream,
        window: Window | None = None,
    ) -> Iterator[pa.RecordBatch]:
        from platform_assets.sources.files.reader import read_files

        return read_files(self, period, schema, upstream.landing)
