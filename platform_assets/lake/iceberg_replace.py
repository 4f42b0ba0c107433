"""The commit a push makes on a table that exists, written directly by the Iceberg spec (format
version 2): partitions' files in, the files they replace out, the schema unchanged. The
manifests and manifest lists are Avro (fastavro) with the schemas the table's own files carry,
the metadata is JSON, and the catalog's pointer is swapped only if no other commit came first.

pyiceberg makes the table, grows its schema and moves it (`platform_assets.lake.iceberg`);
this commit leaves it out because importing its table layer and writing its manifests cost a
push more than the rest of its work. `replace` returns None for any table it does not know how
to change this way, and pyiceberg commits instead.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import posixpath
import secrets
import struct
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from platform_assets.lake.iceberg_pointer import Pointer
from platform_assets.lake.manifest import Manifest
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.storage import Store

EPOCH = dt.date(1970, 1, 1)
COMMITTED_BY = "platform.run-id"
RETIRED_BY = "platform.retired-by"  # a snapshot of the table as it was before a rerun

Retire = Callable[[Sequence[str]], Mapping[str, str]]
"""Given the URLs of files leaving the table, copy each and return {url: the copy's URL}, for
those that still exist."""

_EXISTING, _ADDED, _DELETED = 0, 1, 2  # a manifest entry's status
_DATA = 0  # a manifest's and a data file's content


@dataclass(frozen=True)
class Committed:
    changed: bool
    retired: int
    """How many files leaving the table were given retired copies (older copies then expire)."""


class CommitConflictError(Exception):
    """Another commit changed the table first: the commit is redone from the manifests."""


@dataclass
class _ManifestFile:
    """A data manifest of the table: its manifest list row and its entries (read on demand)."""

    row: dict[str, Any]
    entries: list[dict[str, Any]] | None = None
    header: dict[str, str] | None = None

    @property
    def has_live_files(self) -> bool:
        return bool(self.row["added_files_count"] or self.row["existing_files_count"])

    def live(self, store: Store) -> list[dict[str, Any]]:
        """Its added and existing entries, their inherited numbers made explicit."""
        if self.entries is None:
            self.header, self.entries = _read_avro(store, self.row["manifest_path"])
        inherited = {
            "snapshot_id": self.row["added_snapshot_id"],
            "sequence_number": self.row["sequence_number"],
            "file_sequence_number": self.row["sequence_number"],
        }
        return [
            {
                **entry,
                **{
                    key: entry[key] if entry[key] is not None else inherited[key]
                    for key in inherited
                },
            }
            for entry in self.entries
            if entry["status"] != _DELETED
        ]


@dataclass
class _Table:
    """The table's metadata as a commit changes it, and the files the commit has written."""

    store: Store
    metadata: dict[str, Any]
    manifest_header: dict[str, str]
    list_header: dict[str, str]
    previous_updated_ms: int
    written: list[str] = field(default_factory=list)

    @property
    def folder(self) -> str:
        properties = self.metadata.get("properties", {})
        location = properties.get("write.metadata.path") or f"{self.metadata['location']}/metadata"
        return self.store.path_of_url(location.rstrip("/"))

    def _put(self, name: str, data: bytes) -> str:
        path = posixpath.join(self.folder, name)
        self.store.put(path, data)
        self.written.append(path)
        return self.store.url(path)

    def overwrite(
        self,
        manifests: list[_ManifestFile],
        removed: Sequence[dict[str, Any]],
        added: Sequence[dict[str, Any]],
        summary: Mapping[str, str],
    ) -> list[_ManifestFile]:
        """A snapshot without the files `removed` and with the data files `added`; returns its
        manifests. Manifests holding only deleted entries are not carried forward."""
        paths = {file["file_path"] for file in removed}
        days = {file["partition"][PARTITION_COLUMN] for file in removed}
        snapshot_id = self._snapshot_id()
        sequence = self.metadata["last-sequence-number"] + 1
        commit = uuid.uuid4()
        kept: list[_ManifestFile] = []
        deleted: list[dict[str, Any]] = []
        written: list[list[dict[str, Any]]] = []
        if added:
            written.append(
                [
                    {
                        "status": _ADDED,
                        "snapshot_id": snapshot_id,
                        "sequence_number": None,
                        "file_sequence_number": None,
                        "data_file": file,
                    }
                    for file in added
                ]
            )
        for manifest in manifests:
            if not manifest.has_live_files:
                continue
            if not _may_hold(manifest.row, days):
                kept.append(manifest)
                continue
            live = manifest.live(self.store)
            gone = [entry for entry in live if entry["data_file"]["file_path"] in paths]
            if not gone:
                kept.append(manifest)
                continue
            deleted += [{**entry, "status": _DELETED, "snapshot_id": snapshot_id} for entry in gone]
            staying = [
                {**entry, "status": _EXISTING}
                for entry in live
                if entry["data_file"]["file_path"] not in paths
            ]
            if staying:
                written.append(staying)
        if deleted:
            written.append(deleted)
        new = [
            self._manifest(f"{commit}-m{number}.avro", entries, snapshot_id, sequence)
            for number, entries in enumerate(written)
        ]
        result = [*new, *kept]
        listed = self._put(
            f"snap-{snapshot_id}-0-{commit}.avro",
            _avro(
                self.list_header,
                [manifest.row for manifest in result],
                {
                    "snapshot-id": str(snapshot_id),
                    "parent-snapshot-id": str(self.metadata["current-snapshot-id"]),
                    "sequence-number": str(sequence),
                    "format-version": "2",
                },
            ),
        )
        removed_files = [entry["data_file"] for entry in deleted]
        parent = _current_snapshot(self.metadata)
        if parent is None:  # _committable admits only a table with a current snapshot
            raise ValueError("the table has no current snapshot")
        self._add_snapshot(
            snapshot_id, sequence, listed, _summary(parent, added, removed_files, summary)
        )
        return result

    def _manifest(
        self, name: str, entries: list[dict[str, Any]], snapshot_id: int, sequence: int
    ) -> _ManifestFile:
        data = _avro(self.manifest_header, entries, {})
        url = self._put(name, data)
        days = [entry["data_file"]["partition"][PARTITION_COLUMN] for entry in entries]
        counts = {
            s: [e for e in entries if e["status"] == s] for s in (_EXISTING, _ADDED, _DELETED)
        }
        live_sequences = [
            entry["sequence_number"] if entry["sequence_number"] is not None else sequence
            for entry in entries
            if entry["status"] != _DELETED
        ]
        row = {
            "manifest_path": url,
            "manifest_length": len(data),
            "partition_spec_id": self.metadata["default-spec-id"],
            "content": _DATA,
            "sequence_number": sequence,
            "min_sequence_number": min(live_sequences, default=sequence),
            "added_snapshot_id": snapshot_id,
            "added_files_count": len(counts[_ADDED]),
            "existing_files_count": len(counts[_EXISTING]),
            "deleted_files_count": len(counts[_DELETED]),
            "added_rows_count": _records(counts[_ADDED]),
            "existing_rows_count": _records(counts[_EXISTING]),
            "deleted_rows_count": _records(counts[_DELETED]),
            "partitions": [
                {
                    "contains_null": False,
                    "contains_nan": False,
                    "lower_bound": _day_bytes(min(days)),
                    "upper_bound": _day_bytes(max(days)),
                }
            ],
            "key_metadata": None,
        }
        return _ManifestFile(row, entries)

    def _snapshot_id(self) -> int:
        taken = {snapshot["snapshot-id"] for snapshot in self.metadata.get("snapshots", [])}
        while (candidate := secrets.randbits(63)) in taken or candidate == 0:
            pass
        return candidate

    def _add_snapshot(
        self, snapshot_id: int, sequence: int, manifest_list: str, summary: dict[str, str]
    ) -> None:
        metadata = self.metadata
        now = max(int(time.time() * 1000), metadata["last-updated-ms"] + 1)
        metadata["snapshots"].append(
            {
                "snapshot-id": snapshot_id,
                "parent-snapshot-id": metadata["current-snapshot-id"],
                "sequence-number": sequence,
                "timestamp-ms": now,
                "manifest-list": manifest_list,
                "summary": summary,
                "schema-id": metadata["current-schema-id"],
            }
        )
        metadata["current-snapshot-id"] = snapshot_id
        metadata.setdefault("refs", {})["main"] = {"snapshot-id": snapshot_id, "type": "branch"}
        metadata.setdefault("snapshot-log", []).append(
            {"snapshot-id": snapshot_id, "timestamp-ms": now}
        )
        metadata["last-sequence-number"] = sequence
        metadata["last-updated-ms"] = now

    def expire_all_but(self, kept: set[int]) -> None:
        """Snapshots not `kept` leave the table: they name files that are going."""
        metadata = self.metadata
        metadata["snapshots"] = [
            # a parent that expired is no parent (as pyiceberg's expiry leaves it)
            {k: v for k, v in s.items() if k != "parent-snapshot-id" or v in kept}
            for s in metadata["snapshots"]
            if s["snapshot-id"] in kept
        ]
        for key in ("snapshot-log", "statistics", "partition-statistics"):
            metadata[key] = [
                entry for entry in metadata.get(key, []) if entry["snapshot-id"] in kept
            ]
        metadata["refs"] = {
            name: ref
            for name, ref in metadata.get("refs", {}).items()
            if ref["snapshot-id"] in kept
        }

    def publish(self, pointer: Pointer, namespace: str, name: str, previous: str) -> None:
        """Write the metadata file and swap the catalog's pointer to it; on a conflict, the
        files this commit wrote go and CommitConflictError is raised."""
        metadata = self.metadata
        properties = metadata.get("properties", {})
        kept_versions = max(1, int(properties.get("write.metadata.previous-versions-max", 100)))
        log = metadata.get("metadata-log", [])
        trimmed = log[len(log) - kept_versions + 1 :] if len(log) >= kept_versions else log
        dropped = [entry["metadata-file"] for entry in log if entry not in trimmed]
        metadata["metadata-log"] = [
            *trimmed,
            {"metadata-file": previous, "timestamp-ms": self.previous_updated_ms},
        ]
        version = _metadata_version(previous) + 1
        location = self._put(
            f"{version:05d}-{uuid.uuid4()}.metadata.json", json.dumps(metadata).encode()
        )
        if not pointer.swap(namespace, name, previous, location):
            self.store.delete(self.written)
            raise CommitConflictError(f"{namespace}.{name} was committed by another run")
        if properties.get("write.metadata.delete-after-commit.enabled") == "true" and dropped:
            self.store.delete([self.store.path_of_url(url) for url in dropped])


def replace(
    pointer: Pointer,
    store: Store,
    namespace: str,
    name: str,
    location: str,
    schema: pa.Schema,
    partitions: Mapping[dt.date, Manifest | None],
    run_id: str,
    retire: Retire | None,
) -> Committed | None:
    """Make the table's `partitions` hold exactly their manifests' files, as
    `IcebergCatalog.commit` does; None if the table is not one this commit can change (none in
    the catalog, its metadata gone, elsewhere than `location`, its schema short of `schema`'s
    columns, not partitioned by day alone, or without a snapshot)."""
    previous = pointer.current(namespace, name)
    if previous is None:
        return None
    try:
        metadata = json.loads(store.read_bytes(store.path_of_url(previous)))
    except FileNotFoundError:
        return None
    committable = _committable(store, metadata, location, schema)
    if committable is None:
        return None
    list_header, manifests = committable
    days = set(partitions)
    held = [
        entry["data_file"]
        for manifest in manifests
        if _may_hold(manifest.row, days)
        for entry in manifest.live(store)
        if entry["data_file"]["partition"][PARTITION_COLUMN] in days
    ]
    wanted = {
        entry.url: _data_file(day, entry.url, entry.record_count, entry.content_length)
        for day, manifest in partitions.items()
        if manifest
        for entry in manifest.entries
    }
    stale = [file for file in held if file["file_path"] not in wanted]
    held_paths = {file["file_path"] for file in held}
    added = [file for path, file in wanted.items() if path not in held_paths]
    if not stale and not added:
        return Committed(changed=False, retired=0)
    copies = retire([file["file_path"] for file in stale]) if retire and stale else {}
    table = _Table(
        store,
        metadata,
        _manifest_header(store, manifests),
        list_header,
        metadata["last-updated-ms"],
    )
    if copies:
        copied = [file for file in stale if file["file_path"] in copies]
        retired = [{**file, "file_path": copies[file["file_path"]]} for file in copied]
        manifests = table.overwrite(
            manifests, copied, retired, {COMMITTED_BY: run_id, RETIRED_BY: run_id}
        )
        before = metadata["current-snapshot-id"]
        stale = [*retired, *(file for file in stale if file["file_path"] not in copies)]
    table.overwrite(manifests, stale, added, {COMMITTED_BY: run_id})
    if copies:
        table.expire_all_but({before, metadata["current-snapshot-id"]})
    table.publish(pointer, namespace, name, previous)
    return Committed(changed=True, retired=len(copies))


def _committable(
    store: Store, metadata: dict[str, Any], location: str, schema: pa.Schema
) -> tuple[dict[str, str], list[_ManifestFile]] | None:
    """The current snapshot's manifest list header and data manifests, if this commit can
    change the table."""
    if metadata.get("format-version") != 2 or metadata["location"].rstrip("/") != location:
        return None
    snapshot = _current_snapshot(metadata)
    current = _current_schema(metadata)
    if snapshot is None or field_paths(schema) - _iceberg_field_paths(current) != set():
        return None
    spec_id = metadata["default-spec-id"]
    spec = next(s for s in metadata["partition-specs"] if s["spec-id"] == spec_id)
    day = next((f["id"] for f in current["fields"] if f["name"] == PARTITION_COLUMN), None)
    by_day = [(f["source-id"], f["transform"], f["name"]) for f in spec["fields"]]
    if by_day != [(day, "identity", PARTITION_COLUMN)]:
        return None
    header, rows = _read_avro(store, snapshot["manifest-list"])
    manifests = [_ManifestFile(row) for row in rows]
    if not manifests or any(
        m.row["content"] != _DATA or m.row["partition_spec_id"] != spec_id for m in manifests
    ):
        return None
    return header, manifests


def _current_schema(metadata: Mapping[str, Any]) -> dict[str, Any]:
    current = metadata["current-schema-id"]
    return next(s for s in metadata["schemas"] if s["schema-id"] == current)


def _current_snapshot(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    current = metadata.get("current-snapshot-id")
    return next((s for s in metadata.get("snapshots", []) if s["snapshot-id"] == current), None)


def _may_hold(row: Mapping[str, Any], days: set[dt.date]) -> bool:
    """Whether a manifest's partition range (its summary in the manifest list) meets `days`."""
    if not days:
        return False
    summary = (row["partitions"] or [{}])[0]
    low, high = summary.get("lower_bound"), summary.get("upper_bound")
    if low is None or high is None:
        return True
    return any(_from_bytes(low) <= day <= _from_bytes(high) for day in days)


def _data_file(day: dt.date, url: str, records: int, size: int) -> dict[str, Any]:
    return {
        "content": _DATA,
        "file_path": url,
        "file_format": "PARQUET",
        "partition": {PARTITION_COLUMN: day},
        "record_count": records,
        "file_size_in_bytes": size,
        **dict.fromkeys(_UNSET_FILE_FIELDS),
    }


_UNSET_FILE_FIELDS = (
    "column_sizes",
    "value_counts",
    "null_value_counts",
    "nan_value_counts",
    "lower_bounds",
    "upper_bounds",
    "key_metadata",
    "split_offsets",
    "equality_ids",
    "sort_order_id",
)


def _summary(
    parent: Mapping[str, Any],
    added: Sequence[Mapping[str, Any]],
    removed: Sequence[Mapping[str, Any]],
    properties: Mapping[str, str],
) -> dict[str, str]:
    """A snapshot's summary as pyiceberg writes an overwrite's: its changes, then the totals."""
    before = parent.get("summary", {})
    added_size = sum(file["file_size_in_bytes"] for file in added)
    removed_size = sum(file["file_size_in_bytes"] for file in removed)
    added_records = sum(file["record_count"] for file in added)
    removed_records = sum(file["record_count"] for file in removed)
    changed = {file["partition"][PARTITION_COLUMN] for file in (*added, *removed)}
    changes = {
        "added-files-size": added_size,
        "removed-files-size": removed_size,
        "added-data-files": len(added),
        "deleted-data-files": len(removed),
        "added-records": added_records,
        "deleted-records": removed_records,
        "changed-partition-count": len(changed),
    }

    def total(key: str, change: int) -> str:
        return str(int(before.get(key, 0)) + change)

    return {
        "operation": "overwrite",
        **{key: str(value) for key, value in changes.items() if value},
        **properties,
        "total-data-files": total("total-data-files", len(added) - len(removed)),
        "total-delete-files": total("total-delete-files", 0),
        "total-records": total("total-records", added_records - removed_records),
        "total-files-size": total("total-files-size", added_size - removed_size),
        "total-position-deletes": total("total-position-deletes", 0),
        "total-equality-deletes": total("total-equality-deletes", 0),
    }


def _records(entries: Iterable[Mapping[str, Any]]) -> int:
    return sum(entry["data_file"]["record_count"] for entry in entries)


def _day_bytes(day: dt.date) -> bytes:
    """A date partition value's bound: days since the epoch, a little-endian int32."""
    return struct.pack("<i", (day - EPOCH).days)


def _from_bytes(data: bytes) -> dt.date:
    return EPOCH + dt.timedelta(days=struct.unpack("<i", data)[0])


def _metadata_version(location: str) -> int:
    prefix = posixpath.basename(location).split("-", 1)[0]
    return int(prefix) if prefix.isdigit() else -1


def _manifest_header(store: Store, manifests: Sequence[_ManifestFile]) -> dict[str, str]:
    """The Avro header of the table's manifests (those read already carry it)."""
    for manifest in manifests:
        if manifest.header is not None:
            return manifest.header
    header, _ = _read_avro(store, manifests[0].row["manifest_path"])
    return header


def _read_avro(store: Store, url: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    import fastavro

    reader = fastavro.reader(io.BytesIO(store.read_bytes(store.path_of_url(url))))
    return dict(reader.metadata), list(reader)  # type: ignore[arg-type]


def _avro(
    header: Mapping[str, str], records: Sequence[Mapping[str, Any]], extra: Mapping[str, str]
) -> bytes:
    """Records in an Avro file of the same schema and metadata as the one `header` came from."""
    import fastavro

    schema = json.loads(header["avro.schema"])
    metadata = {k: v for k, v in header.items() if not k.startswith("avro.")} | dict(extra)
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, records, codec="deflate", metadata=metadata)
    return buffer.getvalue()


def field_paths(schema: pa.Schema) -> set[str]:
    """Every column and nested field of an Arrow schema, as `a.b` and `a[]` paths."""
    paths: set[str] = set()

    def visit(prefix: str, data_type: pa.DataType) -> None:
        if pa.types.is_struct(data_type):
            for child in data_type:
                visit(f"{prefix}.{child.name}", child.type)
        elif pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
            visit(f"{prefix}[]", data_type.value_type)
        paths.add(prefix)

    for column in schema:
        visit(column.name, column.type)
    return paths


def _iceberg_field_paths(schema: Mapping[str, Any]) -> set[str]:
    """The same paths of an Iceberg schema (its JSON)."""
    paths: set[str] = set()

    def visit(prefix: str, data_type: Any) -> None:
        if isinstance(data_type, dict) and data_type["type"] == "struct":
            for child in data_type["fields"]:
                visit(f"{prefix}.{child['name']}", child["type"])
        elif isinstance(data_type, dict) and data_type["type"] == "list":
            visit(f"{prefix}[]", data_type["element"])
        paths.add(prefix)

    for column in schema["fields"]:
        visit(column["name"], column["type"])
    return paths
