"""Runs that Dagster did not start (an EventBridge schedule, main.py by hand) leave a report;
this sensor records each one once, as materializations of the asset partitions it wrote."""

import json

import dagster as dg

from platform_assets.orchestration.reports import recorded_events
from platform_assets.runtime.protocol import report_from_json
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
        store = settings.reports
        cursor = context.cursor or ""
        names = sorted(
            path.rsplit("/", 1)[-1]
            for path in store.list_files(store.root)
            if path.endswith(".json")
        )
        new = [name for name in names if name > cursor][:_BATCH]
        events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
        for name in new:
            report = report_from_json(json.loads(store.read_bytes(store.path(name))))
            events += recorded_events(report)
        if new:
            context.log.info(f"recorded {len(new)} report(s), last {new[-1]}")
        return dg.SensorResult(asset_events=events, cursor=new[-1] if new else cursor or None)

    return _sensor
