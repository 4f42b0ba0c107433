"""main.py's run reports as Dagster sees them: results of a step, or events for a sensor.

Each partition gets its own figures: a step yields one `MaterializeResult` per asset for its
range, with each partition's rows, bytes and files added as partition-scoped metadata
(`context.add_asset_metadata(..., partition_key=...)`, which Dagster merges into that partition's
materialization event), so a range of N partitions records N events, not 2N.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from platform_assets.checks import CheckOutcome
from platform_assets.layers import Layer
from platform_assets.orchestration.keys import layer_key
from platform_assets.runtime.protocol import REPORT_MESSAGE, report_from_json
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport, combine

RUN_SUCCEEDED = "run_succeeded"  # the check a sensor records a run Dagster did not start as
# the asset whose run_succeeded check records a command's runs: where the command starts
COMMANDS_OF = {
    Layer.RAW: ("push", "check", "rebuild"),
    Layer.WAREHOUSE: ("load",),
    Layer.EXPORTS: ("pull",),
}


def reports_in(messages: Any) -> RunReport | None:
    """The run's report from Pipes custom messages; a fanned-out run's chunks combined."""
    reports = [
        report_from_json(message[REPORT_MESSAGE])
        for message in messages
        if isinstance(message, dict) and REPORT_MESSAGE in message
    ]
    return combine(reports) if reports else None


def partition_metadata(report: RunReport) -> Iterator[tuple[dg.AssetKey, str, dict[str, Any]]]:
    """(asset, partition, its own figures) for each partition the run wrote."""
    for item in report.materializations:
        key = layer_key(item.layer, report.name)
        for partition in item.partitions:
            yield key, partition.key, _typed(_partition_metadata(report, item, partition))


def step_results(report: RunReport) -> list[dg.MaterializeResult | dg.AssetCheckResult]:
    """What a step yields: one materialization per asset for its range (the figures every
    partition shares; each partition's own come from `partition_metadata`) and the checks."""
    results: list[dg.MaterializeResult | dg.AssetCheckResult] = [
        dg.MaterializeResult(
            asset_key=layer_key(item.layer, report.name), metadata=_typed(_range_metadata(item))
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


def recorded_events(
    reports: Sequence[RunReport],
) -> list[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    """What a sensor records for runs Dagster did not start, oldest first: their
    materializations and checks, and whether they succeeded (a failure with its cause and how
    to resume). Attempts at the same command and partitions (a retried Batch job) have one
    outcome: the newest's."""
    events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
    for report in reports:
        events += materializations(report)
        events += [dg.AssetCheckEvaluation(**_check(report, check)) for check in report.checks]
    newest = {(report.command, report.name, tuple(report.periods)): report for report in reports}
    return events + [run_outcome(report) for report in newest.values()]


def run_outcome(report: RunReport) -> dg.AssetCheckEvaluation:
    layer = next(layer for layer, commands in COMMANDS_OF.items() if report.command in commands)
    return dg.AssetCheckEvaluation(
        asset_key=layer_key(layer, report.name), check_name=RUN_SUCCEEDED, **outcome(report)
    )


def outcome(report: RunReport) -> dict[str, Any]:
    """A run's outcome as a check's verdict: failed with its cause and how to resume."""
    first, last = report.periods[0].key, report.periods[-1].key
    return {
        "passed": not report.failure,
        "severity": dg.AssetCheckSeverity.ERROR,
        "description": f"{report.command} {first}..{last} "
        + (f"failed: {report.failure}" if report.failure else "succeeded"),
        "metadata": _typed(
            {
                "command": report.command,
                "partitions": f"{first}..{last} ({len(report.periods)})",
                "failure": report.failure or "none",
                "platform_run_id": report.run_id,
            }
        ),
    }


def _check(report: RunReport, check: CheckOutcome) -> dict[str, Any]:
    return {
        "asset_key": layer_key(check.check.layer, report.name),
        "check_name": check.check.name,
        "passed": check.passed,
        "severity": dg.AssetCheckSeverity(check.severity.upper()),
        "metadata": _typed({"summary": check.summary, **check.metadata}),
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


def _typed(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        key: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
        for key, value in metadata.items()
    }
