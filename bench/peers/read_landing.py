"""The landing folder's daily flights CSVs as one table with a `dt` column, read with pyarrow
only (no platform code), locally or from S3: every lake-write peer reads its input this way."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs

_DAY = re.compile(r"flights_(\d{4}-\d{2}-\d{2})\.csv$")


def filesystem(endpoint: str | None) -> pafs.FileSystem:
    if endpoint is None:
        return pafs.LocalFileSystem()
    scheme, _, address = endpoint.partition("://")
    return pafs.S3FileSystem(region="us-east-1", endpoint_override=address, scheme=scheme)


def read_landing(directory: str, fs: pafs.FileSystem) -> pa.Table:
    infos = fs.get_file_info(pafs.FileSelector(directory, recursive=True))
    tables = []
    for path in sorted(info.path for info in infos if _DAY.search(info.path)):
        day = _DAY.search(path).group(1)  # type: ignore[union-attr]
        with fs.open_input_stream(path) as stream:
            table = pacsv.read_csv(stream)
        tables.append(table.append_column("dt", pa.array([day] * table.num_rows, pa.string())))
    return pa.concat_tables(tables)
