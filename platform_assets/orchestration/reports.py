"""main.py's run reports as Dagster sees them: results of a step, or a sensor's events.

Each partition gets its own figures: a step yields one `MaterializeResult` per asset for its
range, with each partition's rows, bytes and files added as partition-scoped metadata
(`context.add_asset_metadata(..., partition_key=...)`, which Dagster merges into that partition's
materialization event), so a range of N partitions records N events, not 2N.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from platform_assets.checks import CheckOutcome
from platform_assets.orchestration.keys import layer_key
from platform_assets.runtime.protocol import reports_of
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport, combine


def reports_in(messages: Any) -> RunReport | None:
    """The run's report from Pipes custom messages; a fanned-out run's chunks combined."""
    reports = reports_of(messages)
    return combine(reports) if reports else None


def partition_metadata(report: RunReport) -> Iterator[tuple[dg.AssetKey, str, dict[str, Any]]]:
    """(asset, partition, its own figures) for each partition the run wrote."""
    for item in report.materializations:
        key = layer_key(item.layer, report.name)
        for partition in item.partitions:
            yield key, partition.key, typed(_partition_metadata(report, item, partition))


def step_results(report: RunReport) -> list[dg.MaterializeResult | dg.AssetCheckResult]:
    """What a step yields: one materialization per asset for its range (the figures every
    partition shares; each partition's own come from `partition_metadata`) and the checks."""
    results: list[dg.MaterializeResult | dg.AssetCheckResult] = [
        dg.MaterializeResult(
            asset_key=layer_key(item.layer, report.name), metadata=typed(_range_metadata(item))
        )
        for item in report.materializations
    ]
    results += [dg.AssetCheckResult(**_check(report, check)) for check in report.checks]
    return results


def materializations(report: RunReport) -> list[dg.AssetMaterialization]:
    """One event per asset partition the run wrote: what a sensor records, and what a failed
    step logs for the partitions written before its failure."""
    return [
        dg.AssetMaterialization(asset_key=key, partition=partition, metadata=metadata)
        for key, partition, metadata in partition_metadata(report)
    ]


def check_evaluations(report: RunReport) -> list[dg.AssetCheckEvaluation]:
    """The run's checks as a sensor records them."""
    return [dg.AssetCheckEvaluation(**_check(report, check)) for check in report.checks]


def _check(report: RunReport, check: CheckOutcome) -> dict[str, Any]:
    return {
        "asset_key": layer_key(check.check.layer, report.name),
        "check_name": check.check.name,
        "passed": check.passed,
        "severity": dg.AssetCheckSeverity(check.severity.upper()),
        "metadata": typed({"summary": check.summary, **check.metadata}),
    }


def _range_metadata(item: Materialization) -> dict[str, Any]:
    keys = [partition.key for partition in item.partitions]
    return {
        "schema_fingerprint": item.schema_fingerprint,
        "partitions": f"{keys[0]}..{keys[-1]} ({len(keys)})" if keys else "none",
        "range_duration_s": round(item.seconds, 3),
        "location": item.location,
    }


def _partition_metadata(
    report: RunReport, item: Materialization, partition: PartitionResult
) -> dict[str, Any]:
    return {
        "dagster/row_count": partition.rows,
        "rows_outside_period": partition.rows_outside_period,
        "bytes": partition.bytes,
        "files": partition.files,
        "schema_fingerprint": item.schema_fingerprint,
        "location": item.location,
        "platform_run_id": report.run_id,
        "command": report.command,
    }


def typed(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        key: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
        for key, value in metadata.items()
    }
