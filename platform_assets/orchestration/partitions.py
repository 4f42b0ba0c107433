"""The catalog's partitioning as Dagster partitions (keys are the periods' first days)."""

import dagster as dg

from platform_assets.catalog import Partitioned
from platform_assets.partitions import Granularity


def partitions_def(item: Partitioned) -> dg.TimeWindowPartitionsDefinition:
    partitioning = item.partitioning
    start = partitioning.start.isoformat()
    end = partitioning.end.isoformat() if partitioning.end else None
    zone = partitioning.timezone  # a partition ends at its last local midnight
    if partitioning.granularity is Granularity.DAILY:
        return dg.DailyPartitionsDefinition(start_date=start, end_date=end, timezone=zone)
    if partitioning.granularity is Granularity.WEEKLY:
        return dg.WeeklyPartitionsDefinition(
            start_date=start, end_date=end, day_offset=1, timezone=zone
        )
    return dg.MonthlyPartitionsDefinition(start_date=start, end_date=end, timezone=zone)
