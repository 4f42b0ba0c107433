"""rebuild: a source's lake and table migrated to the catalog's column types.

Every published partition is rewritten in the source's current schema, its files all written
before any manifest is published, so that a value that does not cast fails the rebuild with every
partition reading as before. Then the schema is stored and the table recreated from the lake.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.contracts import Conformer
from platform_assets.errors import RunError
from platform_assets.lake import Lake, Manifest, PartitionWriter
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.load import source_schema
from platform_assets.runtime.progress import Progress
from platform_assets.runtime.replaced import settle_published
from platform_assets.runtime.report import Materialization, PartitionResult
from platform_assets.schemas import fingerprint, lake_schema
from platform_assets.settings import Settings

log = logging.getLogger("platform")


def published_periods(source: Source, lake: Lake, periods: Sequence[Period]) -> list[Period]:
    """Those of `periods` the lake holds."""
    manifests = lake.manifests(Layer.RAW, source.name, periods)
    return [period for period, manifest in zip(periods, manifests, strict=True) if manifest]


def rebuild(
    source: Source, periods: Sequence[Period], run_id: str, settings: Settings
) -> list[Materialization]:
    """Rewrite the published `periods` in the catalog's types, then recreate the table."""
    started = time.perf_counter()
    lake = settings.lake
    schema = source_schema(source, lake)
    lake.intend(Layer.RAW, source.name, run_id, periods)
    manifests = _rewrite(source, periods, schema, run_id, lake)
    lake.store_schema(source.name, schema)
    settle_published(lake, source, run_id, periods, lake_schema(schema))
    results = tuple(
        PartitionResult.published(period, manifest)
        for period, manifest in zip(periods, manifests, strict=True)
    )
    rewritten = Materialization(
        Layer.RAW,
        lake.dataset_url(Layer.RAW, source.name),
        results,
        fingerprint(lake_schema(schema)),
        time.perf_counter() - started,
    )
    log.info(
        "source %s: %s partitions, %s rows rewritten in the catalog's types",
        source.name,
        len(periods),
        f"{rewritten.rows:,}",
    )
    started = time.perf_counter()
    rows = settings.warehouse.recreate(
        source.table_name, lake_schema(schema), manifests, source.table_write
    )
    log.info("source %s: table %s recreated with %s rows", source.name, source.table_name, rows)
    recreated = Materialization(
        Layer.WAREHOUSE,
        source.table_name,
        results,
        fingerprint(lake_schema(schema)),
        time.perf_counter() - started,
    )
    return [rewritten, recreated]


def _rewrite(
    source: Source, periods: Sequence[Period], schema: pa.Schema, run_id: str, lake: Lake
) -> list[Manifest]:
    """Every partition's new files first (a failure removes them all), then the manifests."""
    old = lake.manifests(Layer.RAW, source.name, periods)
    with (
        contextlib.ExitStack() as unpublished,
        Progress(f"rebuild {source.name}", len(periods)) as progress,
    ):
        writers = []
        for period, manifest in zip(periods, old, strict=True):
            if manifest is None:
                raise RunError(f"source {source.name} partition {period.key}: not in the lake")
            writer = unpublished.enter_context(
                lake.writer(Layer.RAW, source.name, period, schema, run_id)
            )
            try:
                _convert(source, manifest, schema, writer, lake)
            except RunError as error:
                raise RunError(
                    f"source {source.name} partition {period.key}: {error}; nothing was rebuilt"
                ) from None
            writers.append(writer)
            progress.advance(writer.rows)
        return [writer.commit() for writer in writers]


def _convert(
    source: Source, manifest: Manifest, schema: pa.Schema, writer: PartitionWriter, lake: Lake
) -> None:
    conformer = Conformer(source.name, source.schema_contract, source.declared_schema, schema)
    for batch in lake.batches(manifest):
        writer.write(conformer.conform(batch))
    writer.finish()
