"""Exports refresh on their own: a partition is requested once its sources' same partitions load
(Dagster's declarative automation, evaluated by a sensor that is on from the start)."""

import dagster as dg

# eager() without its `in_latest_time_window()` (a backfill of January loads old partitions,
# which must refresh too) and without `newly_missing()` (a partition nothing loaded yet would be
# pulled empty): each partition whose dependencies' partitions updated since it was last
# requested, once none of them is missing or in progress
WHEN_SOURCES_LOAD = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("when its sources' partitions load")


def automation_sensor(target: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    """Dagster's own default sensor would be stopped until someone turns it on in the UI."""
    return dg.AutomationConditionSensorDefinition(
        "exports_refresh",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests the export partitions whose sources' partitions loaded.",
    )
