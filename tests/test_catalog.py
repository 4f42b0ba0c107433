import datetime as dt
from pathlib import Path

import pytest

from platform_assets.catalog import CatalogError, Severity, load_catalog
from platform_assets.checks import CHECK_NAMES
from platform_assets.partitions import Granularity
from platform_assets.settings import PACKAGE_DIRECTORY, load_settings
from testkit.catalogs import catalog_error, edited_seed_catalog

SEED = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
KEY = "    key: [carrier, flight, origin, time_hour]\n"

MINIMAL = """
sources:
  - name: {name}
    read:
      kind: files
      path: drops/{name}/{{dt:%Y-%m-%d}}.csv
      format: csv
    partitioning: {{granularity: {granularity}, start: {start}}}
    schedule: {{cron: "0 6 * * *"}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


def test_seed_catalog_declares_flights_daily_over_2013():
    flights = load_catalog(PACKAGE_DIRECTORY / "catalog.yaml").source("flights")
    assert flights.partitioning.granularity is Granularity.DAILY
    assert len(flights.periods("2013-01-01", "2013-12-31")) == 365
    assert flights.table_name == "flights"
    assert flights.declared_schema is not None
    assert "time_hour" in flights.declared_schema.names


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("partitioning:", "partitoning:"),
            "source 'flights': key 'partitoning': unknown key (did you mean 'partitioning'?)",
        ),
        (
            ('"0 6 * * *"', '"0 25 * * *"'),
            "source 'flights': key 'schedule.cron': '0 25 * * *' is not a five-field cron",
        ),
        (
            ("start: 2013-01-01", "start: 2013-02-30"),
            "source 'flights': key 'partitioning.start': Input should be a valid date",
        ),
        (("      format: csv\n", ""), "source 'flights': key 'read.format': missing required key"),
        (
            ("year: int16", "year: int8"),
            "source 'flights': key 'columns.year': type 'int8' cannot be stored",
        ),
        (
            ("      kind: files", "      kind: ftp"),
            "key 'read': unknown kind 'ftp' (expected 'files'",
        ),
        (
            ("granularity: daily", "granularity: hourly"),
            "key 'partitioning.granularity': Input should be 'daily', 'weekly' or 'monthly'",
        ),
        (
            ("granularity: daily", "granularity: weekly"),
            "key 'partitioning': start 2013-01-01 of a weekly source must be a Monday",
        ),
        (("{dt:%Y}/", "{day}/"), "key 'read.path': unknown template field(s) ['day']"),
        (("key: [carrier", "key: [carier"), "key column(s) carier not among 'columns'"),
        (
            ("year: int16", 'year: "struct<a: json>"'),
            "key 'columns.year': type 'struct<a: json>': json is a column's own type",
        ),
        (
            ("key: [carrier", "nested: {mode: keep, max_depth: 2}\n    key: [carrier"),
            "key 'nested': max_depth goes with mode: flatten",
        ),
        (
            ("key: [carrier", "nested: squash\n    key: [carrier"),
            "key 'nested.mode': Input should be 'keep' or 'flatten'",
        ),
        (("end: 2014-01-01", "end: 2012-01-01"), "end 2012-01-01 must be after start 2013-01-01"),
        (("name: flights", "name: Flights!"), "key 'name': String should match pattern"),
        (
            (KEY, KEY + "    write: {mode: merge}\n"),
            "key 'write': mode merge needs order_by: the column that orders versions",
        ),
        (
            (KEY, "    write: {mode: history, order_by: time_hour}\n"),
            "write mode history needs a key: what identifies a row",
        ),
        (
            (KEY, KEY + "    write: {mode: merge, order_by: updated_at}\n"),
            "write column(s) updated_at not among 'columns'",
        ),
        (
            (KEY, KEY + "    write: {mode: merge, order_by: time_hour, deleted: carrier}\n"),
            "write.deleted 'carrier' cannot be a key column",
        ),
        (
            (KEY, KEY + "    write: {order_by: time_hour}\n"),
            "key 'write': order_by and deleted go with mode merge or history",
        ),
        (
            (KEY, KEY + "    checks: {uniqe_key: warn}\n"),
            "source 'flights': key 'checks': unknown check 'uniqe_key'"
            " (did you mean 'unique_key'?)",
        ),
        (
            (KEY, KEY + "    checks: {unique_key: fatal}\n"),
            "source 'flights': key 'checks.unique_key.severity': Input should be 'warn' or 'error'",
        ),
        (
            (KEY, KEY + "    checks: {unique_key: {severty: warn}}\n"),
            "source 'flights': key 'checks.unique_key.severty': unknown key",
        ),
        (
            ("      format: csv\n", "      format: csv\n      format: csv\n"),
            "not valid YAML at line "
            f"{SEED.splitlines().index('      format: csv') + 2}, column 7: duplicate key 'format'",
        ),
    ],
)
def test_a_bad_catalog_is_one_clear_error_naming_file_source_and_key(tmp_path, change, message):
    old, new = change
    assert old in SEED
    path = write(tmp_path, SEED.replace(old, new, 1))
    assert message in catalog_error(path)


def test_a_checks_severity_defaults_to_error_and_the_catalog_may_lower_it(tmp_path):
    path = write(tmp_path, SEED.replace(KEY, KEY + "    checks: {unique_key: warn}\n", 1))
    catalog = load_catalog(path, CHECK_NAMES)
    assert catalog.source("flights").check_severity("unique_key") is Severity.WARN
    assert catalog.source("flights").check_severity("rows_match_lake") is Severity.ERROR
    assert catalog.source("weather").check_severity("unique_key") is Severity.ERROR


def test_a_history_table_keeps_its_own_validity_columns(tmp_path):
    catalog = SEED.replace(KEY, KEY + "    write: {mode: history, order_by: time_hour}\n", 1)
    path = write(tmp_path, catalog.replace("      year: int16", "      valid_to: int16", 1))
    with pytest.raises(CatalogError, match="valid_to are the history table's own; rename them"):
        load_catalog(path)


def test_duplicate_source_names_are_refused(tmp_path):
    block = MINIMAL.format(name="orders", granularity="daily", start="2024-01-01")
    path = write(tmp_path, block + block.split("sources:\n")[1])
    with pytest.raises(CatalogError, match="duplicate source name 'orders'"):
        load_catalog(path)


def test_a_missing_catalog_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        load_catalog(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("granularity", "start", "first", "last", "count", "last_period_end"),
    [
        ("weekly", "2024-01-01", "2024-01-01", "2024-01-29", 5, dt.date(2024, 2, 5)),
        ("monthly", "2024-01-01", "2024-01-01", "2024-12-01", 12, dt.date(2025, 1, 1)),
    ],
)
def test_weekly_and_monthly_sources(
    tmp_path, granularity, start, first, last, count, last_period_end
):
    path = write(tmp_path, MINIMAL.format(name="orders", granularity=granularity, start=start))
    source = load_catalog(path).source("orders")
    periods = source.periods(first, last)
    assert len(periods) == count
    assert periods[-1].end == last_period_end
    assert source.read.paths_for(periods[0])[0] == f"drops/orders/{start}.csv"
    # a monthly period reads every day's file, a weekly one seven
    assert len(source.read.paths_for(periods[0])) == (7 if granularity == "weekly" else 31)


def test_a_key_that_does_not_start_a_period_names_the_period_it_falls_in(tmp_path):
    path = write(tmp_path, MINIMAL.format(name="orders", granularity="monthly", start="2024-01-01"))
    source = load_catalog(path).source("orders")
    with pytest.raises(
        ValueError, match=r"2024-03-15 does not start a monthly period .* 2024-03-01"
    ):
        source.period("2024-03-15")


def test_platform_catalog_points_settings_at_another_file(tmp_path):
    path = write(tmp_path, MINIMAL.format(name="orders", granularity="daily", start="2024-01-01"))
    settings = load_settings({"PLATFORM_CATALOG": str(path), "PLATFORM_HOME": str(tmp_path)})
    assert [source.name for source in settings.catalog.sources] == ["orders"]
    assert settings.home == tmp_path
    assert load_settings({}).home == Path(".platform").resolve()


def test_a_long_value_a_message_quotes_keeps_its_start_and_its_cause(tmp_path):
    deep = "list<" * 500 + "int16" + ">" * 500
    path = tmp_path / "catalog.yaml"
    edited_seed_catalog(
        path, "  origin: string\n      year: int16", f'  origin: string\n      year: "{deep}"'
    )
    message = catalog_error(path)
    assert "key 'columns.year': type 'list<list<list<" in message
    assert "characters) … >>>>" in message
    assert message.endswith(">>>' nests more than 32 levels deep")
    assert len(message) < len(str(path)) + 450
