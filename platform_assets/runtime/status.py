"""Read-only views: the catalog's sources, and rows per partition in lake and warehouse."""

from __future__ import annotations

from collections.abc import Sequence

from platform_assets.catalog import Catalog, Partitioned, Source
from platform_assets.checks.rows_match_lake import partition_rows
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
    print(f"{'partition':<12} {'lake rows':>12} {'warehouse rows':>15}")
    lake_total = warehouse_total = 0
    for rows in partition_rows(source, periods, settings.lake, settings.warehouse):
        lake_total += rows.lake or 0
        warehouse_total += rows.warehouse or 0
        print(f"{rows.period.key:<12} {_count(rows.lake):>12} {_count(rows.warehouse):>15}")
    print(f"{'total':<12} {lake_total:>12,} {warehouse_total:>15,}")


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
