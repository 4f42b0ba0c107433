"""The lake: hive-partitioned parquet (<layer>/<name>/dt=YYYY-MM-DD/), published through manifests
kept apart under `_platform/` (layout.py), so that a table's folder holds only its data files.

Its layers: `raw` holds what sources delivered, `exports` what pulls from the warehouse produced.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from platform_assets.contracts import with_origin
from platform_assets.errors import RunError
from platform_assets.lake.iceberg import Committed, IcebergCatalog
from platform_assets.lake.layout import TableLayout, root_url
from platform_assets.lake.lease import block_names, leased
from platform_assets.lake.manifest import Manifest, ManifestEntry
from platform_assets.lake.writer import PartitionWriter, data_file_name, publish
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.schemas import (
    PARTITION_COLUMN,
    schema_from_mapping,
    schema_to_mapping,
    with_partition_column,
)
from platform_assets.storage import Store, map_concurrently

__all__ = ["Lake", "Manifest", "ManifestEntry", "PartitionWriter", "StagedFile"]

_FROZEN_SCHEMA = "schema.json"
_CURSOR_WINDOWS = "cursor.json"
_STAGING = "staging"
_LEASES = "leases"
_PENDING = "iceberg-pending"
_RETIRED = "retired"
_MANIFEST_FILE = re.compile(rf"^{PARTITION_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})\.json$")
_STAGED_PARTITION = re.compile(rf"/{PARTITION_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})/[^/]+\.parquet$")
_PARTITIONING = pa.schema([(PARTITION_COLUMN, pa.date32())])


@dataclass(frozen=True)
class StagedFile:
    """A parquet file a warehouse unloaded into staging, not yet part of any partition."""

    path: str
    day: dt.date


@dataclass(frozen=True)
class Lake:
    """`published` remembers the manifests this process wrote, and `written` the schemas of the
    data files it wrote (as their footers hold them), so that reading them back (the checks and
    the load after a push) costs no request."""

    store: Store
    tables: IcebergCatalog | None = None
    published: dict[str, Manifest] = field(default_factory=dict, compare=False, repr=False)
    written: dict[str, pa.Schema] = field(default_factory=dict, compare=False, repr=False)
    _notes: dict[str, tuple[str, bytes]] = field(default_factory=dict, compare=False, repr=False)
    _noting: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def layout(self, layer: Layer, name: str) -> TableLayout:
        return TableLayout(self.store, layer, name)

    def dataset_url(self, layer: Layer, name: str) -> str:
        return self.store.url(self.layout(layer, name).data + "/")

    def _beside(self, source: str, name: str) -> str:
        """A file a source's pushes keep apart from its partitions."""
        return self.layout(Layer.RAW, source).beside(name)

    def partition_directory(self, layer: Layer, name: str, period: Period) -> str:
        return self.layout(layer, name).partition(period)

    def writer(
        self, layer: Layer, name: str, period: Period, schema: pa.Schema, run_id: str
    ) -> PartitionWriter:
        table = self.layout(layer, name)
        return PartitionWriter(
            self.store,
            table.partition(period),
            table.manifest(period),
            period,
            schema,
            run_id,
            self._publish,
            written=self.written,
        )

    def _publish(
        self, store: Store, manifest_path: str, period: Period, entries: Sequence[ManifestEntry]
    ) -> Manifest:
        """Every manifest this process writes: after the note of its range (`intend`), if any."""
        with self._noting:
            if note := self._notes.pop(posixpath.dirname(manifest_path), None):  # its table's
                store.put(*note)
        manifest = publish(store, manifest_path, period, entries)
        self.published[manifest_path] = manifest
        return manifest

    def lease(
        self,
        layer: Layer,
        name: str,
        blocks: Iterable[int],
        run_id: str,
        wait_seconds: float,
        ttl_seconds: float,
    ) -> AbstractContextManager[None]:
        """Hold these blocks of the dataset's partitions (`Partitioned.blocks`) against other
        runs while the block of code runs (lease.py)."""
        directory = self.layout(layer, name).beside(_LEASES)
        return leased(self.store, directory, block_names(blocks), run_id, wait_seconds, ttl_seconds)

    def manifest(self, layer: Layer, name: str, period: Period) -> Manifest | None:
        """The published version of a partition, or None if it was never published."""
        return self._manifest_at(self.layout(layer, name).manifest(period))

    def _manifest_at(self, path: str) -> Manifest | None:
        if path in self.published:
            return self.published[path]
        data = self.store.read_if_exists(path)
        if data is None:
            return None
        try:
            return Manifest.from_json(data, root_url(self.store))
        except (ValueError, KeyError, TypeError) as error:
            raise RunError(f"{self.store.url(path)}: unreadable manifest ({error})") from None

    def manifests(
        self, layer: Layer, name: str, periods: Sequence[Period]
    ) -> list[Manifest | None]:
        """The manifests of many partitions, read concurrently."""
        return map_concurrently(lambda period: self.manifest(layer, name, period), periods)

    def published_days(self, layer: Layer, name: str) -> list[dt.date]:
        """The first day of each published partition, in order (one listing)."""
        manifests = self.layout(layer, name).manifests
        pattern = posixpath.join(manifests, f"{PARTITION_COLUMN}=*.json")
        days = [_MANIFEST_FILE.match(posixpath.basename(path)) for path in self.store.glob(pattern)]
        return sorted(dt.date.fromisoformat(day.group(1)) for day in days if day)

    def file_paths(self, manifest: Manifest) -> list[str]:
        return [self.store.path_of_url(url) for url in manifest.urls]

    def file_schemas(self, entries: Sequence[ManifestEntry]) -> list[pa.Schema]:
        """Each listed file's partition schema: the columns in its footer (small reads,
        concurrently, but for the files this process wrote), then `dt`, its folder's."""

        def schema(entry: ManifestEntry) -> pa.Schema:
            if (written := self.written.get(entry.url)) is not None:
                return with_partition_column(written)
            path = self.store.path_of_url(entry.url)
            with self._published_file(path):
                footer = self.store.parquet_schema(path, entry.content_length)
            return with_partition_column(footer)

        return map_concurrently(schema, entries)

    def read(
        self, manifests: Manifest | Sequence[Manifest], columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The rows of one or more partitions (only `columns`, if given, `dt` among them), as
        one table."""
        return self._files(manifests).to_table(columns=None if columns is None else list(columns))

    def batches(self, manifest: Manifest) -> Iterator[pa.RecordBatch]:
        """A partition's rows file by file (the files' columns), each batch tagged with its
        file's URL."""
        for entry in manifest.entries:
            data = self._read_file(entry.url)
            for batch in pq.ParquetFile(pa.BufferReader(data)).iter_batches():
                yield with_origin(batch, entry.url)

    def scan(
        self, manifest: Manifest, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """A partition's rows (only `columns`, if given), a batch at a time."""
        return self._files(manifest).to_batches(columns=None if columns is None else list(columns))

    def _files(self, manifests: Manifest | Sequence[Manifest]) -> Any:
        """The manifests' files as a pyarrow dataset, `dt` from their folders."""
        import pyarrow.dataset as ds  # only reads need it, and it imports pandas when present

        listed = [manifests] if isinstance(manifests, Manifest) else manifests
        paths = [path for manifest in listed for path in self.file_paths(manifest)]
        partitioning = ds.partitioning(_PARTITIONING, flavor="hive")
        try:
            return ds.dataset(
                paths, format="parquet", filesystem=self.store.fs, partitioning=partitioning
            )
        except FileNotFoundError:
            raise self._missing(self._first_missing(paths)) from None

    def _read_file(self, url: str) -> bytes:
        path = self.store.path_of_url(url)
        with self._published_file(path):
            return self.store.read_bytes(path)

    @contextmanager
    def _published_file(self, path: str) -> Iterator[None]:
        """Around a read of a file a manifest lists: storage errors name it, and its absence
        is one line saying what to do."""
        try:
            with self.store.failures_at(path):
                yield
        except FileNotFoundError:
            raise self._missing(path) from None

    def _first_missing(self, paths: Sequence[str]) -> str:
        return next((path for path in paths if not self.store.exists(path)), paths[0])

    def _missing(self, path: str) -> RunError:
        return RunError(
            f"{self.store.url(path)}: a published data file is missing (its partition's manifest"
            " lists it); rerun the push of that partition to write it again"
        )

    def staging_directory(self, layer: Layer, name: str, run_id: str) -> str:
        return posixpath.join(self.layout(layer, name).beside(_STAGING), run_id)

    def staged_files(self, directory: str) -> dict[dt.date, list[StagedFile]]:
        """Parquet files a warehouse wrote under `directory`/dt=YYYY-MM-DD/, by day."""
        found: dict[dt.date, list[StagedFile]] = defaultdict(list)
        for path in self.store.list_files(directory, recursive=True):
            if match := _STAGED_PARTITION.search(path):
                day = dt.date.fromisoformat(match.group(1))
                found[day].append(StagedFile(path, day))
        return dict(found)

    def publish_staged(
        self, layer: Layer, name: str, period: Period, staged: list[StagedFile], run_id: str
    ) -> Manifest:
        """Move staged files into the partition under run-scoped names, then publish them."""
        table = self.layout(layer, name)
        directory = table.partition(period)
        entries = []
        for number, file in enumerate(staged):
            path = posixpath.join(directory, data_file_name(run_id, number))
            with self.store.failures_at(file.path):
                rows = pq.read_metadata(file.path, filesystem=self.store.fs).num_rows
            self.store.move(file.path, path)
            entries.append(ManifestEntry(self.store.url(path), self.store.size(path), rows))
        return self._publish(self.store, table.manifest(period), period, entries)

    def intend(self, layer: Layer, name: str, run_id: str, periods: Sequence[Period]) -> None:
        """Before a range is published: the note that it is not yet in the table format, so
        that if this run dies before its commit, the next commit of the table takes it in. The
        note is written just before the range's first manifest: a run that publishes nothing
        leaves none."""
        if self.tables is None or not periods:
            return
        self.tables.prepare(self.layout(layer, name))
        days = [period.start.isoformat() for period in periods]
        note = (self._pending(layer, name, run_id), json.dumps({"days": days}).encode())
        with self._noting:
            self._notes[self.layout(layer, name).manifests] = note

    def _pending(self, layer: Layer, name: str, run_id: str) -> str:
        return posixpath.join(self.layout(layer, name).beside(_PENDING), f"{run_id}.json")

    def commit_table(
        self,
        layer: Layer,
        name: str,
        run_id: str,
        periods: Sequence[Period],
        schema: pa.Schema,
    ) -> Committed | None:
        """After a range is published: its partitions, and those of ranges noted by runs that
        died before their commit, hold their manifests' files in the Iceberg table; then the
        notes go. `schema` is the lake table's. None without a catalog.

        The files the commit takes out of the table get retired copies under `_platform/`
        (hard links locally, one CopyObject each on S3), which the snapshot before the commit
        reads; the copies an earlier commit made go, with the snapshots that read them. A file
        already gone (removed by a push with Iceberg off) just leaves the table."""
        if self.tables is None:
            return None
        table = self.layout(layer, name)
        notes = self.store.list_files(table.beside(_PENDING))
        days = {period.start for period in periods}
        for note in notes:
            if note != self._pending(layer, name, run_id):
                data = self.store.read_if_exists(note)
                days |= {
                    dt.date.fromisoformat(day) for day in json.loads(data or b"{}").get("days", [])
                }
        partitions = dict(
            zip(sorted(days), self._manifests_of(layer, name, sorted(days)), strict=True)
        )

        def everything() -> dict[dt.date, Manifest]:
            published = self.published_days(layer, name)
            manifests = self._manifests_of(layer, name, published)
            return {
                day: manifest
                for day, manifest in zip(published, manifests, strict=True)
                if manifest
            }

        earlier: list[str] = []

        def retire(urls: Sequence[str]) -> dict[str, str]:
            earlier.extend(self.store.list_files(table.beside(_RETIRED), recursive=True))

            def copy(url: str) -> tuple[str, str | None]:
                path = self.store.path_of_url(url)
                within = posixpath.relpath(path, table.data)
                retired = posixpath.join(table.beside(_RETIRED), run_id, within)
                try:
                    self.store.copy(path, retired)
                except FileNotFoundError:  # gone already (a push with Iceberg off removed it)
                    return url, None
                return url, self.store.url(retired)

            return {url: copy for url, copy in map_concurrently(copy, urls) if copy}

        committed = self.tables.commit(table, schema, partitions, everything, run_id, retire)
        # this run's note among the notes; earlier copies only if their snapshots expired
        self.store.delete([*notes, *(earlier if committed.retired else [])])
        return committed

    def _manifests_of(
        self, layer: Layer, name: str, days: Sequence[dt.date]
    ) -> list[Manifest | None]:
        table = self.layout(layer, name)
        return map_concurrently(lambda day: self._manifest_at(table.manifest_of_day(day)), days)

    def remove_stale(self, layer: Layer, name: str, periods: Sequence[Period]) -> int:
        """Delete what these partitions' directories hold besides their manifests and the files
        those list (earlier versions, a crashed run's leftovers): one listing of the range and
        batched deletes, so a backfill pays two requests per partition, not four."""
        table = self.layout(layer, name)
        directories = {table.partition(period) for period in periods}
        if not directories:
            return 0
        keep: set[str] = set()
        for period in periods:
            if (manifest := self.published.get(table.manifest(period))) is None:
                return 0  # only a range this process published is known well enough to prune
            keep |= set(self.file_paths(manifest))
        stale = [
            path
            for path in self.store.list_prefix(posixpath.commonprefix(sorted(directories)))
            if posixpath.dirname(path) in directories and path not in keep
        ]
        self.store.delete(stale)
        return len(stale)

    def clear(self, directory: str) -> None:
        self.store.delete(self.store.list_files(directory, recursive=True))

    def stored_schema(self, source: str) -> pa.Schema | None:
        """A source's schema as its pushes left it (inferred at the first, grown by evolve)."""
        path = self._beside(source, _FROZEN_SCHEMA)
        data = self.store.read_if_exists(path)
        if data is None:
            return None
        try:
            return schema_from_mapping(json.loads(data))
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            raise RunError(
                f"{self.store.url(path)}: unreadable schema record ({error}); restore it, or"
                " delete it and the next push records the source's columns again"
            ) from None

    def store_schema(self, source: str, schema: pa.Schema) -> None:
        path = self._beside(source, _FROZEN_SCHEMA)
        self.store.put(path, json.dumps(schema_to_mapping(schema), indent=1).encode())

    def cursor_windows(self, source: str) -> dict[str, Any]:
        """An incremental source's window per partition key, as its pushes recorded them."""
        data = self.store.read_if_exists(self._beside(source, _CURSOR_WINDOWS))
        return {} if data is None else json.loads(data)

    def store_cursor_windows(self, source: str, windows: dict[str, Any]) -> None:
        path = self._beside(source, _CURSOR_WINDOWS)
        self.store.put(path, json.dumps(windows, indent=1, sort_keys=True).encode())
