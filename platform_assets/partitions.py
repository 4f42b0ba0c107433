"""Calendar periods (daily, weekly from Monday, monthly) and the partition keys that name them.

A period is a span of local days in a time zone (an IANA name, UTC unless the catalog says
otherwise); the zone says which instants a row's timestamp must fall between to be in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

UTC = "UTC"


class Granularity(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, order=True)
class Period:
    """One partition: the days from `start` up to, not including, `end`, as local days of
    `zone`. The zone is not part of a period's identity: a source's periods all share one."""

    start: dt.date
    end: dt.date
    zone: str = field(default=UTC, compare=False)

    @property
    def key(self) -> str:
        return self.start.isoformat()

    def days(self) -> Iterator[dt.date]:
        day = self.start
        while day < self.end:
            yield day
            day += dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.key


def period_start(granularity: Granularity, day: dt.date) -> dt.date:
    """The first day of the period that contains `day`."""
    if granularity is Granularity.DAILY:
        return day
    if granularity is Granularity.WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(granularity: Granularity, start: dt.date) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if granularity is Granularity.DAILY:
        return start + dt.timedelta(days=1)
    if granularity is Granularity.WEEKLY:
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_index(granularity: Granularity, first: dt.date, start: dt.date) -> int:
    """How many periods after the one starting on `first` the one starting on `start` comes."""
    if granularity is Granularity.DAILY:
        return (start - first).days
    if granularity is Granularity.WEEKLY:
        return (start - first).days // 7
    return (start.year - first.year) * 12 + start.month - first.month


def period_at(granularity: Granularity, day: dt.date, zone: str = UTC) -> Period:
    start = period_start(granularity, day)
    return Period(start, next_start(granularity, start), zone)


def periods_between(
    granularity: Granularity, first: dt.date, last: dt.date, zone: str = UTC
) -> list[Period]:
    """Every period from the one starting on `first` through the one starting on `last`."""
    result = []
    start = period_start(granularity, first)
    while start <= last:
        end = next_start(granularity, start)
        result.append(Period(start, end, zone))
        start = end
    return result


def previous_period(granularity: Granularity, now: dt.datetime, zone: str = UTC) -> Period:
    """The last period of local days in `zone` that had ended at `now`: what a schedule firing
    at `now` loads."""
    import zoneinfo

    current = period_start(granularity, now.astimezone(zoneinfo.ZoneInfo(zone)).date())
    return period_at(granularity, current - dt.timedelta(days=1), zone)
