import datetime as dt
from pathlib import Path

import pytest

from platform_assets.settings import load_settings

JANUARY = ("--partition", "2013-01-01", "--to", "2013-01-31")


def january(per_day: dict[dt.date, int]) -> dict[dt.date, int]:
    return {day: count for day, count in per_day.items() if day.month == 1}


def warehouse_per_day(home: Path) -> dict[dt.date, int]:
    settings = load_settings({"PLATFORM_HOME": str(home)})
    return settings.warehouse.partition_rows("flights", dt.date(2013, 1, 1), dt.date(2014, 1, 1))


def test_push_a_month_then_again_gives_exactly_the_source_rows(run_main, home, flights_per_day):
    for _ in range(2):
        result = run_main("push", "--source", "flights", *JANUARY)
        assert result.returncode == 0, result.stderr
        assert warehouse_per_day(home) == january(flights_per_day)
    assert sum(january(flights_per_day).values()) == 27_004
    assert "27,004 rows" in result.stdout
    assert "check warehouse/rows_match_lake: passed" in result.stdout
    assert "check warehouse/unique_key: passed" in result.stdout
    assert "check raw/schema_matches: passed" in result.stdout


def test_no_load_stops_at_the_lake_and_load_finishes_the_job(run_main, home, flights_per_day):
    assert run_main("push", "--source", "flights", "--no-load", *JANUARY).returncode == 0
    assert warehouse_per_day(home) == {}
    status = run_main("status", "--source", "flights", *JANUARY)
    assert ["2013-01-01", "842", "-"] in [line.split() for line in status.stdout.splitlines()]
    result = run_main("load", "--source", "flights", *JANUARY)
    assert result.returncode == 0, result.stderr
    assert warehouse_per_day(home) == january(flights_per_day)


def test_load_of_a_partition_never_pushed_fails_clearly(run_main):
    result = run_main("load", "--source", "flights", "--partition", "2013-03-01")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "main.py: failed: source flights partition 2013-03-01: not in the lake; push it first"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("push", "--source", "flights", "--partition", "2013-02-30"),
            "main.py: error: source flights: '2013-02-30' is not a date YYYY-MM-DD"
            " (day is out of range for month)",
        ),
        (
            ("push", "--source", "nope", "--partition", "2013-02-03"),
            "main.py: error: unknown source 'nope'"
            " (known: flights, weather, airlines, airports, planes)",
        ),
        (
            ("push", "--source", "flights", "--partition", "2014-01-01"),
            "main.py: error: source flights: 2014-01-01 is outside source flights's partitions"
            " (2013-01-01 to 2013-12-31)",
        ),
        (
            ("push", "--source", "flights", "--partition", "2013-01-05", "--to", "2013-01-01"),
            "main.py: error: source flights: the range ends (2013-01-01) before it starts",
        ),
        (
            ("push", "--source", "flights"),
            "main.py: error: source flights: the schedule's previous period",
        ),
        (("push", "--partition", "2013-01-01"), "main.py: error: the following arguments are"),
        (("pull",), "main.py: error: the following arguments are required: --export"),
        (("frob",), "main.py: error: argument command: invalid choice: 'frob'"),
        (
            ("pull", "--export", "nope", "--partition", "2013-01-01"),
            "main.py: error: unknown export 'nope' (known: carrier_daily_delays)",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(run_main, arguments, message):
    result = run_main(*arguments)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message)
    assert result.stdout == ""


def test_a_bad_catalog_exits_2_naming_it(run_main, tmp_path):
    catalog = tmp_path / "broken.yaml"
    catalog.write_text("sources:\n  - name: x\n")
    result = run_main("list", env={"PLATFORM_CATALOG": str(catalog)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"main.py: error: {catalog}: source 'x': key 'read'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_and_list(run_main):
    help_text = run_main("--help")
    assert help_text.returncode == 0
    assert "push" in help_text.stdout and "PLATFORM_HOME" in help_text.stdout
    listing = run_main("list")
    assert listing.returncode == 0
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert [
        "flights",
        "files",
        "daily",
        "2013-01-01..2013-12-31",
        "0",
        "6",
        "*",
        "*",
        "*",
        "flights",
    ] in rows
    assert ["carrier_daily_delays", "sql", "daily", "2013-01-01..2013-12-31", "flights"] in rows


def test_a_malformed_row_names_file_and_line_and_publishes_nothing(run_main, home):
    assert run_main("push", "--source", "flights", *JANUARY).returncode == 0
    day = home / "lake/raw/flights/dt=2013-01-05"
    manifest = home / "lake/_platform/raw/flights/manifests/dt=2013-01-05.json"
    before = {path.name: path.read_bytes() for path in [*day.iterdir(), manifest]}
    drop = home / "landing/flights/2013/01/flights_2013-01-05.csv"
    lines = drop.read_text().splitlines(keepends=True)
    lines[100] = lines[100].rstrip("\n") + ",surplus\n"
    drop.write_text("".join(lines))

    result = run_main("push", "--source", "flights", "--partition", "2013-01-05")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"main.py: failed: source flights partition 2013-01-05: file://{drop}: line 101:"
        " expected 19 columns, got 20"
    )
    assert {path.name: path.read_bytes() for path in [*day.iterdir(), manifest]} == before


def test_a_value_of_the_wrong_type_names_the_column(run_main, home):
    drop = home / "landing/flights/2013/01/flights_2013-01-02.csv"
    lines = drop.read_text().splitlines(keepends=True)
    fields = lines[7].split(",")
    fields[3] = "5o7"  # dep_time
    lines[7] = ",".join(fields)
    drop.write_text("".join(lines))
    result = run_main("push", "--source", "flights", "--partition", "2013-01-02")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("flights_2013-01-02.csv: line 8: column dep_time: '5o7' is not a valid int16")
    )
    assert not (home / "lake/_platform/raw/flights/manifests/dt=2013-01-02.json").exists()


def test_a_partition_with_no_rows_is_an_error_unless_declared_empty_ok(run_main, home, tmp_path):
    drop = home / "landing/flights/2013/01/flights_2013-01-03.csv"
    drop.write_text(drop.read_text().splitlines(keepends=True)[0])
    result = run_main("push", "--source", "flights", "--partition", "2013-01-03")
    assert result.returncode == 1
    assert "partition 2013-01-03: no rows (set empty_ok: true" in result.stderr
    catalog = tmp_path / "catalog.yaml"
    seed = Path(load_settings({}).catalog_path).read_text()
    catalog.write_text(
        seed.replace("    table: flights\n", "    table: flights\n    empty_ok: true\n")
    )
    result = run_main(
        "push",
        "--source",
        "flights",
        "--partition",
        "2013-01-03",
        env={"PLATFORM_CATALOG": str(catalog)},
    )
    assert result.returncode == 0, result.stderr
    assert "0 rows" in result.stdout


WEEKLY_INFERRED = """
sources:
  - name: weekly_flights
    read:
      kind: files
      path: landing/flights/{dt:%Y}/{dt:%m}/flights_{dt:%Y-%m-%d}.csv
      format: csv
    partitioning: {granularity: weekly, start: 2012-12-31, end: 2013-03-04}
    table: weekly_flights
"""


def test_a_weekly_source_with_an_inferred_then_frozen_schema(
    run_main, home, tmp_path, flights_per_day
):
    catalog = tmp_path / "weekly.yaml"
    catalog.write_text(WEEKLY_INFERRED)
    env = {"PLATFORM_CATALOG": str(catalog)}
    # the week of 2012-12-31 has no file for 2012-12-31: a missing drop is an error, named
    missing = run_main("push", "--source", "weekly_flights", "--partition", "2012-12-31", env=env)
    assert missing.returncode == 1
    assert "flights_2012-12-31.csv: file not found" in missing.stderr

    result = run_main(
        "push",
        "--source",
        "weekly_flights",
        "--partition",
        "2013-01-07",
        "--to",
        "2013-01-28",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "schema inferred from" in result.stderr
    frozen = (home / "lake/_platform/raw/weekly_flights/schema.json").read_text()
    assert '"dep_time": "int64"' in frozen

    settings = load_settings({"PLATFORM_HOME": str(home), **env})
    per_week = settings.warehouse.partition_rows(
        "weekly_flights", dt.date(2013, 1, 7), dt.date(2013, 2, 4)
    )
    expected = {
        monday: sum(flights_per_day[monday + dt.timedelta(days=n)] for n in range(7))
        for monday in (dt.date(2013, 1, 7) + dt.timedelta(weeks=w) for w in range(4))
    }
    assert per_week == expected

    # the frozen schema holds afterwards: a later drop with text in a numeric column fails
    drop = home / "landing/flights/2013/02/flights_2013-02-05.csv"
    lines = drop.read_text().splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[3] = "late"
    lines[1] = ",".join(fields)
    drop.write_text("".join(lines))
    frozen_fail = run_main(
        "push", "--source", "weekly_flights", "--partition", "2013-02-04", env=env
    )
    assert frozen_fail.returncode == 1
    assert "line 2: column dep_time: 'late' is not a valid int64" in frozen_fail.stderr
