"""Which partitions a run covers (selected_periods, every_period) and how they block."""

import contextlib
import datetime as dt

import pytest

from platform_assets.catalog import load_catalog
from platform_assets.errors import ConfigurationError, PlatformError
from platform_assets.partitions import Granularity, Period, periods_between
from platform_assets.runtime.partition_selection import every_period, selected_periods
from platform_assets.runtime.status import print_status
from platform_assets.settings import PACKAGE_DIRECTORY, load_settings

SOURCE = """
  - name: {name}
    read:
      kind: files
      path: drops/{name}/{{dt:%Y-%m-%d}}.csv
      format: csv
    partitioning: {partitioning}
"""
CATALOG = "sources:" + "".join(
    SOURCE.format(name=name, partitioning=partitioning)
    for name, partitioning in [
        ("open_daily", "{granularity: daily, start: 2024-01-01, chunk: 7}"),
        ("weekly", "{granularity: weekly, start: 2024-01-01, chunk: 2}"),
        ("monthly", "{granularity: monthly, start: 2024-01-01, end: 2025-01-01, chunk: 3}"),
        ("single", "{granularity: daily, start: 2024-01-01, chunk: 1}"),
    ]
)
NOW = dt.datetime(2024, 3, 6, 6, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalog") / "catalog.yaml"
    path.write_text(CATALOG)
    return path


@pytest.fixture(scope="module")
def catalog(catalog_path):
    return load_catalog(catalog_path)


@pytest.fixture(scope="module")
def flights():
    return load_catalog(PACKAGE_DIRECTORY / "catalog.yaml").source("flights")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def keys(periods: list[Period]) -> list[str]:
    return [period.key for period in periods]


def refusal(target, partition, to, dagster_range, now=NOW) -> str:
    with pytest.raises(ConfigurationError) as raised:
        selected_periods(target, partition, to, dagster_range, now)
    text = str(raised.value)
    assert "\n" not in text
    return text


# --partition and --to


def test_a_partition_alone_is_that_one_period(flights):
    assert selected_periods(flights, "2013-03-05", None, None, NOW) == [
        Period(day("2013-03-05"), day("2013-03-06"))
    ]


def test_a_partition_and_to_are_every_period_from_one_through_the_other(flights):
    periods = selected_periods(flights, "2013-01-30", "2013-02-02", None, NOW)
    assert keys(periods) == ["2013-01-30", "2013-01-31", "2013-02-01", "2013-02-02"]
    assert periods[-1].end == day("2013-02-03")


def test_a_monthly_range_is_whole_months(catalog):
    periods = selected_periods(catalog.source("monthly"), "2024-02-01", "2024-04-01", None, NOW)
    assert periods == [
        Period(day("2024-02-01"), day("2024-03-01")),
        Period(day("2024-03-01"), day("2024-04-01")),
        Period(day("2024-04-01"), day("2024-05-01")),
    ]


def test_to_without_partition_is_refused(flights):
    assert refusal(flights, None, "2013-01-05", None) == "--to needs --partition"


@pytest.mark.parametrize(
    ("partition", "to", "message"),
    [
        (
            "2014-01-01",
            None,
            "source flights: 2014-01-01 is outside source flights's partitions"
            " (2013-01-01 to 2013-12-31)",
        ),
        (
            "2013-12-30",
            "2014-01-02",
            "source flights: 2013-12-30..2014-01-02 is outside source flights's partitions"
            " (2013-01-01 to 2013-12-31)",
        ),
        (
            "2012-12-31",
            "2013-01-02",
            "source flights: 2012-12-31..2013-01-02 is outside source flights's partitions",
        ),
        (
            "2013-01-05",
            "2013-01-01",
            "source flights: the range ends (2013-01-01) before it starts (2013-01-05)",
        ),
        ("2013-1-5", None, "source flights: '2013-1-5' is not a date YYYY-MM-DD"),
    ],
    ids=["past-the-end", "range-past-the-end", "before-the-start", "backwards", "not-a-date"],
)
def test_partitions_outside_the_sources_are_refused_naming_the_source(
    flights, partition, to, message
):
    assert refusal(flights, partition, to, None).startswith(message)


def test_a_key_inside_a_period_is_refused_naming_the_period_it_falls_in(catalog):
    assert refusal(catalog.source("weekly"), "2024-01-03", None, None) == (
        "source weekly: 2024-01-03 does not start a weekly period of source weekly"
        " (that period starts 2024-01-01)"
    )


def test_an_export_is_named_as_an_export():
    export = load_catalog(PACKAGE_DIRECTORY / "catalog.yaml").export("carrier_daily_delays")
    assert keys(selected_periods(export, "2013-05-01", "2013-05-02", None, NOW)) == [
        "2013-05-01",
        "2013-05-02",
    ]
    assert refusal(export, "2014-01-01", None, None).startswith(
        "export carrier_daily_delays: 2014-01-01 is outside export carrier_daily_delays's"
    )


# Dagster's range


def test_without_partition_a_run_covers_dagsters_range(flights):
    periods = selected_periods(flights, None, None, ("2013-01-01", "2013-01-31"), NOW)
    assert periods == periods_between(Granularity.DAILY, day("2013-01-01"), day("2013-01-31"))


def test_a_chunk_inside_dagsters_range_is_that_chunk(flights):
    dagster_range = ("2013-01-01", "2013-03-31")
    periods = selected_periods(flights, "2013-02-01", "2013-03-03", dagster_range, NOW)
    assert keys(periods)[0] == "2013-02-01"
    assert keys(periods)[-1] == "2013-03-03"
    assert len(periods) == 31
    assert keys(selected_periods(flights, "2013-03-31", None, dagster_range, NOW)) == ["2013-03-31"]


@pytest.mark.parametrize(
    ("partition", "to", "shown"),
    [
        ("2013-04-01", None, "--partition 2013-04-01 --to 2013-04-01"),
        ("2013-03-30", "2013-04-02", "--partition 2013-03-30 --to 2013-04-02"),
        ("2012-12-31", "2013-01-02", "--partition 2012-12-31 --to 2013-01-02"),
    ],
)
def test_a_partition_outside_dagsters_range_is_refused(flights, partition, to, shown):
    assert refusal(flights, partition, to, ("2013-01-01", "2013-03-31")) == (
        f"{shown} is outside Dagster's 2013-01-01..2013-03-31"
    )


def test_a_dagster_range_outside_the_sources_partitions_is_refused(flights):
    assert refusal(flights, None, None, ("2013-12-01", "2014-01-31")).startswith(
        "source flights: 2013-12-01..2014-01-31 is outside source flights's partitions"
    )


def test_to_without_partition_is_refused_under_a_dagster_range_too(flights):
    assert refusal(flights, None, "2013-01-05", ("2013-01-01", "2013-01-31")) == (
        "--to needs --partition"
    )


# the schedule's previous period


@pytest.mark.parametrize(
    ("name", "now", "expected"),
    [
        ("open_daily", NOW, Period(day("2024-03-05"), day("2024-03-06"))),
        ("weekly", NOW, Period(day("2024-02-26"), day("2024-03-04"))),
        ("monthly", NOW, Period(day("2024-02-01"), day("2024-03-01"))),
        # a schedule ticking at 00:30 on a Monday, the 1st: the day, week and month just ended
        (
            "open_daily",
            dt.datetime(2024, 7, 1, 0, 30, tzinfo=dt.UTC),
            Period(day("2024-06-30"), day("2024-07-01")),
        ),
        (
            "weekly",
            dt.datetime(2024, 7, 1, 0, 30, tzinfo=dt.UTC),
            Period(day("2024-06-24"), day("2024-07-01")),
        ),
        (
            "monthly",
            dt.datetime(2024, 7, 1, 0, 30, tzinfo=dt.UTC),
            Period(day("2024-06-01"), day("2024-07-01")),
        ),
    ],
)
def test_without_partition_or_dagster_range_the_schedules_previous_period_runs(
    catalog, name, now, expected
):
    assert selected_periods(catalog.source(name), None, None, None, now) == [expected]


def test_the_previous_period_is_taken_in_utc(catalog):
    # 01:00 on 1 March in UTC+02:00 is still 29 February in UTC
    now = dt.datetime(2024, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert keys(selected_periods(catalog.source("open_daily"), None, None, None, now)) == [
        "2024-02-28"
    ]


def test_a_previous_period_past_the_partitions_end_says_to_pass_a_partition(flights):
    assert refusal(flights, None, None, None, now=dt.datetime(2024, 3, 6, tzinfo=dt.UTC)) == (
        "source flights: the schedule's previous period 2024-03-05 is not a partition"
        " (2024-03-05 is outside source flights's partitions (2013-01-01 to 2013-12-31));"
        " pass --partition"
    )


def test_a_previous_period_before_the_partitions_start_says_to_pass_a_partition(catalog):
    message = refusal(
        catalog.source("monthly"), None, None, None, now=dt.datetime(2024, 1, 15, tzinfo=dt.UTC)
    )
    assert message.startswith(
        "source monthly: the schedule's previous period 2023-12-01 is not a partition"
    )
    assert message.endswith("; pass --partition")


def test_the_last_day_before_the_end_is_still_a_partition(flights):
    now = dt.datetime(2014, 1, 1, 6, tzinfo=dt.UTC)
    assert keys(selected_periods(flights, None, None, None, now)) == ["2013-12-31"]


# every_period


def test_every_period_of_a_source_with_an_end_runs_to_its_end(flights, catalog):
    periods = every_period(flights, dt.datetime(2024, 3, 6, tzinfo=dt.UTC))
    assert len(periods) == 365
    assert (periods[0].key, periods[-1].key) == ("2013-01-01", "2013-12-31")
    monthly = every_period(catalog.source("monthly"), dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert keys(monthly) == [f"2024-{month:02d}-01" for month in range(1, 13)]


def test_every_period_of_an_open_source_runs_to_the_last_that_ended(catalog):
    assert keys(every_period(catalog.source("weekly"), NOW)) == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
        "2024-01-29",
        "2024-02-05",
        "2024-02-12",
        "2024-02-19",
        "2024-02-26",
    ]
    daily = every_period(catalog.source("open_daily"), NOW)
    assert (len(daily), daily[-1].key) == (65, "2024-03-05")


def test_every_period_of_a_source_that_has_not_started_is_none(catalog):
    assert every_period(catalog.source("open_daily"), dt.datetime(2023, 6, 1, tzinfo=dt.UTC)) == []


def test_status_of_a_source_that_has_not_started_is_no_traceback(catalog_path, tmp_path):
    settings = load_settings(
        {"PLATFORM_HOME": str(tmp_path), "PLATFORM_CATALOG": str(catalog_path)}
    )
    source = settings.catalog.source("open_daily")
    with contextlib.suppress(PlatformError):  # a one-line refusal would do as well as a table
        print_status(settings, source, every_period(source, dt.datetime(2023, 6, 1, tzinfo=dt.UTC)))


# blocks


def test_blocks_of_the_seed_source_are_its_default_31_partitions(flights):
    blocks = flights.blocks(flights.periods("2013-01-30", "2013-02-02"))
    assert {block: keys(periods) for block, periods in blocks.items()} == {
        0: ["2013-01-30", "2013-01-31"],
        1: ["2013-02-01", "2013-02-02"],
    }
    assert list(flights.blocks(flights.periods("2013-12-31", "2013-12-31"))) == [364 // 31]


@pytest.mark.parametrize(
    ("name", "first", "last", "expected"),
    [
        (
            "open_daily",
            "2024-01-06",
            "2024-01-16",
            {
                0: ["2024-01-06", "2024-01-07"],
                1: [f"2024-01-{d:02d}" for d in range(8, 15)],
                2: ["2024-01-15", "2024-01-16"],
            },
        ),
        (
            "weekly",
            "2024-01-08",
            "2024-02-05",
            {0: ["2024-01-08"], 1: ["2024-01-15", "2024-01-22"], 2: ["2024-01-29", "2024-02-05"]},
        ),
        (
            "monthly",
            "2024-01-01",
            "2024-07-01",
            {
                0: ["2024-01-01", "2024-02-01", "2024-03-01"],
                1: ["2024-04-01", "2024-05-01", "2024-06-01"],
                2: ["2024-07-01"],
            },
        ),
        (
            "single",
            "2024-02-28",
            "2024-03-01",
            {58: ["2024-02-28"], 59: ["2024-02-29"], 60: ["2024-03-01"]},
        ),
    ],
)
def test_blocks_count_chunk_partitions_from_the_sources_start(catalog, name, first, last, expected):
    source = catalog.source(name)
    blocks = source.blocks(source.periods(first, last))
    assert {block: keys(periods) for block, periods in blocks.items()} == expected
    assert list(blocks) == sorted(blocks)


def test_blocks_keep_the_periods_they_are_given_in_their_order(catalog):
    source = catalog.source("monthly")
    periods = [
        source.period("2024-05-01"),
        source.period("2024-01-01"),
        source.period("2024-02-01"),
    ]
    assert {block: keys(group) for block, group in source.blocks(periods).items()} == {
        1: ["2024-05-01"],
        0: ["2024-01-01", "2024-02-01"],
    }
