"""warehouse/<source> unique_key: no two rows of a partition share the catalog's key."""

from __future__ import annotations

from platform_assets.catalog import Source
from platform_assets.checks.check import Check, CheckSubject, Metadata, Verdict
from platform_assets.layers import Layer
from platform_assets.schemas import PARTITION_COLUMN


class UniqueKey(Check):
    layer = Layer.WAREHOUSE
    name = "unique_key"
    description = "No two rows of a partition share the catalog's key."

    def applies_to(self, source: Source) -> bool:
        return bool(source.key)

    def measure(self, subject: CheckSubject) -> Metadata:
        source, periods = subject.source, subject.periods
        key = [PARTITION_COLUMN, *source.key]  # a key identifies a row within its partition
        duplicates = subject.warehouse.duplicate_keys(
            source.table_name, key, periods[0].start, periods[-1].end
        )
        return {"key": ", ".join(source.key), "duplicate_keys": duplicates}

    def judge(self, metadata: Metadata) -> Verdict:
        key, duplicates = metadata["key"], metadata["duplicate_keys"]
        if duplicates:
            return Verdict(False, f"{duplicates:,} ({key}) values repeat within a partition")
        return Verdict(True, f"({key}) unique in each partition")
