"""Iceberg metadata over the lake's tables, so that engines we did not write (Athena, Redshift
Spectrum, Spark, Trino, DuckDB, pyiceberg) read a consistent snapshot while a push runs.

The files a run published are added as they are (no rewrite) and the files they replace leave
the table, in one snapshot per published range. The files hold no `dt`: it is the partition's
identity value, which Iceberg readers project from the table's manifests.

A push's commit to a table that exists is written directly (`iceberg_replace`). pyiceberg,
imported only then, creates a table (and fills it with every published partition) the first
time a range of it is committed, and again when the catalog's table lies elsewhere than the
lake (the lake moved) or its metadata is gone (the lake was removed, the catalog kept); it also
commits a range whose schema grows the table's.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from platform_assets.backoff import pauses
from platform_assets.errors import RunError
from platform_assets.lake.iceberg_pointer import Pointer
from platform_assets.lake.iceberg_replace import (
    COMMITTED_BY,
    EPOCH,
    RETIRED_BY,
    CommitConflictError,
    Committed,
    Retire,
    field_paths,
    replace,
)
from platform_assets.lake.layout import TableLayout
from platform_assets.lake.manifest import Manifest
from platform_assets.schemas import PARTITION_COLUMN

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile, ManifestFile
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.update.snapshot import _OverwriteFiles

_COMMIT_ATTEMPTS = 8  # concurrent chunks of one backfill commit to the same table


@dataclass(frozen=True)
class IcebergCatalog:
    """Where the lake's Iceberg tables are registered: `connect` opens the catalog (a SQL catalog
    in a file locally, the Glue Data Catalog in aws mode), `namespace` holds the tables."""

    connect: Callable[[], Catalog]
    pointer: Pointer
    """The catalog's record of each table's metadata file, for the direct commit."""
    namespace: str
    describe: str
    catalog_module: str
    """The module `connect` imports (pyiceberg's SQL or Glue catalog)."""
    owns_namespace: bool
    """Whether a commit creates the namespace if absent (the SQL catalog's; Glue's database is
    Terraform's, and the jobs may not create one)."""

    def prepare(self, table: TableLayout) -> None:
        """Import what the table's commit needs in the background, while the range is being
        written: pyiceberg only if the catalog has no such table yet (pyiceberg will make it)."""
        exists = self.pointer.current(self.namespace, _name(table)) is not None
        modules = ("fastavro",) if exists else (self.catalog_module, *_COMMIT_MODULES)
        threading.Thread(
            target=_import, args=(modules,), name="iceberg-imports", daemon=True
        ).start()

    def table_name(self, table: TableLayout) -> str:
        return f"{self.namespace}.{_name(table)}"

    def commit(
        self,
        table: TableLayout,
        schema: pa.Schema,
        partitions: Mapping[dt.date, Manifest | None],
        everything: Callable[[], Mapping[dt.date, Manifest]],
        run_id: str,
        retire: Retire | None = None,
    ) -> Committed:
        """Make the Iceberg table's `partitions` hold exactly their manifests' files (a partition
        whose manifest is None holds none); `schema` is the lake table's (the files' columns,
        then `dt`). `everything` gives every published partition, for a table that is created.

        With `retire`, the files that leave the table are first given retired copies (`retire`
        makes them and returns their URLs), and the commit is two snapshots: the table as it
        was, on the copies, then as it is now; older snapshots, whose files are going, expire.
        So the snapshot before a rerun reads the rows it replaced, and the partition folders
        keep only the files of the current snapshot."""
        change = _Change(
            self.table_name(table),
            table,
            _iceberg_schema(schema),
            partitions,
            everything,
            run_id,
            retire,
        )
        try:
            return self._commit(change)
        except RunError:
            raise
        except Exception as error:  # pyiceberg's, the catalog's and the store's errors alike
            message = " ".join(str(error).split()) or type(error).__name__
            raise RunError(f"Iceberg table {change.name} ({self.describe}): {message}") from None

    def _commit(self, change: _Change) -> Committed:
        table = change.table
        waits = pauses()
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                direct = replace(
                    self.pointer,
                    table.store,
                    self.namespace,
                    _name(table),
                    table.store.url(table.data),
                    change.schema,
                    change.partitions,
                    change.run_id,
                    change.retire,
                )
                return direct if direct is not None else self._commit_with_pyiceberg(change)
            except CommitConflictError:
                if attempt == _COMMIT_ATTEMPTS - 1:
                    raise
                # another run (a chunk of the same backfill) committed or created the table
                # first: read what it made, then redo this commit from the manifests
                time.sleep(next(waits))
        raise AssertionError("unreachable")

    def _commit_with_pyiceberg(self, change: _Change) -> Committed:
        from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

        name, table, partitions = change.name, change.table, change.partitions
        catalog = self.connect()
        if self.owns_namespace:
            catalog.create_namespace_if_not_exists(self.namespace)
        current = _load(catalog, name)
        if current is not None and current.location().rstrip("/") != table.store.url(table.data):
            catalog.drop_table(name)  # the lake moved: its files are elsewhere now
            current = None
        try:
            if current is None:
                everything = {**change.everything(), **partitions}
                self._create(catalog, name, table, change.schema, everything, change.run_id)
                return Committed(changed=True, retired=0)
            return _replace_partitions(
                current, change.schema, partitions, change.run_id, change.retire
            )
        except (CommitFailedException, TableAlreadyExistsError) as error:
            raise CommitConflictError(str(error)) from None

    def _create(
        self,
        catalog: Catalog,
        name: str,
        table: TableLayout,
        schema: pa.Schema,
        partitions: Mapping[dt.date, Manifest | None],
        run_id: str,
    ) -> None:
        from pyiceberg.table.name_mapping import create_mapping_from_schema

        transaction = catalog.create_table_transaction(
            name,
            schema,
            location=table.store.url(table.data),
            properties={
                "format-version": "2",
                "write.metadata.path": table.store.url(table.beside("iceberg")),
                "write.parquet.compression-codec": "zstd",
                # retries are ours: a conflicting commit is redone from the manifests
                "commit.retry.num-retries": "0",
                "write.metadata.delete-after-commit.enabled": "true",
                "write.metadata.previous-versions-max": "20",
            },
        )
        with transaction.update_spec() as spec:
            spec.add_identity(PARTITION_COLUMN)
        files = [file for manifest in partitions.values() if manifest for file in _files(manifest)]
        if files:
            with transaction.update_snapshot({COMMITTED_BY: run_id}).fast_append() as append:
                for file in files:
                    append.append_data_file(file)
        # the files carry no Iceberg field ids: readers match their columns by name
        mapping = create_mapping_from_schema(transaction.table_metadata.schema())
        transaction.set_properties({"schema.name-mapping.default": mapping.model_dump_json()})
        transaction.commit_transaction()


@dataclass(frozen=True)
class _Change:
    """One commit's arguments (`IcebergCatalog.commit`'s), with the table's catalog name."""

    name: str
    table: TableLayout
    schema: pa.Schema
    partitions: Mapping[dt.date, Manifest | None]
    everything: Callable[[], Mapping[dt.date, Manifest]]
    run_id: str
    retire: Retire | None


_COMMIT_MODULES = (
    "pyiceberg.io.pyarrow",
    "pyiceberg.manifest",
    "pyiceberg.table.name_mapping",
    "pyiceberg.table.update.snapshot",
)


def _name(table: TableLayout) -> str:
    return f"{table.layer}_{table.name}"


def _import(modules: Sequence[str]) -> None:
    for module in modules:
        importlib.import_module(module)


def _iceberg_schema(schema: pa.Schema) -> pa.Schema:
    """The lake table's schema as Iceberg types it: a `json` column (an Arrow extension type,
    which pyiceberg refuses) is the string it is stored as."""
    return pa.schema(
        field.with_type(field.type.storage_type)
        if isinstance(field.type, pa.BaseExtensionType)
        else field
        for field in schema
    )


def _load(catalog: Catalog, name: str) -> Table | None:
    """The catalog's table, or None if it has none, or if the metadata it names is gone (the
    lake was removed under the catalog): a table is then made again from the lake's manifests."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return catalog.load_table(name)
    except NoSuchTableError:
        return None
    except FileNotFoundError:
        catalog.drop_table(name)
        return None


def _replace_partitions(
    table: Table,
    schema: pa.Schema,
    partitions: Mapping[dt.date, Manifest | None],
    run_id: str,
    retire: Retire | None,
) -> Committed:
    held = _held_files(table, {(day - EPOCH).days for day in partitions})
    wanted = {
        file.file_path: file
        for manifest in partitions.values()
        if manifest
        for file in _files(manifest)
    }
    stale = [file for file in held if file.file_path not in wanted]
    held_paths = {file.file_path for file in held}
    added = [file for path, file in wanted.items() if path not in held_paths]
    grows = _grows(table, schema)
    if not stale and not added and not grows:
        return Committed(changed=False, retired=0)
    copies = retire([file.file_path for file in stale]) if retire and stale else {}
    with table.transaction() as transaction:
        if grows:
            _evolve(transaction, schema)
        if copies:
            copied = [file for file in stale if file.file_path in copies]
            retired = [_copy_of(file, copies[file.file_path]) for file in copied]
            summary = {COMMITTED_BY: run_id, RETIRED_BY: run_id}
            with _overwrite(transaction, summary) as overwrite:
                for file in copied:
                    overwrite.delete_data_file(file)
                for file in retired:
                    overwrite.append_data_file(file)
            before = transaction.table_metadata.current_snapshot_id
            stale = [*retired, *(file for file in stale if file.file_path not in copies)]
        with _overwrite(transaction, {COMMITTED_BY: run_id}) as overwrite:
            for file in stale:
                overwrite.delete_data_file(file)
            for file in added:
                overwrite.append_data_file(file)
        if copies:
            _expire_all_but(transaction, {before, transaction.table_metadata.current_snapshot_id})
    return Committed(changed=True, retired=len(copies))


def _held_files(table: Table, days: set[int]) -> list[DataFile]:
    """The current snapshot's files in these partitions (days since the epoch), read from its
    manifests: a scan's planning evaluates every file's metrics, which a partition's identity
    value makes needless."""
    from pyiceberg.manifest import ManifestContent

    snapshot = table.current_snapshot()
    if snapshot is None or not days:
        return []
    return [
        entry.data_file
        for manifest in snapshot.manifests(table.io)
        if manifest.content == ManifestContent.DATA
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
        if entry.data_file.partition[0] in days
    ]


def _overwrite(transaction: Transaction, summary: dict[str, str]) -> _OverwriteFiles:
    """An overwrite snapshot that leaves behind the manifests holding only files that earlier
    snapshots deleted. pyiceberg 0.12 carries them forward (it reads manifests without their
    deleted entries and takes an empty read for an untouched manifest), so each rerun would
    add two to every later snapshot and commits would slow down run after run; iceberg-go had
    the same bug (its issue #1153)."""
    from pyiceberg.table.update.snapshot import _OverwriteFiles

    class Overwrite(_OverwriteFiles):
        def _process_manifests(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
            return [
                manifest
                for manifest in manifests
                if manifest.added_snapshot_id == self._snapshot_id
                or manifest.has_added_files()
                or manifest.has_existing_files()
            ]

    producer = transaction.update_snapshot(summary).overwrite()
    producer.__class__ = Overwrite
    return producer


def _copy_of(file: DataFile, url: str) -> DataFile:
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

    copy = DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=url,
        file_format=FileFormat.PARQUET,
        partition=file.partition,
        record_count=file.record_count,
        file_size_in_bytes=file.file_size_in_bytes,
        _table_format_version=2,
    )
    copy.spec_id = file.spec_id
    return copy


def _expire_all_but(transaction: Transaction, kept: set[int | None]) -> None:
    """Expire the snapshots not `kept`: they name files that are going."""
    from pyiceberg.table.update.snapshot import ExpireSnapshots

    expired = [
        s.snapshot_id for s in transaction.table_metadata.snapshots if s.snapshot_id not in kept
    ]
    if expired:
        with ExpireSnapshots(transaction) as expire:
            expire.by_ids(expired)


def _grows(table: Table, schema: pa.Schema) -> bool:
    """Whether the lake's schema has columns (or fields) the Iceberg table lacks."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    held = schema_to_pyarrow(table.schema(), include_field_ids=False)
    return field_paths(schema) - field_paths(held) != set()


def _evolve(transaction: Transaction, schema: pa.Schema) -> None:
    with transaction.update_schema() as update:
        update.union_by_name(schema)


def _files(manifest: Manifest) -> list[Any]:
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    partition = Record((manifest.day - EPOCH).days)
    return [
        DataFile.from_args(
            content=DataFileContent.DATA,
            file_path=entry.url,
            file_format=FileFormat.PARQUET,
            partition=partition,
            record_count=entry.record_count,
            file_size_in_bytes=entry.content_length,
            _table_format_version=2,
        )
        for entry in manifest.entries
    ]
