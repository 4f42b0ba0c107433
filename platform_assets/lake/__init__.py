"""The lake: hive-partitioned parquet (raw/<source>/dt=YYYY-MM-DD/), read through manifests only."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from platform_assets.errors import RunError
from platform_assets.lake.manifest import Manifest, ManifestEntry
from platform_assets.lake.writer import MANIFEST_NAME, PartitionWriter
from platform_assets.partitions import Period
from platform_assets.schemas import schema_from_mapping, schema_to_mapping
from platform_assets.storage import Store

__all__ = ["Lake", "Manifest", "ManifestEntry", "PartitionWriter"]

RAW = "raw"
_FROZEN_SCHEMA = "_schema.json"


@dataclass(frozen=True)
class Lake:
    store: Store

    def partition_directory(self, source: str, period: Period) -> str:
        return self.store.path(f"{RAW}/{source}/dt={period.key}")

    def writer(
        self, source: str, period: Period, schema: pa.Schema, run_id: str
    ) -> PartitionWriter:
        return PartitionWriter(
            self.store, self.partition_directory(source, period), period, schema, run_id
        )

    def manifest(self, source: str, period: Period) -> Manifest | None:
        """The published version of a partition, or None if it was never published."""
        path = posixpath.join(self.partition_directory(source, period), MANIFEST_NAME)
        if not self.store.exists(path):
            return None
        try:
            return Manifest.from_json(self.store.read_bytes(path))
        except (ValueError, KeyError, TypeError) as error:
            raise RunError(f"{self.store.url(path)}: unreadable manifest ({error})") from None

    def file_paths(self, manifest: Manifest) -> list[str]:
        return [self.store.path_of_url(url) for url in manifest.urls]

    def file_schemas(self, manifest: Manifest) -> list[pa.Schema]:
        """The schema in each data file's footer (one small read per file)."""
        return [
            pq.read_schema(path, filesystem=self.store.fs) for path in self.file_paths(manifest)
        ]

    def read(self, manifest: Manifest) -> pa.Table:
        paths = self.file_paths(manifest)
        return ds.dataset(paths, format="parquet", filesystem=self.store.fs).to_table()

    def frozen_schema(self, source: str) -> pa.Schema | None:
        """The schema inferred at a source's first push, kept beside its data."""
        path = self.store.path(f"{RAW}/{source}/{_FROZEN_SCHEMA}")
        if not self.store.exists(path):
            return None
        return schema_from_mapping(json.loads(self.store.read_bytes(path)))

    def freeze_schema(self, source: str, schema: pa.Schema) -> None:
        path = self.store.path(f"{RAW}/{source}/{_FROZEN_SCHEMA}")
        self.store.put(path, json.dumps(schema_to_mapping(schema), indent=1).encode())
