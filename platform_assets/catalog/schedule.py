"""A source's schedule: its cron (UTC), and the cron moved later by a grace, the deadline by
which the period a tick loads should be in (a freshness check's `deadline_cron`)."""

from __future__ import annotations

import datetime as dt

from croniter import CroniterBadDateError, croniter
from pydantic import Field, field_validator, model_validator

from platform_assets.strict import StrictModel

_MINUTES_A_DAY = 24 * 60
_SOME_DAY = dt.datetime(2000, 1, 1)  # a leap year's start: 29 February comes within the year


def shifted_cron(cron: str, minutes: int) -> str:
    """`cron` `minutes` later: '0 6 * * *' + 90 is '30 7 * * *', '0 */6 * * *' + 60 is
    '0 1,7,13,19 * * *'. The cron must fire at one minute of the hour; past midnight its days
    move too, which only a cron without a day of the month can say ('30 23 * * 1' + 60 is
    '30 0 * * 2')."""
    (minute_values, hours, days, months, weekdays), _ = croniter.expand(cron)
    if len(minute_values) != 1:
        raise ValueError("grace needs a cron that fires at one minute of the hour")
    hour_values = range(24) if hours == ["*"] else [int(hour) for hour in hours]
    times = [int(hour) * 60 + int(minute_values[0]) + minutes for hour in hour_values]
    days_later = {time // _MINUTES_A_DAY for time in times}
    if len(days_later) > 1 and not (days == months == weekdays == ["*"]):
        raise ValueError("grace moves some of the cron's ticks past midnight and some not")
    shift = max(days_later)
    day, month, weekday = cron.split()[2:]
    if shift and days != ["*"]:
        raise ValueError("grace moves the cron past midnight, which a day of the month cannot")
    if shift and weekdays != ["*"]:
        weekday = ",".join(str((int(value) + shift) % 7) for value in weekdays)
    new_hours = sorted({time % _MINUTES_A_DAY // 60 for time in times})
    new_hour = "*" if len(new_hours) == 24 else ",".join(map(str, new_hours))
    return f"{times[0] % 60} {new_hour} {day} {month} {weekday}"


_DEFAULT_GRACE_MINUTES = 60


class Schedule(StrictModel):
    cron: str = Field(description="Five-field cron expression, evaluated in UTC.")
    grace_minutes: int | None = Field(
        default=None,
        ge=0,
        description="How long after a tick its period may still be missing (default 60).",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron expression")
        try:
            croniter(value, _SOME_DAY).get_next(dt.datetime)
        except CroniterBadDateError:
            raise ValueError(f"{value!r} never fires (no such day)") from None
        return value

    @model_validator(mode="after")
    def _grace_fits_the_cron(self) -> Schedule:
        if self.grace_minutes is not None:
            shifted_cron(self.cron, self.grace_minutes)  # its ValueError says why not
        return self

    @property
    def deadline_cron(self) -> str | None:
        """The cron `grace_minutes` later: by its tick, the period the schedule loads is in.
        None when the default grace cannot move the cron (one that fires every few minutes):
        such a schedule has no freshness check."""
        try:
            return shifted_cron(
                self.cron,
                _DEFAULT_GRACE_MINUTES if self.grace_minutes is None else self.grace_minutes,
            )
        except ValueError:
            return None
