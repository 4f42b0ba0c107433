"""Writes a partition: fresh run-scoped files, then the manifest in one write. What the manifest
no longer lists is removed afterwards, for a whole range at once (`Lake.remove_stale`).

The files hold the source's columns only: `dt` is the folder's (`dt=YYYY-MM-DD/`), as hive
readers expect, and the Iceberg table's partition value."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from platform_assets.lake.layout import root_url
from platform_assets.lake.manifest import Manifest, ManifestEntry
from platform_assets.partitions import Period
from platform_assets.schemas import file_schema
from platform_assets.storage import Store

ROW_GROUP_ROWS = 128 * 1024
FILE_ROWS = 8 * ROW_GROUP_ROWS


def data_file_name(run_id: str, number: int) -> str:
    return f"part-{run_id}-{number:05d}.parquet"


def publish(
    store: Store, manifest_path: str, period: Period, entries: Sequence[ManifestEntry]
) -> Manifest:
    """Make `entries` the partition's content: one manifest write."""
    manifest = Manifest(tuple(entries), period.start)
    store.put(manifest_path, manifest.to_json(root_url(store)))
    return manifest


Publisher = Callable[[Store, str, Period, Sequence[ManifestEntry]], Manifest]


class PartitionWriter:
    """Use as a context manager; leaving it without `commit()` removes what it wrote.

    Each data file is built in memory (at most `file_rows` rows) and stored in one write; its
    schema, as its footer holds it, goes into `written` (by URL) if given.
    """

    def __init__(
        self,
        store: Store,
        directory: str,
        manifest_path: str,
        period: Period,
        schema: pa.Schema,
        run_id: str,
        publisher: Publisher = publish,
        file_rows: int = FILE_ROWS,
        written: dict[str, pa.Schema] | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._manifest_path = manifest_path
        self._period = period
        self._source_schema = schema
        self._schema = file_schema(schema)
        self._run_id = run_id
        self._publisher = publisher
        self._written = written
        self._file_rows = file_rows
        self._row_group_rows = min(ROW_GROUP_ROWS, file_rows)
        self._entries: list[ManifestEntry] = []
        self._paths: list[str] = []
        self._sink: pa.BufferOutputStream | None = None
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
            self._writer = None
            self._store.delete(path for path in self._paths if self._store.exists(path))

    @property
    def schema(self) -> pa.Schema:
        """The source's columns that this writer's files take."""
        return self._source_schema

    def use_schema(self, schema: pa.Schema) -> None:
        """From now on files take `schema` (it grew); what is written so far keeps its own."""
        while self._buffered:
            self._flush(min(self._buffered, self._row_group_rows))
        self._close_file()
        self._source_schema = schema
        self._schema = file_schema(schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._buffer.append(batch.cast(self._schema))
        self._buffered += batch.num_rows
        self.rows += batch.num_rows
        while self._buffered >= self._row_group_rows:
            self._flush(self._row_group_rows)

    def finish(self) -> None:
        """Store what is still buffered: every file written, none published yet."""
        while self._buffered:
            self._flush(min(self._buffered, self._row_group_rows))
        if not self._entries and self._writer is None:
            self._open_file()  # an empty partition still gets one file, so its schema is known
        self._close_file()

    def commit(self) -> Manifest:
        """Publish: the manifest replaces the previous one in one write."""
        self.finish()
        self._committed = True
        return self._publisher(self._store, self._manifest_path, self._period, self._entries)

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
        self._sink = pa.BufferOutputStream()
        self._writer = pq.ParquetWriter(
            self._sink, self._schema, compression="zstd", write_statistics=True
        )
        self._file_row_count = 0

    def _close_file(self) -> None:
        if self._writer is None or self._sink is None:
            return
        self._writer.close()
        data = self._sink.getvalue().to_pybytes()
        path = posixpath.join(self._directory, data_file_name(self._run_id, len(self._paths)))
        self._paths.append(path)
        self._store.put(path, data)
        url = self._store.url(path)
        if self._written is not None:  # the footer as a reader of `data` would see it
            self._written[url] = self._writer.writer.metadata.schema.to_arrow_schema()
        self._entries.append(ManifestEntry(url, len(data), self._file_row_count))
        self._writer = self._sink = None
