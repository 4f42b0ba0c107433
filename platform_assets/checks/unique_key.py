"""warehouse/<source> unique_key: no two rows of a partition share the catalog's key."""

from __future__ import annotations

from platform_assets.catalog import Source
from platform_assets.checks.check import Check, CheckSubject, Metadata, Verdict
from platform_assets.layers import Layer
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.write_modes import VALID_FROM, WriteMode

# where a key identifies a row, by write mode: the columns that make it so, and the scope
_SCOPES = {
    WriteMode.REPLACE: ("within a partition", "in each partition"),
    WriteMode.MERGE: ("in the table", "across the table"),
    WriteMode.HISTORY: ("in the table", "across the table"),
}


class UniqueKey(Check):
    layer = Layer.WAREHOUSE
    name = "unique_key"
    description = (
        "No two rows share the catalog's key: within a partition (replace), across the table"
        " (merge), or with the same valid_from (history)."
    )

    def applies_to(self, source: Source) -> bool:
        return bool(source.key)

    def measure(self, subject: CheckSubject) -> Metadata:
        source, periods = subject.source, subject.periods
        mode = source.write.mode
        key = {
            WriteMode.REPLACE: [PARTITION_COLUMN, *source.key],
            WriteMode.MERGE: list(source.key),
            WriteMode.HISTORY: [*source.key, VALID_FROM],
        }[mode]
        duplicates = subject.warehouse.duplicate_keys(
            source.table_name,
            key,
            periods[0].start,
            periods[-1].end,
            across_table=mode is not WriteMode.REPLACE,
        )
        shown = [name for name in key if name != PARTITION_COLUMN]
        metadata: Metadata = {"key": ", ".join(shown), "duplicate_keys": duplicates}
        if mode is not WriteMode.REPLACE:
            metadata["write_mode"] = str(mode)
        return metadata

    def judge(self, metadata: Metadata) -> Verdict:
        key, duplicates = metadata["key"], metadata["duplicate_keys"]
        repeat, unique = _SCOPES[WriteMode(metadata.get("write_mode", WriteMode.REPLACE))]
        if duplicates:
            return Verdict(False, f"{duplicates:,} ({key}) values repeat {repeat}")
        return Verdict(True, f"({key}) unique {unique}")
