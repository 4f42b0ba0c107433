"""The `files` kind's `read:` block and traits; the reader is reader.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from platform_assets.sources.kind import ReadSpec, Upstream, template

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.partitions import Period
    from platform_assets.sources.window import Window


class FilesRead(ReadSpec):
    """Files dropped by an upstream system: a path template per day, optionally a glob."""

    kind: Literal["files"]
    path: str = Field(description="Relative to PLATFORM_HOME, or absolute; {dt:%Y-%m-%d} fields.")
    format: Literal["csv", "jsonl", "parquet"]
    date_column: str | None = Field(
        default=None, description="Keep only rows whose date in this column is in the partition."
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    # each partition reads its own files
    parallel_partitions = True

    @field_validator("path")
    @classmethod
    def _template_uses_only_dt(cls, value: str) -> str:
        return template(value, {"dt"})

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
