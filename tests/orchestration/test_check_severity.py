"""The catalog's check severity is what Dagster records, through Pipes and through the sensor."""

import datetime as dt

import dagster as dg

from platform_assets.catalog import Severity
from platform_assets.checks import CheckOutcome, check_named
from platform_assets.orchestration.reports import step_results
from platform_assets.orchestration.sensors import recorded_events
from platform_assets.partitions import Granularity, periods_between
from platform_assets.runtime.report import RunReport

UNIQUE_KEY = check_named("warehouse/unique_key")


def report_with(severity: Severity) -> RunReport:
    day = dt.date(2013, 1, 2)
    outcome = CheckOutcome(UNIQUE_KEY, {"key": "carrier", "duplicate_keys": 2}, severity)
    periods = periods_between(Granularity.DAILY, day, day)
    return RunReport("check", "flights", periods, checks=[outcome])


def test_a_warn_check_is_a_warning_in_dagster_and_an_error_check_an_error():
    for severity, expected in (
        (Severity.WARN, dg.AssetCheckSeverity.WARN),
        (Severity.ERROR, dg.AssetCheckSeverity.ERROR),
    ):
        report = report_with(severity)
        (result,) = step_results(report)
        (event,) = [
            event
            for event in recorded_events([report])
            if isinstance(event, dg.AssetCheckEvaluation) and event.check_name == "unique_key"
        ]
        assert isinstance(result, dg.AssetCheckResult) and result.severity is expected
        assert event.severity is expected
        assert not result.passed and not event.passed
