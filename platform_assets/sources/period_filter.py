"""Keeping the rows of a batch whose date falls within a partition's period."""

import pyarrow as pa
import pyarrow.compute as pc

from platform_assets.partitions import Period


def rows_within(batch: pa.RecordBatch, days: pa.Array, period: Period) -> pa.RecordBatch:
    """The rows whose day (`days`, date32, aligned with `batch`) is in [start, end)."""
    start = pa.scalar(period.start, pa.date32())
    end = pa.scalar(period.end, pa.date32())
    return batch.filter(pc.and_(pc.greater_equal(days, start), pc.less(days, end)))
