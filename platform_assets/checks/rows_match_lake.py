"""warehouse/<source> rows_match_lake: rows per partition in the table equal the manifests'."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from platform_assets.catalog import Source
from platform_assets.checks.check import SHOWN, Check, CheckSubject, Metadata, Verdict
from platform_assets.lake import Lake
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.warehouse import Warehouse
from platform_assets.write_modes import WriteMode


@dataclass(frozen=True)
class PartitionRows:
    """A partition's rows in the lake (its manifest's) and in the warehouse; None: not there."""

    period: Period
    lake: int | None
    warehouse: int | None


def partition_rows(
    source: Source, periods: Sequence[Period], lake: Lake, warehouse: Warehouse
) -> list[PartitionRows]:
    """The comparison the check judges and `main.py status` prints."""
    if not periods:
        return []
    table_rows = warehouse.partition_rows(source.table_name, periods[0].start, periods[-1].end)
    manifests = lake.manifests(Layer.RAW, source.name, periods)
    return [
        PartitionRows(
            period, manifest.record_count if manifest else None, table_rows.get(period.start)
        )
        for period, manifest in zip(periods, manifests, strict=True)
    ]


class RowsMatchLake(Check):
    layer = Layer.WAREHOUSE
    name = "rows_match_lake"
    description = "Rows per partition equal the lake manifests'."

    def applies_to(self, source: Source) -> bool:
        return source.write.mode is WriteMode.REPLACE  # merge and history: versions_match_lake

    def measure(self, subject: CheckSubject) -> Metadata:
        mismatches: list[str] = []
        lake_total = warehouse_total = compared = 0
        for rows in partition_rows(
            subject.source, subject.periods, subject.lake, subject.warehouse
        ):
            warehouse_total += rows.warehouse or 0
            if rows.lake is None and rows.warehouse is None:
                continue  # neither pushed nor loaded: nothing to disagree about
            compared += 1
            lake_total += rows.lake or 0
            if rows.lake is None or (rows.warehouse or 0) != rows.lake:
                shown = "not in the lake" if rows.lake is None else f"lake {rows.lake:,}"
                mismatches.append(f"{rows.period.key}: warehouse {rows.warehouse or 0:,}, {shown}")
        return {
            "partitions_compared": compared,
            "warehouse_rows": warehouse_total,
            "lake_rows": lake_total,
            "mismatched_partitions": len(mismatches),
            "mismatches": mismatches[:SHOWN],
        }

    def judge(self, metadata: Metadata) -> Verdict:
        if metadata["mismatched_partitions"]:
            return Verdict(False, metadata["mismatches"][0])
        return Verdict(
            True,
            f"{metadata['warehouse_rows']:,} rows in {metadata['partitions_compared']} partitions",
        )
