"""load: a range of partitions from the lake into the source's warehouse table, one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.checks.versions_match_lake import published_since
from platform_assets.contracts import SchemaContract, effective_schema
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Lake, Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.report import Materialization, PartitionResult
from platform_assets.runtime.schema_guard import rebuild_command
from platform_assets.schemas import fingerprint, lake_schema
from platform_assets.settings import Settings
from platform_assets.warehouse.sql import TableMismatchError
from platform_assets.write_modes import WriteMode

log = logging.getLogger("platform")


def load(source: Source, periods: Sequence[Period], settings: Settings) -> Materialization:
    started = time.perf_counter()
    lake = settings.lake
    manifests: list[Manifest] = []
    for period, manifest in zip(
        periods, lake.manifests(Layer.RAW, source.name, periods), strict=True
    ):
        if manifest is None:
            raise RunError(
                f"source {source.name} partition {period.key}: not in the lake; push it first"
            )
        manifests.append(manifest)
    schema = lake_schema(source_schema(source, lake))
    start, end = periods[0].start, periods[-1].end
    write = source.table_write
    applied = manifests
    if write.mode is WriteMode.MERGE:
        # a key's later version (or its deletion) must win over the range's reloaded one
        applied = manifests + published_since(source, lake, end)
    file_columns = None
    if source.schema_contract is SchemaContract.EVOLVE:  # files may predate a new column
        entries = [entry for manifest in applied for entry in manifest.entries]
        file_columns = {
            entry.url: file.names
            for entry, file in zip(entries, lake.file_schemas(entries), strict=True)
        }
    try:
        rows = settings.warehouse.load(
            source.table_name, schema, applied, start, end, file_columns, write
        )
    except TableMismatchError as error:
        raise RunError(
            f"source {source.name} partitions {periods[0].key}..{periods[-1].key}: {error};"
            f" to recreate the table from the lake, run: {rebuild_command(source)}"
        ) from None
    log.info(
        "source %s: %s rows loaded into table %s for %s..%s",
        source.name,
        f"{rows:,}",
        source.table_name,
        periods[0].key,
        periods[-1].key,
    )
    return Materialization(
        Layer.WAREHOUSE,
        source.table_name,
        tuple(
            PartitionResult.published(period, manifest)
            for period, manifest in zip(periods, manifests, strict=True)
        ),
        fingerprint(schema),
        time.perf_counter() - started,
    )


def source_schema(source: Source, lake: Lake) -> pa.Schema:
    """The source's columns as they stand: declared, plus what evolution added (or inferred)."""
    stored = lake.stored_schema(source.name)
    schema = effective_schema(source.declared_schema, stored, source.schema_contract)
    if schema is None:
        raise ConfigurationError(
            f"source {source.name}: no declared columns and nothing pushed yet to infer them from"
        )
    return schema
