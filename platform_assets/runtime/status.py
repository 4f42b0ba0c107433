"""Read-only views: the catalog's sources, and rows per partition in lake and warehouse."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from platform_assets.catalog import Catalog, Partitioned, Source
from platform_assets.checks.rows_match_lake import PartitionRows, partition_rows
from platform_assets.partitions import Period
from platform_assets.settings import Settings

GROUPED_OVER = 31  # partitions: a longer range's status prints a line per month
BY_MONTH = "  (by month; --every: a line per partition)"


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


def print_status(
    settings: Settings, source: Source, periods: Sequence[Period], every: bool = False
) -> None:
    """Rows in the lake's manifests and in the warehouse table: a line per partition, or per
    month over more than GROUPED_OVER partitions unless `every`."""
    rows = partition_rows(source, periods, settings.lake, settings.warehouse)
    by_partition = every or len(rows) <= GROUPED_OVER
    heading, note = ("partition", "") if by_partition else ("month", BY_MONTH)
    print(f"{heading:<12} {'lake rows':>12} {'warehouse rows':>15}{note}")
    if by_partition:
        for row in rows:
            print(f"{row.period.key:<12} {_count(row.lake):>12} {_count(row.warehouse):>15}")
    else:
        for month, of_month in itertools.groupby(rows, key=lambda row: row.period.key[:7]):
            print(_month_line(month, list(of_month)))
    lake_total = sum(row.lake or 0 for row in rows)
    warehouse_total = sum(row.warehouse or 0 for row in rows)
    print(f"{'total':<12} {lake_total:>12,} {warehouse_total:>15,}")


def _month_line(month: str, rows: list[PartitionRows]) -> str:
    """A month's rows; a partition the lake or the warehouse lacks is said, not hidden."""
    lake = [row.lake for row in rows if row.lake is not None]
    warehouse = [row.warehouse for row in rows if row.warehouse is not None]
    line = f"{month:<12} {_count(sum(lake) if lake else None):>12}"
    line += f" {_count(sum(warehouse) if warehouse else None):>15}"
    lacking = [
        f"{where} lacks {len(rows) - len(present)} of {len(rows)}"
        for where, present in (("lake", lake), ("warehouse", warehouse))
        if present and len(present) < len(rows)
    ]
    return f"{line}  ({'; '.join(lacking)})" if lacking else line


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
