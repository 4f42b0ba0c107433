"""main.py's run reports as Dagster sees them: results of a step, or events for a sensor."""

from typing import Any

import dagster as dg

from platform_assets.checks import CheckOutcome
from platform_assets.orchestration.keys import layer_key
from platform_assets.runtime.protocol import REPORT_MESSAGE, report_from_json
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport, combine


def reports_in(messages: Any) -> RunReport | None:
    """The run's report from Pipes custom messages; a fanned-out run's chunks combined."""
    reports = [
        report_from_json(message[REPORT_MESSAGE])
        for message in messages
        if isinstance(message, dict) and REPORT_MESSAGE in message
    ]
    return combine(reports) if reports else None


def step_results(report: RunReport) -> list[dg.MaterializeResult | dg.AssetCheckResult]:
    """What a step yields: one materialization per asset (for all its partitions) and checks."""
    results: list[dg.MaterializeResult | dg.AssetCheckResult] = [
        dg.MaterializeResult(
            asset_key=layer_key(item.layer, report.name), metadata=_typed(_range_metadata(item))
        )
        for item in report.materializations
    ]
    results += [dg.AssetCheckResult(**_check(report, check)) for check in report.checks]
    return results


def recorded_events(report: RunReport) -> list[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    """What a sensor records for a run Dagster did not start: one event per asset partition."""
    events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = [
        dg.AssetMaterialization(
            asset_key=layer_key(item.layer, report.name),
            partition=partition.key,
            metadata=_typed(_partition_metadata(report, item, partition)),
        )
        for item in report.materializations
        for partition in item.partitions
    ]
    events += [dg.AssetCheckEvaluation(**_check(report, check)) for check in report.checks]
    return events


def _check(report: RunReport, check: CheckOutcome) -> dict[str, Any]:
    return {
        "asset_key": layer_key(check.check.layer, report.name),
        "check_name": check.check.name,
        "passed": check.passed,
        "severity": dg.AssetCheckSeverity.ERROR,
        "metadata": _typed({"summary": check.summary, **check.metadata}),
    }


def _range_metadata(item: Materialization) -> dict[str, Any]:
    keys = [partition.key for partition in item.partitions]
    return {
        "dagster/row_count": item.rows,
        "bytes": item.bytes,
        "files": item.files,
        "schema_fingerprint": item.schema_fingerprint,
        "partitions": f"{keys[0]}..{keys[-1]} ({len(keys)})" if keys else "none",
        "rows_by_partition": {partition.key: partition.rows for partition in item.partitions},
        "rows_outside_period": item.rows_outside_period,
        "duration_s": round(item.seconds, 3),
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


def _typed(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        key: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
        for key, value in metadata.items()
    }
