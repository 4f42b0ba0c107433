"""push: each partition of a range from its source, conformed to the schema, into the lake."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.contracts import (
    Conformer,
    SchemaContract,
    effective_schema,
    named_usably,
    origin_of,
)
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.incremental import (
    Increment,
    increment_for,
    log_increment,
    record_window,
)
from platform_assets.runtime.pipes import PER_PARTITION
from platform_assets.runtime.progress import Progress
from platform_assets.runtime.replaced import settle_published
from platform_assets.runtime.report import Materialization, PartitionResult, PartlyDoneError
from platform_assets.schemas import fingerprint, lake_schema
from platform_assets.settings import Settings
from platform_assets.sources.period_filter import OutsidePeriod, outside_period
from platform_assets.storage import map_in_order

log = logging.getLogger("platform")
PUSH_THREADS = 4  # CSV parsing and parquet encoding release the GIL; S3 requests wait on I/O


def push(
    source: Source, periods: Sequence[Period], run_id: str, settings: Settings
) -> Materialization:
    """Publish the partitions in order; those published before a failure stay published."""
    started = time.perf_counter()
    lake = settings.lake
    stored = lake.stored_schema(source.name)
    conformer = Conformer(
        source.name,
        source.schema_contract,
        source.declared_schema,
        effective_schema(source.declared_schema, stored, source.schema_contract),
    )
    # a declared schema is recorded too (at the first publish), so a changed type can be refused
    conformer.grown = conformer.schema is not None and conformer.schema != stored

    # every partition published, as its thread ends: on a failure, those after the failed one
    # that were already under way are published too
    landed: dict[Period, PartitionResult] = {}

    def publish(period: Period) -> tuple[Manifest, OutsidePeriod]:
        where = f"source {source.name} partition {period.key}"
        try:
            manifest, outside = _publish(source, period, run_id, settings, conformer)
            landed[period] = PartitionResult.published(period, manifest, outside.rows)
            return manifest, outside
        except RunError as error:
            raise RunError(f"{where}: {error}") from None
        except ConfigurationError as error:  # e.g. an environment variable the source names
            raise ConfigurationError(f"{where}: {error}") from None

    location = lake.dataset_url(Layer.RAW, source.name)
    results: list[PartitionResult] = []
    lake.intend(Layer.RAW, source.name, run_id, periods)

    def table_schema() -> pa.Schema | None:
        return None if conformer.schema is None else lake_schema(conformer.schema)

    try:
        with Progress(f"push {source.name}", len(periods)) as progress:
            published = map_in_order(publish, periods, _threads(source, conformer))
            # `published` is shorter than `periods` on a failure
            for period, (manifest, outside) in zip(periods, published, strict=False):
                if conformer.grown:
                    assert conformer.schema is not None
                    lake.store_schema(source.name, conformer.schema)
                    conformer.grown = False
                results.append(landed[period])
                _log_published(source, period, manifest, outside)
                progress.advance(manifest.record_count)
    except BaseException as error:
        done = [period for period in periods if period in landed]
        settle_published(lake, source, run_id, done, table_schema(), quietly=True)
        if isinstance(error, RunError) and done:
            results = [landed[period] for period in done]
            raise PartlyDoneError(
                str(error), _published(location, results, conformer, started)
            ) from None
        raise
    published_range = _published(location, results, conformer, started)
    try:
        settle_published(lake, source, run_id, periods, table_schema())
    except RunError as error:  # every partition is published; the old files linger
        raise PartlyDoneError(str(error), published_range) from None
    return published_range


def _published(
    location: str, results: list[PartitionResult], conformer: Conformer, started: float
) -> Materialization:
    assert conformer.schema is not None
    return Materialization(
        Layer.RAW,
        location,
        tuple(results),
        fingerprint(lake_schema(conformer.schema)),
        time.perf_counter() - started,
    )


def _log_published(
    source: Source, period: Period, manifest: Manifest, outside: OutsidePeriod
) -> None:
    log.info(
        "source %s partition %s: %s rows, %s files, %s bytes published",
        source.name,
        period.key,
        f"{manifest.record_count:,}",
        len(manifest.entries),
        f"{manifest.content_length:,}",
        extra=PER_PARTITION,
    )
    if outside.rows:
        log.warning(
            "source %s partition %s: %s rows dated outside the partition (%s) not"
            " published, the first %r in %s",
            source.name,
            period.key,
            f"{outside.rows:,}",
            period.zone,
            outside.first,
            outside.origin,
            extra=PER_PARTITION,
        )


def _threads(source: Source, conformer: Conformer) -> int:
    """Partitions read and written side by side when nothing is shared between them: the kind
    says so (no rate limit, no cursor window), and the schema is known and cannot grow."""
    parallel = (
        source.read.parallel_partitions
        and source.schema_contract is SchemaContract.FREEZE
        and conformer.schema is not None
    )
    return PUSH_THREADS if parallel else 1


def _publish(
    source: Source, period: Period, run_id: str, settings: Settings, conformer: Conformer
) -> tuple[Manifest, OutsidePeriod]:
    """One partition: upstream's batches, conformed to the schema, into the lake; and the rows
    its date_column dated outside it, which fail it under `outside_period: fail`."""
    increment = increment_for(source, period, settings.lake, settings.upstream)
    tally = _OutsideTally()
    batches = _partition_rows(source, period, settings, conformer, increment, tally)
    first = next(batches, None)
    if conformer.schema is None:
        raise RunError("no rows to infer the schema from; declare 'columns'")
    writer = settings.lake.writer(Layer.RAW, source.name, period, conformer.schema, run_id)
    with writer:
        for batch in _chain(first, batches):
            if batch.schema != writer.schema:  # the schema grew (evolve) within the partition
                writer.use_schema(batch.schema)
            writer.write(batch)
        outside = tally.outside
        if outside.rows and source.partitioning.outside_period == "fail":
            raise RunError(
                f"{outside.rows:,} row(s) dated outside the partition in {period.zone}, the"
                f" first {outside.first!r} in {outside.origin} (partitioning.outside_period: fail)"
            )
        if writer.rows == 0 and not source.empty_ok:
            dated_outside = f", {outside.rows:,} dated outside it" if outside.rows else ""
            raise RunError(f"no rows{dated_outside} (set empty_ok: true if that can be right)")
        manifest = writer.commit()
    if increment is not None:
        record_window(source, period, increment.window, settings.lake)
        log_increment(source, period, increment)
    return manifest, outside


def _partition_rows(
    source: Source,
    period: Period,
    settings: Settings,
    conformer: Conformer,
    increment: Increment | None,
    tally: _OutsideTally,
) -> Iterator[pa.RecordBatch]:
    """Upstream's rows conformed; for an incremental source, the rows the partition published
    before, then those read that the lake does not hold yet."""
    window = None if increment is None else increment.window
    read = (
        conformer.conform(
            _key_complete(named_usably(source.nested.shaped(tally.seen(batch))), source.key)
        )
        for batch in source.read.batches(
            period, source.nested.reading(conformer.schema), settings.upstream, window
        )
    )
    if increment is None:
        return read
    kept = (conformer.conform(batch) for batch in increment.kept(settings.lake))
    return itertools.chain(kept, increment.unheld(read))


@dataclass
class _OutsideTally:
    """The rows outside the period of the batches that pass by (counted before conforming,
    which drops the batches' tags)."""

    outside: OutsidePeriod = field(default_factory=OutsidePeriod)

    def seen(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self.outside += outside_period(batch)
        return batch


def _key_complete(batch: pa.RecordBatch, key: Sequence[str]) -> pa.RecordBatch:
    for name in key:
        if name in batch.schema.names and (nulls := batch.column(name).null_count):
            raise RunError(f"{origin_of(batch)}: {nulls} row(s) with no {name}, a key column")
    return batch


def _chain(
    first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    return rest if first is None else itertools.chain([first], rest)
