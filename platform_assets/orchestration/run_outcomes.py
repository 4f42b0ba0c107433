"""Each asset's `run_succeeded` check: whether the newest run Dagster did not start (an
EventBridge schedule, main.py by hand) succeeded. The reports sensor records every such run's
verdict as it arrives; executing the check judges the newest report again."""

from typing import Any

import dagster as dg

from platform_assets.catalog import Partitioned
from platform_assets.layers import Layer
from platform_assets.orchestration.keys import layer_key
from platform_assets.orchestration.reports import typed
from platform_assets.runtime.archive import read_report, report_names, reported_command
from platform_assets.runtime.report import RunReport
from platform_assets.settings import Settings

RUN_SUCCEEDED = "run_succeeded"
# the asset whose run_succeeded check a command's runs are: the one it writes first (`check` only
# reads: its verdicts are its checks')
COMMANDS_OF = {
    Layer.RAW: ("push", "rebuild"),
    Layer.WAREHOUSE: ("load",),
    Layer.EXPORTS: ("pull",),
}


def run_outcome(report: RunReport) -> dg.AssetCheckEvaluation | None:
    """A run's outcome as the sensor records it; None for a command that writes nothing."""
    for layer, commands in COMMANDS_OF.items():
        if report.command in commands:
            return dg.AssetCheckEvaluation(
                asset_key=layer_key(layer, report.name),
                check_name=RUN_SUCCEEDED,
                **run_verdict(report),
            )
    return None


def run_verdict(report: RunReport) -> dict[str, Any]:
    """A run's outcome as a check's verdict: failed with its cause and how to resume."""
    return {
        "passed": not report.failure,
        "severity": dg.AssetCheckSeverity.ERROR,
        "description": f"{report.command} {report.span} "
        + (f"failed: {report.failure}" if report.failure else "succeeded"),
        "metadata": typed(
            {
                "command": report.command,
                "partitions": f"{report.span} ({len(report.periods)})",
                "failure": report.failure or "none",
                "platform_run_id": report.run_id,
            }
        ),
    }


def run_outcome_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    catalog = settings.catalog
    targets: list[tuple[Layer, Partitioned]] = [
        (layer, source) for source in catalog.sources for layer in (Layer.RAW, Layer.WAREHOUSE)
    ]
    targets += [(Layer.EXPORTS, export) for export in catalog.exports]
    return [_check(settings, layer, target.name) for layer, target in targets]


def _check(settings: Settings, layer: Layer, name: str) -> dg.AssetChecksDefinition:
    commands = COMMANDS_OF[layer]

    @dg.asset_check(
        asset=layer_key(layer, name),
        name=RUN_SUCCEEDED,
        description=f"The newest `{'`, `'.join(commands)}` run that Dagster did not start"
        " (a schedule, main.py by hand) succeeded; a failure says how to resume.",
    )
    def _run_succeeded() -> dg.AssetCheckResult:
        reports = [
            report
            for report in report_names(settings)
            if reported_command(report) in {(command, name) for command in commands}
        ]
        if not reports:
            return dg.AssetCheckResult(passed=True, description="no run outside Dagster yet")
        return dg.AssetCheckResult(**run_verdict(read_report(settings, reports[-1])))

    return _run_succeeded
