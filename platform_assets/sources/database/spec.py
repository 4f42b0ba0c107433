"""The `database` kind's `read:` block and traits; the reader (SQLAlchemy) is reader.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PlainValidator, field_validator, model_validator

from platform_assets.identifiers import UPSTREAM_COLUMN, UPSTREAM_TABLE
from platform_assets.partitions import UTC
from platform_assets.sources.kind import Origin, ReadSpec, SecretRef, Upstream
from platform_assets.sources.window import Cursor, Lookback, Window, parse_lookback
from platform_assets.sql_statements import single_select

if TYPE_CHECKING:
    import pyarrow as pa

    from platform_assets.partitions import Period


class DatabaseRead(ReadSpec):
    """A client database over SQLAlchemy: a table (optionally filtered to the partition's dates
    by `date_column`) or a query binding :start and :end, streamed through a server-side cursor.

    With `cursor_column` the source is incremental: each partition takes the rows whose cursor
    lies past the last partition's and up to the newest at its first run; the window is kept in
    the lake beside the data. Partitions are read one after another, each window starting where
    the one before ended, or earlier by `lookback`, to catch rows committed late.
    """

    kind: Literal["database"]
    url: SecretRef = Field(description="The SQLAlchemy URL (it may carry a password).")
    table: str | None = Field(default=None, pattern=UPSTREAM_TABLE)
    query: str | None = Field(default=None, description="A SELECT; :start, :end are bound.")
    date_column: str | None = Field(default=None, pattern=UPSTREAM_COLUMN)
    cursor_column: str | None = Field(default=None, pattern=UPSTREAM_COLUMN)
    lookback: Annotated[Lookback | None, PlainValidator(parse_lookback)] = Field(
        default=None, description="How far before the last window a partition's first read starts."
    )
    chunk_rows: int = Field(default=50_000, ge=100, le=1_000_000)

    @field_validator("query")
    @classmethod
    def _one_select(cls, value: str | None) -> str | None:
        return None if value is None else single_select(value)

    @model_validator(mode="after")
    def _table_or_query(self) -> DatabaseRead:
        if (self.table is None) == (self.query is None):
            raise ValueError("name either a table or a query")
        if self.query is not None and self.date_column is not None:
            raise ValueError("date_column goes with table; a query filters with :start/:end")
        if self.lookback is not None and self.cursor_column is None:
            raise ValueError("lookback goes with cursor_column")
        return self

    def refuses_timezone(self, zone: str) -> str | None:
        # the SQL compares the column with dates, which each database and driver reads in its
        # own column type and session zone: the platform cannot make them local midnights of
        # the zone for every database, and a wrong day would pass unseen
        if self.date_column is None or zone == UTC:
            return None
        return (
            f"partitioning.timezone {zone} with read.date_column: the SQL filter compares the"
            " column with dates, in the database's own session time zone; keep timezone UTC,"
            " or write a query that binds :start and :end (local dates) as the database needs"
        )

    @property
    def cursor(self) -> Cursor | None:
        if self.cursor_column is None:
            return None
        return Cursor(self.cursor_column, self.lookback)

    @property
    def origin(self) -> Origin:
        url = f"${self.url.env}" if self.url.env else f"secret {self.url.aws_secret}"
        what = f"table {self.table}" if self.table else "a query"
        return Origin(f"{what} of the database at {url}", frozenset({"sql"}))

    def newest_cursor(self, period: Period, upstream: Upstream) -> Any:
        from platform_assets.sources.database.reader import newest_cursor

        return newest_cursor(self, period, upstream.secret(self.url))

    def batches(
        self,
        period: Period,
        schema: pa.Schema | None,
        upstream: Upstream,
        window: Window | None = None,
    ) -> Iterator[pa.RecordBatch]:
        from platform_assets.sources.database.reader import read_database

        return read_database(self, period, upstream.secret(self.url), window)
