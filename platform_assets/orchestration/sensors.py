"""Runs that Dagster did not start (an EventBridge schedule, main.py by hand) leave a report;
this sensor records each one once: the asset partitions it wrote as materializations, its checks,
and its outcome as the `run_succeeded` check (a failure with its cause and how to resume)."""

import dagster as dg

from platform_assets.orchestration.reports import recorded_events
from platform_assets.runtime.archive import read_report, report_names
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
