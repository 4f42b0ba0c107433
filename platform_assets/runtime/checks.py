"""Asset checks, computed where the data is: the lake's files and the warehouse's table."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.lake import Area, Lake
from platform_assets.partitions import Period
from platform_assets.runtime.assets import CheckSpec
from platform_assets.runtime.report import CheckOutcome
from platform_assets.schemas import describe_difference, fingerprint, lake_schema
from platform_assets.warehouse import Warehouse

_SHOWN = 20


def run_checks(
    specs: Sequence[CheckSpec],
    source: Source,
    periods: Sequence[Period],
    schema: pa.Schema,
    lake: Lake,
    warehouse: Warehouse,
) -> list[CheckOutcome]:
    outcomes = []
    for spec in specs:
        if spec.name == "schema_matches":
            outcomes.append(_schema_matches(spec, source, periods, schema, lake))
        elif spec.name == "rows_match_lake":
            outcomes.append(_rows_match_lake(spec, source, periods, lake, warehouse))
        elif spec.name == "unique_key":
            outcomes.append(_unique_key(spec, source, periods, warehouse))
        else:
            raise ValueError(f"no implementation for check {spec.name}")
    return outcomes


def _schema_matches(
    spec: CheckSpec, source: Source, periods: Sequence[Period], schema: pa.Schema, lake: Lake
) -> CheckOutcome:
    expected = lake_schema(schema)
    manifests = lake.manifests(Area.RAW, source.name, periods)
    problems = [
        f"{period.key}: not in the lake"
        for period, manifest in zip(periods, manifests, strict=True)
        if manifest is None
    ]
    files = [
        (period, url)
        for period, manifest in zip(periods, manifests, strict=True)
        if manifest is not None
        for url in manifest.urls
    ]
    for (period, url), actual in zip(files, lake.file_schemas([u for _, u in files]), strict=True):
        if difference := describe_difference(expected, actual):
            problems.append(f"{period.key}: {url}: {difference}")
    summary = f"{len(files)} files match {fingerprint(expected)}" if not problems else problems[0]
    return CheckOutcome(
        spec,
        not problems,
        summary,
        {
            "expected_fingerprint": fingerprint(expected),
            "files_checked": len(files),
            "problems": problems[:_SHOWN],
        },
    )


def _rows_match_lake(
    spec: CheckSpec,
    source: Source,
    periods: Sequence[Period],
    lake: Lake,
    warehouse: Warehouse,
) -> CheckOutcome:
    table_rows = warehouse.partition_rows(source.table_name, periods[0].start, periods[-1].end)
    mismatches: list[str] = []
    lake_total = compared = 0
    for period, manifest in zip(
        periods, lake.manifests(Area.RAW, source.name, periods), strict=True
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
    warehouse_total = sum(table_rows.values())
    summary = (
        f"{warehouse_total:,} rows in {compared} partitions" if not mismatches else mismatches[0]
    )
    return CheckOutcome(
        spec,
        not mismatches,
        summary,
        {
            "partitions_compared": compared,
            "warehouse_rows": warehouse_total,
            "lake_rows": lake_total,
            "mismatched_partitions": len(mismatches),
            "mismatches": mismatches[:_SHOWN],
        },
    )


def _unique_key(
    spec: CheckSpec, source: Source, periods: Sequence[Period], warehouse: Warehouse
) -> CheckOutcome:
    duplicates = warehouse.duplicate_keys(
        source.table_name, source.key, periods[0].start, periods[-1].end
    )
    key = ", ".join(source.key)
    summary = f"({key}) unique" if duplicates == 0 else f"{duplicates:,} ({key}) values repeat"
    return CheckOutcome(spec, duplicates == 0, summary, {"key": key, "duplicate_keys": duplicates})
