"""A schedule's cron moved later by a grace: the deadline by which the period a tick loads
should be in (a freshness check's `deadline_cron`)."""

from __future__ import annotations

_MINUTES_A_DAY = 24 * 60


def shifted_cron(cron: str, minutes: int) -> str:
    """`cron` `minutes` later: '0 6 * * *' + 90 is '30 7 * * *'. The cron must fire at one minute
    of the hour (any hours); past midnight its days move too, which only a cron without day of
    the month can say ('30 23 * * 1' + 60 is '30 0 * * 2')."""
    minute, hour, day, month, weekday = cron.split()
    if not minute.isdigit():
        raise ValueError(f"grace needs a cron that fires at one minute of the hour, not {minute!r}")
    hours = list(range(24)) if hour == "*" else _numbers(hour, "hour")
    times = [(value * 60 + int(minute) + minutes) for value in hours]
    days_later = {time // _MINUTES_A_DAY for time in times}
    if len(days_later) > 1 and not (day == month == weekday == "*"):
        raise ValueError("grace moves some of the cron's ticks past midnight and some not")
    shift = max(days_later)
    if shift and day != "*":
        raise ValueError("grace moves the cron past midnight, which a day of the month cannot")
    if shift and weekday != "*":
        weekday = ",".join(str((value + shift) % 7) for value in _numbers(weekday, "day of week"))
    new_hours = sorted({time % _MINUTES_A_DAY // 60 for time in times})
    new_hour = "*" if len(new_hours) == 24 else ",".join(map(str, new_hours))
    new_minute = str(times[0] % 60)
    return f"{new_minute} {new_hour} {day} {month} {weekday}"


def _numbers(field: str, name: str) -> list[int]:
    values: list[int] = []
    for part in field.split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"grace needs the cron's {name} as numbers, not {field!r}")
        values += range(int(first), int(last or first) + 1)
    return values
