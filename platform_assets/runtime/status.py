"""Read-only views: the catalog's sources, and rows per partition in lake and warehouse."""

from __future__ import annotations

from collections.abc import Sequence

from platform_assets.catalog import Catalog, Partitioned, Source
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.settings import Settings


def print_sources(catalog: Catalog) -> None:
    print(f"{'source':<24} {'kind':<8} {'partitions':<32} {'schedule (UTC)':<16} table")
    for source in catalog.sources:
        cron = source.schedule.cron if source.schedule else "-"
        print(
            f"{source.name:<24} {source.read.kind:<8} {_span(source):<32} {cron:<16}"
            f" {source.table_name}"
        )
    if catalog.exports:
        print(f"\n{'export':<24} {'kind':<8} {'partitions':<32} {'reads':<16}")
        for export in catalog.exports:
            reads = ", ".join(export.depends_on)
            print(f"{export.name:<24} {'sql':<8} {_span(export):<32} {reads:<16}")


def _span(item: Partitioned) -> str:
    partitioning = item.partitioning
    return f"{partitioning.granularity} {partitioning.start}..{item.last_day or ''}"


def print_status(settings: Settings, source: Source, periods: Sequence[Period]) -> None:
    """One line per partition: rows in the lake's manifest and in the warehouse table."""
    table_rows = settings.warehouse.partition_rows(
        source.table_name, periods[0].start, periods[-1].end
    )
    print(f"{'partition':<12} {'lake rows':>12} {'warehouse rows':>15}")
    lake_total = warehouse_total = 0
    manifests = settings.lake.manifests(Layer.RAW, source.name, periods)
    for period, manifest in zip(periods, manifests, strict=True):
        lake_rows = manifest.record_count if manifest else None
        loaded = table_rows.get(period.start)
        lake_total += lake_rows or 0
        warehouse_total += loaded or 0
        print(f"{period.key:<12} {_count(lake_rows):>12} {_count(loaded):>15}")
    print(f"{'total':<12} {lake_total:>12,} {warehouse_total:>15,}")


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
