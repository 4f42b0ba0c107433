import datetime as dt
import itertools

from platform_assets.partitions import Granularity, period_at, periods_between, previous_period


def test_weekly_periods_start_on_monday_and_monthly_on_the_first():
    wednesday = dt.date(2024, 2, 28)
    assert period_at(Granularity.WEEKLY, wednesday).start == dt.date(2024, 2, 26)
    assert period_at(Granularity.WEEKLY, wednesday).end == dt.date(2024, 3, 4)
    assert period_at(Granularity.MONTHLY, wednesday).end == dt.date(2024, 3, 1)
    assert period_at(Granularity.MONTHLY, dt.date(2024, 12, 31)).end == dt.date(2025, 1, 1)


def test_previous_period_is_the_last_that_fully_ended():
    now = dt.datetime(2024, 3, 1, 6, 0, tzinfo=dt.UTC)
    assert previous_period(Granularity.DAILY, now).key == "2024-02-29"
    assert previous_period(Granularity.WEEKLY, now).key == "2024-02-19"
    assert previous_period(Granularity.MONTHLY, now).key == "2024-02-01"


def test_periods_between_covers_a_leap_year_day_by_day():
    periods = periods_between(Granularity.DAILY, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert len(periods) == 366
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))


def test_the_previous_period_is_of_local_days_in_the_zone():
    late_on_the_first = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)  # 00:30 on the 2nd in Berlin
    assert previous_period(Granularity.DAILY, late_on_the_first).key == "2024-02-29"
    berlin = previous_period(Granularity.DAILY, late_on_the_first, "Europe/Berlin")
    assert (berlin.key, berlin.zone) == ("2024-03-01", "Europe/Berlin")
