"""Which partitions a run covers: `--partition` (and `--to`), else the range Dagster launched it
for, else the schedule's previous period (yesterday, last week, last month)."""

from __future__ import annotations

import datetime as dt

from platform_assets.catalog import Partitioned
from platform_assets.errors import ConfigurationError
from platform_assets.partitions import Period, periods_between, previous_period


def selected_periods(
    target: Partitioned,
    partition: str | None,
    to: str | None,
    dagster_range: tuple[str, str] | None,
    now: dt.datetime,
) -> list[Period]:
    """The periods named, validated against the target's partitioning; ConfigurationError names
    the target and what is wrong."""
    if to and not partition:
        raise ConfigurationError("--to needs --partition")
    given = (partition, to or partition)
    # a chunk of Dagster's range (a fanned-out backfill) is fine; anything else is not
    if (
        dagster_range is not None
        and partition
        and not dagster_range[0] <= partition <= (to or partition) <= dagster_range[1]
    ):
        raise ConfigurationError(
            f"--partition {given[0]} --to {given[1]} is outside Dagster's"
            f" {dagster_range[0]}..{dagster_range[1]}"
        )
    try:
        if partition:
            return target.periods(partition, to or partition)
        if dagster_range is not None:
            return target.periods(*dagster_range)
        partitioning = target.partitioning
        period = previous_period(partitioning.granularity, now, partitioning.timezone)
    except ValueError as error:
        raise ConfigurationError(f"{target.kind_label} {target.name}: {error}") from None
    try:
        return target.periods(period.key, period.key)
    except ValueError as error:
        raise ConfigurationError(
            f"{target.kind_label} {target.name}: the schedule's previous period {period.key}"
            f" is not a partition ({error}); pass --partition"
        ) from None


def every_period(target: Partitioned, now: dt.datetime) -> list[Period]:
    """Every partition of the target up to its end, or up to the last period that has ended
    (none, before the first has)."""
    granularity = target.partitioning.granularity
    zone = target.partitioning.timezone
    last = target.last_day or previous_period(granularity, now, zone).start
    return periods_between(
        granularity, target.partitioning.start, last, target.partitioning.timezone
    )
