"""Writes a partition: fresh run-scoped files, then the manifest in one write, then cleanup."""

from __future__ import annotations

import posixpath
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from platform_assets.lake.manifest import Manifest, ManifestEntry
from platform_assets.partitions import Period
from platform_assets.schemas import PARTITION_COLUMN, lake_schema
from platform_assets.storage import Store

MANIFEST_NAME = "_manifest.json"
ROW_GROUP_ROWS = 128 * 1024
FILE_ROWS = 8 * ROW_GROUP_ROWS


class PartitionWriter:
    """Use as a context manager; leaving it without `commit()` removes what it wrote."""

    def __init__(
        self,
        store: Store,
        directory: str,
        period: Period,
        schema: pa.Schema,
        run_id: str,
        file_rows: int = FILE_ROWS,
    ) -> None:
        self._store = store
        self._directory = directory
        self._period = period
        self._schema = lake_schema(schema)
        self._run_id = run_id
        self._file_rows = file_rows
        self._row_group_rows = min(ROW_GROUP_ROWS, file_rows)
        self._written: list[ManifestEntry] = []
        self._paths: list[str] = []
        self._writer: pq.ParquetWriter | None = None
        self._file_row_count = 0
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        self.rows = 0
        self._committed = False

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._committed:
            self._abort()

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        dates = pa.repeat(pa.scalar(self._period.start, pa.date32()), batch.num_rows)
        self._buffer.append(batch.append_column(PARTITION_COLUMN, dates).cast(self._schema))
        self._buffered += batch.num_rows
        self.rows += batch.num_rows
        while self._buffered >= self._row_group_rows:
            self._flush(self._row_group_rows)

    def commit(self) -> Manifest:
        """Publish: the manifest replaces the previous one in one write; then stale files go."""
        while self._buffered:
            self._flush(min(self._buffered, self._row_group_rows))
        if self._writer is None:
            self._open_file()  # an empty partition still gets one file, so its schema is known
        self._close_file()
        manifest = Manifest(tuple(self._written))
        self._store.put(posixpath.join(self._directory, MANIFEST_NAME), manifest.to_json())
        self._committed = True
        keep = {*self._paths, posixpath.join(self._directory, MANIFEST_NAME)}
        for path in self._store.list_files(self._directory):
            if path not in keep:
                self._store.fs.delete_file(path)
        return manifest

    def _flush(self, rows: int) -> None:
        table = pa.Table.from_batches(self._buffer, self._schema)
        head, rest = table.slice(0, rows), table.slice(rows)
        self._buffer = rest.to_batches()
        self._buffered = rest.num_rows
        if self._writer is None:
            self._open_file()
        assert self._writer is not None
        self._writer.write_table(head, row_group_size=self._row_group_rows)
        self._file_row_count += head.num_rows
        if self._file_row_count >= self._file_rows:
            self._close_file()

    def _open_file(self) -> None:
        name = f"part-{self._run_id}-{len(self._paths):05d}.parquet"
        path = posixpath.join(self._directory, name)
        self._store.fs.create_dir(self._directory, recursive=True)
        self._paths.append(path)
        self._writer = pq.ParquetWriter(
            path,
            self._schema,
            filesystem=self._store.fs,
            compression="zstd",
            write_statistics=True,
        )
        self._file_row_count = 0

    def _close_file(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        path = self._paths[-1]
        self._written.append(
            ManifestEntry(self._store.url(path), self._store.size(path), self._file_row_count)
        )
        self._writer = None

    def _abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for path in self._paths:
            if self._store.exists(path):
                self._store.fs.delete_file(path)
