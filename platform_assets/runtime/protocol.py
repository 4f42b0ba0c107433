"""What main.py and Dagster exchange, the one module both sides import: the names Dagster Pipes
carries (the checks Dagster selected, the report's message) and a run report as JSON, as the
Pipes message and the report object on S3 (for the sensor) both hold it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from platform_assets.catalog import Severity
from platform_assets.checks import CheckOutcome, check_named
from platform_assets.layers import Layer, qualified_name
from platform_assets.partitions import Period
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport

CHECKS_EXTRA = "checks"  # Pipes extra: the 'layer/name' of each check Dagster selected
REPORT_MESSAGE = "platform_run_report"  # Pipes custom message: {REPORT_MESSAGE: report JSON}


def report_to_json(report: RunReport) -> dict[str, Any]:
    return {
        "command": report.command,
        "name": report.name,
        "run_id": report.run_id,
        "seconds": report.seconds,
        "periods": [
            [period.start.isoformat(), period.end.isoformat()] for period in report.periods
        ],
        "materializations": [
            {
                "layer": str(item.layer),
                "location": item.location,
                "schema_fingerprint": item.schema_fingerprint,
                "seconds": item.seconds,
                "partitions": [_partition_to_json(partition) for partition in item.partitions],
            }
            for item in report.materializations
        ],
        "checks": [
            {"layer": str(outcome.check.layer), "name": outcome.check.name}
            | {"metadata": outcome.metadata, "severity": str(outcome.severity)}
            for outcome in report.checks
        ],
    } | ({"failure": report.failure} if report.failure else {})


def reports_of(messages: Sequence[Any]) -> list[RunReport]:
    """The run reports among Pipes custom messages, in the order they came."""
    return [
        report_from_json(message[REPORT_MESSAGE])
        for message in messages
        if isinstance(message, dict) and REPORT_MESSAGE in message
    ]


def report_from_json(data: dict[str, Any]) -> RunReport:
    return RunReport(
        command=data["command"],
        name=data["name"],
        run_id=data.get("run_id", ""),
        seconds=float(data["seconds"]),
        periods=[
            Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
            for start, end in data["periods"]
        ],
        materializations=[
            Materialization(
                Layer(item["layer"]),
                item["location"],
                tuple(PartitionResult(*partition) for partition in item["partitions"]),
                item["schema_fingerprint"],
                float(item["seconds"]),
            )
            for item in data["materializations"]
        ],
        checks=[
            CheckOutcome(
                check_named(qualified_name(Layer(check["layer"]), check["name"])),
                check["metadata"],
                Severity(check.get("severity", Severity.ERROR)),  # older reports: error
            )
            for check in data["checks"]
        ],
        failure=data.get("failure", ""),
    )


def _partition_to_json(partition: PartitionResult) -> list[Any]:
    """[key, rows, bytes, files], and rows_outside_period when there are any: four fields (as
    every report before that count) read as none outside."""
    fields = [partition.key, partition.rows, partition.bytes, partition.files]
    return [*fields, partition.rows_outside_period] if partition.rows_outside_period else fields
