"""Keeping the rows of a batch that a `date_column` dates within a partition, for every kind that
filters after reading (files, http_api); the rows outside are counted on the batch, never lost.

A row is in the period when its value, taken in the period's time zone, has a local date in
[start, end): a date as it is; a timestamp with an offset or zone converted to the zone; a naive
timestamp as already local; a string as the ISO date or timestamp it spells (the same rules).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from platform_assets.contracts import origin_of
from platform_assets.errors import RunError
from platform_assets.partitions import Period

OUTSIDE_PERIOD = b"platform.outside_period"


@dataclass(frozen=True)
class OutsidePeriod:
    """Rows read but dated outside the partition: how many, the first one's value and where it
    came from."""

    rows: int = 0
    first: str | None = None
    origin: str | None = None

    def __add__(self, other: OutsidePeriod) -> OutsidePeriod:
        if not self.rows:
            return OutsidePeriod(other.rows, other.first, other.origin)
        return OutsidePeriod(self.rows + other.rows, self.first, self.origin)


def rows_in_period(batch: pa.RecordBatch, column: str, period: Period) -> pa.RecordBatch:
    """The rows of `batch` (tagged with its origin) whose `column` is in the period; the others
    are counted on the result (`outside_period`). A null date is outside too."""
    origin = origin_of(batch)
    if column not in batch.schema.names:
        names = ", ".join(batch.schema.names)
        raise RunError(f"{origin}: date_column {column!r} is not among its columns ({names})")
    values = batch[column]
    days = local_dates(values, zoneinfo.ZoneInfo(period.zone), f"{origin}: date_column {column!r}")
    start = pa.scalar(period.start, pa.date32())
    end = pa.scalar(period.end, pa.date32())
    inside = pc.fill_null(pc.and_(pc.greater_equal(days, start), pc.less(days, end)), False)
    kept = batch.filter(inside)
    if kept.num_rows == batch.num_rows:
        return kept
    first = values.filter(pc.invert(inside))[0].as_py()
    tag = {
        "rows": batch.num_rows - kept.num_rows,
        "first": "null" if first is None else str(first),
        "origin": origin,
    }
    return kept.replace_schema_metadata(
        {**(kept.schema.metadata or {}), OUTSIDE_PERIOD: json.dumps(tag).encode()}
    )


def outside_period(batch: pa.RecordBatch) -> OutsidePeriod:
    """The rows `rows_in_period` left out of this batch."""
    tag = (batch.schema.metadata or {}).get(OUTSIDE_PERIOD)
    return OutsidePeriod() if tag is None else OutsidePeriod(**json.loads(tag))


def local_dates(values: pa.Array, zone: zoneinfo.ZoneInfo, what: str) -> pa.Array:
    """Each value's local date in `zone` (date32); `what` names the values in errors."""
    kind = values.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        values = pc.local_timestamp(values.cast(pa.timestamp(kind.unit, tz=zone.key)))
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.array(
            (_parsed_date(text, zone, what) for text in values.to_pylist()), pa.date32()
        )
    try:
        return pc.cast(values, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise RunError(f"{what}: {kind} values are not dates or timestamps") from None


def _parsed_date(text: str | None, zone: zoneinfo.ZoneInfo, what: str) -> dt.date | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RunError(f"{what}: {text!r} is not an ISO date or timestamp") from None
    return (value.astimezone(zone) if value.tzinfo is not None else value).date()
