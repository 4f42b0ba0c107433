"""Sources: each kind turns one partition of upstream data into Arrow record batches."""

from collections.abc import Iterator

import pyarrow as pa

from platform_assets.catalog import FilesRead, ReadSpec
from platform_assets.partitions import Period
from platform_assets.sources.files import read_files
from platform_assets.storage import Store


def extract(
    read: ReadSpec, period: Period, schema: pa.Schema | None, landing: Store
) -> Iterator[pa.RecordBatch]:
    """Batches of the period's rows in `schema` (or, when None, in the schema inferred at first)."""
    match read:
        case FilesRead():
            return read_files(read, period, schema, landing)
