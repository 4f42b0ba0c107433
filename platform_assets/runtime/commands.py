"""push (source → lake, then load), load (lake → warehouse) and check, for a range of partitions."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.checks import Check, CheckOutcome, CheckSubject, run_checks
from platform_assets.contracts import Conformer, SchemaContract, effective_schema, origin_of
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.incremental import record_window, window_for
from platform_assets.runtime.pipes import PER_PARTITION
from platform_assets.runtime.replaced import remove_replaced
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport
from platform_assets.schemas import fingerprint, lake_schema
from platform_assets.settings import Settings
from platform_assets.storage import map_in_order

log = logging.getLogger("platform")

Command = Literal["push", "load", "check"]
PUSH_THREADS = 4  # CSV parsing and parquet encoding release the GIL; S3 requests wait on I/O


def layers_of(command: Command, load: bool = True) -> tuple[Layer, ...]:
    """The assets a command materializes: push → raw (and warehouse unless --no-load)."""
    if command == "push":
        return (Layer.RAW, Layer.WAREHOUSE) if load else (Layer.RAW,)
    if command == "load":
        return (Layer.WAREHOUSE,)
    return ()


@dataclass(frozen=True)
class Job:
    command: Command
    source: Source
    periods: Sequence[Period]
    layers: tuple[Layer, ...]
    checks: Sequence[Check]
    run_id: str


def run(job: Job, settings: Settings) -> RunReport:
    started = time.perf_counter()
    report = RunReport(job.command, job.source.name, list(job.periods))
    # a push or load holds its partitions (a second run over them waits, then fails); checks
    # alone only read
    with (
        settings.lease(Layer.RAW, job.source, job.periods, job.run_id)
        if job.layers
        else contextlib.nullcontext()
    ):
        if Layer.RAW in job.layers:
            report.materializations.append(_push(job, settings))
        if Layer.WAREHOUSE in job.layers:
            report.materializations.append(_load(job, settings))
        if job.checks:
            report.checks.extend(_checks(job, settings))
    report.seconds = time.perf_counter() - started
    return report


def _checks(job: Job, settings: Settings) -> list[CheckOutcome]:
    schema = _source_schema(job.source, settings)
    subject = CheckSubject(job.source, job.periods, schema, settings.lake, settings.warehouse)
    outcomes = run_checks(job.checks, subject)
    for outcome in outcomes:
        level = logging.INFO if outcome.passed else logging.ERROR
        verdict = "passed" if outcome.passed else "failed"
        log.log(
            level,
            "check %s %s: %s",
            outcome.check.qualified_name,
            verdict,
            outcome.summary,
        )
    return outcomes


def _push(job: Job, settings: Settings) -> Materialization:
    started = time.perf_counter()
    source, lake = job.source, settings.lake
    conformer = Conformer(
        source.name,
        source.schema_contract,
        source.declared_schema,
        effective_schema(source.declared_schema, lake.stored_schema(source.name)),
    )

    def publish(period: Period) -> Manifest:
        where = f"source {source.name} partition {period.key}"
        try:
            return _publish(job, settings, period, conformer)
        except RunError as error:
            raise RunError(f"{where}: {error}") from None
        except ConfigurationError as error:  # e.g. an environment variable the source names
            raise ConfigurationError(f"{where}: {error}") from None

    results: list[PartitionResult] = []
    try:
        manifests = map_in_order(publish, job.periods, _threads(source, conformer))
        for period, manifest in zip(job.periods, manifests, strict=False):  # shorter on a failure
            if conformer.grown:
                assert conformer.schema is not None
                lake.store_schema(source.name, conformer.schema)
                conformer.grown = False
            results.append(PartitionResult.published(period, manifest))
            log.info(
                "source %s partition %s: %s rows, %s files, %s bytes published",
                source.name,
                period.key,
                f"{manifest.record_count:,}",
                len(manifest.entries),
                f"{manifest.content_length:,}",
                extra=PER_PARTITION,
            )
    except BaseException:
        remove_replaced(lake, Layer.RAW, source.name, job.periods[: len(results)], quietly=True)
        raise
    remove_replaced(lake, Layer.RAW, source.name, job.periods)
    assert conformer.schema is not None
    return Materialization(
        Layer.RAW,
        lake.dataset_url(Layer.RAW, source.name),
        tuple(results),
        fingerprint(lake_schema(conformer.schema)),
        time.perf_counter() - started,
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


def _publish(job: Job, settings: Settings, period: Period, conformer: Conformer) -> Manifest:
    """One partition: upstream's batches, conformed to the schema, into the lake."""
    source = job.source
    window = window_for(source, period, settings.lake, settings.upstream)
    batches = (
        conformer.conform(_key_complete(batch, source.key))
        for batch in source.read.batches(period, conformer.schema, settings.upstream, window)
    )
    first = next(batches, None)
    if conformer.schema is None:
        raise RunError("no rows to infer the schema from; declare 'columns'")
    writer = settings.lake.writer(Layer.RAW, source.name, period, conformer.schema, job.run_id)
    with writer:
        for batch in _chain(first, batches):
            if batch.schema != writer.schema:  # the schema grew (evolve) within the partition
                writer.use_schema(batch.schema)
            writer.write(batch)
        if writer.rows == 0 and not source.empty_ok:
            raise RunError("no rows (set empty_ok: true if that can be right)")
        manifest = writer.commit()
    if window is not None:
        record_window(source, period, window, settings.lake)
    return manifest


def _load(job: Job, settings: Settings) -> Materialization:
    started = time.perf_counter()
    source, lake = job.source, settings.lake
    manifests = []
    for period, manifest in zip(
        job.periods, lake.manifests(Layer.RAW, source.name, job.periods), strict=True
    ):
        if manifest is None:
            raise RunError(
                f"source {source.name} partition {period.key}: not in the lake; push it first"
            )
        manifests.append(manifest)
    schema = lake_schema(_source_schema(source, settings))
    start, end = job.periods[0].start, job.periods[-1].end
    file_columns = None
    if source.schema_contract is SchemaContract.EVOLVE:  # files may predate a new column
        entries = [entry for manifest in manifests for entry in manifest.entries]
        file_columns = {
            entry.url: file.names
            for entry, file in zip(entries, lake.file_schemas(entries), strict=True)
        }
    rows = settings.warehouse.load(source.table_name, schema, manifests, start, end, file_columns)
    log.info(
        "source %s: %s rows loaded into table %s for %s..%s",
        source.name,
        f"{rows:,}",
        source.table_name,
        job.periods[0].key,
        job.periods[-1].key,
    )
    return Materialization(
        Layer.WAREHOUSE,
        source.table_name,
        tuple(
            PartitionResult.published(period, manifest)
            for period, manifest in zip(job.periods, manifests, strict=True)
        ),
        fingerprint(schema),
        time.perf_counter() - started,
    )


def _source_schema(source: Source, settings: Settings) -> pa.Schema:
    schema = effective_schema(source.declared_schema, settings.lake.stored_schema(source.name))
    if schema is None:
        raise ConfigurationError(
            f"source {source.name}: no declared columns and nothing pushed yet to infer them from"
        )
    return schema


def _key_complete(batch: pa.RecordBatch, key: Sequence[str]) -> pa.RecordBatch:
    for name in key:
        if name in batch.schema.names and (nulls := batch.column(name).null_count):
            raise RunError(f"{origin_of(batch)}: {nulls} row(s) with no {name}, a key column")
    return batch


def _chain(
    first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    return rest if first is None else itertools.chain([first], rest)
