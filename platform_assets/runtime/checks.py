"""Asset checks, computed where the data is: the lake's files and the warehouse's table.

A check measures into metadata; its verdict and summary are read off that metadata, so checks
of a range's chunks combine by adding their metadata up and judging once more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.contracts import SchemaContract
from platform_assets.lake import Lake
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.assets import CHECKS, CheckSpec
from platform_assets.schemas import PARTITION_COLUMN, describe_difference, fingerprint, lake_schema
from platform_assets.warehouse import Warehouse

_SHOWN = 20
Metadata = dict[str, Any]


@dataclass(frozen=True)
class CheckOutcome:
    spec: CheckSpec
    metadata: Metadata

    @property
    def passed(self) -> bool:
        return _JUDGES[self.spec.name](self.metadata)[0]

    @property
    def summary(self) -> str:
        return _JUDGES[self.spec.name](self.metadata)[1]

    def to_dict(self) -> dict[str, Any]:
        return {"layer": str(self.spec.layer), "name": self.spec.name, "metadata": self.metadata}


def outcome_from_dict(data: dict[str, Any]) -> CheckOutcome:
    spec = next(s for s in CHECKS if str(s.layer) == data["layer"] and s.name == data["name"])
    return CheckOutcome(spec, data["metadata"])


def combine_outcomes(outcomes: Sequence[CheckOutcome]) -> CheckOutcome:
    """One outcome for the same check over adjacent ranges: counts add up, lists join."""
    merged: Metadata = {}
    for outcome in outcomes:
        for key, value in outcome.metadata.items():
            if key not in merged:
                merged[key] = value
            elif isinstance(value, bool) or not isinstance(value, int | list):
                if value != merged[key]:
                    raise ValueError(f"check {outcome.spec.name}: {key} differs between chunks")
            elif isinstance(value, int):
                merged[key] += value
            else:
                merged[key] = [*merged[key], *value][:_SHOWN]
    return CheckOutcome(outcomes[0].spec, merged)


def run_checks(
    specs: Sequence[CheckSpec],
    source: Source,
    periods: Sequence[Period],
    schema: pa.Schema,
    lake: Lake,
    warehouse: Warehouse,
) -> list[CheckOutcome]:
    measures: dict[str, Callable[[], Metadata]] = {
        "schema_matches": lambda: _schema_matches(source, periods, schema, lake),
        "rows_match_lake": lambda: _rows_match_lake(source, periods, lake, warehouse),
        "unique_key": lambda: _unique_key(source, periods, warehouse),
    }
    return [CheckOutcome(spec, measures[spec.name]()) for spec in specs]


def _schema_matches(
    source: Source, periods: Sequence[Period], schema: pa.Schema, lake: Lake
) -> Metadata:
    expected = lake_schema(schema)
    manifests = lake.manifests(Layer.RAW, source.name, periods)
    problems = [
        f"{period.key}: not in the lake"
        for period, manifest in zip(periods, manifests, strict=True)
        if manifest is None
    ]
    files = [
        (period, entry)
        for period, manifest in zip(periods, manifests, strict=True)
        if manifest is not None
        for entry in manifest.entries
    ]
    schemas = lake.file_schemas([entry for _, entry in files])
    for (period, entry), actual in zip(files, schemas, strict=True):
        url = entry.url
        if source.schema_contract is SchemaContract.EVOLVE:
            # a file written before the schema grew has the columns of its day: a subset
            actual_names = set(actual.names)
            expected_then = pa.schema([f for f in expected if f.name in actual_names])
            difference = describe_difference(expected_then, actual)
            if not difference and source.declared_schema is not None:
                lacking = [n for n in source.declared_schema.names if n not in actual_names]
                difference = f"missing declared column(s) {', '.join(lacking)}" if lacking else ""
        else:
            difference = describe_difference(expected, actual)
        if difference:
            problems.append(f"{period.key}: {url}: {difference}")
    return {
        "expected_fingerprint": fingerprint(expected),
        "files_checked": len(files),
        "problem_count": len(problems),
        "problems": problems[:_SHOWN],
    }


def _rows_match_lake(
    source: Source, periods: Sequence[Period], lake: Lake, warehouse: Warehouse
) -> Metadata:
    table_rows = warehouse.partition_rows(source.table_name, periods[0].start, periods[-1].end)
    mismatches: list[str] = []
    lake_total = compared = 0
    for period, manifest in zip(
        periods, lake.manifests(Layer.RAW, source.name, periods), strict=True
    ):
        loaded = table_rows.get(period.start)
        if manifest is None and loaded is None:
            continue  # neither pushed nor loaded: nothing to disagree about
        compared += 1
        lake_rows = manifest.record_count if manifest else 0
        lake_total += lake_rows
        if manifest is None or (loaded or 0) != lake_rows:
            shown = "not in the lake" if manifest is None else f"lake {lake_rows:,}"
            mismatches.append(f"{period.key}: warehouse {loaded or 0:,}, {shown}")
    return {
        "partitions_compared": compared,
        "warehouse_rows": sum(table_rows.values()),
        "lake_rows": lake_total,
        "mismatched_partitions": len(mismatches),
        "mismatches": mismatches[:_SHOWN],
    }


def _unique_key(source: Source, periods: Sequence[Period], warehouse: Warehouse) -> Metadata:
    key = [PARTITION_COLUMN, *source.key]  # a key identifies a row within its partition
    duplicates = warehouse.duplicate_keys(source.table_name, key, periods[0].start, periods[-1].end)
    return {"key": ", ".join(source.key), "duplicate_keys": duplicates}


def _judge_schema(metadata: Metadata) -> tuple[bool, str]:
    if metadata["problem_count"]:
        return False, metadata["problems"][0]
    return True, f"{metadata['files_checked']} files match {metadata['expected_fingerprint']}"


def _judge_rows(metadata: Metadata) -> tuple[bool, str]:
    if metadata["mismatched_partitions"]:
        return False, metadata["mismatches"][0]
    return True, (
        f"{metadata['warehouse_rows']:,} rows in {metadata['partitions_compared']} partitions"
    )


def _judge_key(metadata: Metadata) -> tuple[bool, str]:
    key, duplicates = metadata["key"], metadata["duplicate_keys"]
    if duplicates:
        return False, f"{duplicates:,} ({key}) values repeat within a partition"
    return True, f"({key}) unique in each partition"


_JUDGES: dict[str, Callable[[Metadata], tuple[bool, str]]] = {
    "schema_matches": _judge_schema,
    "rows_match_lake": _judge_rows,
    "unique_key": _judge_key,
}
