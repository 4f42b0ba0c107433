"""Runs that Dagster did not start (an EventBridge schedule, main.py by hand) leave a report;
this sensor records each one once: the asset partitions it wrote as materializations, its checks,
and its outcome as the `run_succeeded` check (a failure with its cause and how to resume)."""

from collections.abc import Sequence

import dagster as dg

from platform_assets.orchestration.reports import check_evaluations, materializations
from platform_assets.orchestration.run_outcomes import run_outcome
from platform_assets.runtime.archive import read_report, report_names
from platform_assets.runtime.report import RunReport, last_attempts
from platform_assets.settings import Settings

_BATCH = 100  # reports recorded per tick at most; the cursor carries on from there


def reports_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name="run_reports",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Records the reports under {settings.reports.url(settings.reports.root)}.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = context.cursor or ""
        new = [name for name in report_names(settings) if name > cursor][:_BATCH]
        events = recorded_events([read_report(settings, name) for name in new])
        if new:
            context.log.info(f"recorded {len(new)} report(s), last {new[-1]}")
        return dg.SensorResult(asset_events=events, cursor=new[-1] if new else cursor or None)

    return _sensor


def recorded_events(
    reports: Sequence[RunReport],
) -> list[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    """What the sensor records of runs Dagster did not start, oldest first: their
    materializations and checks, and whether they succeeded (a failure with its cause and how
    to resume). Attempts at the same command and partitions read in one tick (a retried Batch
    job) have one outcome: the newest's."""
    events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
    for report in reports:
        events += materializations(report)
        events += check_evaluations(report)
    outcomes = (run_outcome(report) for report in last_attempts(reports))
    return events + [outcome for outcome in outcomes if outcome is not None]
