"""Partitions as local days of `partitioning.timezone`: events stamped with offsets around
midnight and across a DST change, read as a files source and as an http_api source, each Berlin
day holding exactly its rows and the rest counted; `outside_period: fail` publishes nothing."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest

from platform_assets.catalog import load_catalog
from platform_assets.contracts import with_origin
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.layers import Layer
from platform_assets.orchestration.reports import partition_metadata, step_results
from platform_assets.orchestration.sensors import recorded_events
from platform_assets.partitions import Period
from platform_assets.runtime.protocol import report_from_json, report_to_json
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport
from platform_assets.settings import load_settings
from platform_assets.sources.period_filter import outside_period, rows_in_period
from testkit.main_process import main_process
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import serving
from testkit.warehouse import warehouse_query

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DAYS = [dt.date(2024, 3, 29) + dt.timedelta(days=n) for n in range(4)]  # DST starts on the 31st
FIRST, LAST = DAYS[0].isoformat(), DAYS[-1].isoformat()
OFFSETS = [dt.timedelta(hours=hours) for hours in (1, 2, -5, 0)]


def instants() -> list[dt.datetime]:
    """Every 20 minutes from 20:00 to 02:00 UTC around each midnight of the days, and midday."""
    found = []
    for day in [DAYS[0] - dt.timedelta(days=1), *DAYS]:
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        found += [midnight + dt.timedelta(minutes=20 * n) for n in range(-12, 7)]
        found.append(midnight - dt.timedelta(hours=12))
    return found


def stamped(instant: dt.datetime, number: int) -> str:
    """The instant as ISO text in one of +01:00, +02:00, -05:00 or Z, in turn."""
    text = instant.astimezone(dt.timezone(OFFSETS[number % len(OFFSETS)])).isoformat()
    return text.replace("+00:00", "Z")


EVENTS = [{"id": n, "at": stamped(instant, n)} for n, instant in enumerate(instants())]


def berlin_day(event: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(event["at"]).astimezone(BERLIN).date()


def expected_ids(day: dt.date) -> set[int]:
    return {event["id"] for event in EVENTS if berlin_day(event) == day}


# The one filter, on its own


def filtered(values: pa.Array, period: Period) -> tuple[list[int], int]:
    batch = pa.RecordBatch.from_pydict({"id": list(range(len(values))), "at": values})
    kept = rows_in_period(with_origin(batch, "test"), "at", period)
    return kept["id"].to_pylist(), outside_period(kept).rows


def test_offsets_are_taken_in_the_zone_and_the_rest_counted():
    day = Period(DAYS[2], DAYS[3], "Europe/Berlin")  # 2024-03-31, 23 hours long
    texts = pa.array([event["at"] for event in EVENTS])
    kept, outside = filtered(texts, day)
    assert set(kept) == expected_ids(DAYS[2])
    assert outside == len(EVENTS) - len(kept)
    typed = pa.array([dt.datetime.fromisoformat(e["at"]) for e in EVENTS], pa.timestamp("s", "UTC"))
    assert filtered(typed, day) == (kept, outside)  # a typed column agrees with its text


def test_naive_timestamps_dates_and_nulls():
    day = Period(dt.date(2024, 3, 31), dt.date(2024, 4, 1), "America/New_York")
    naive = pa.array([dt.datetime(2024, 3, 31, 23, 59), dt.datetime(2024, 4, 1), None])
    assert filtered(naive, day) == ([0], 2)  # read as New York's own wall clock; a null is out
    dates = pa.array([dt.date(2024, 3, 30), dt.date(2024, 3, 31)])
    assert filtered(dates, day) == ([1], 1)
    texts = pa.array(["2024-03-31", "2024-03-31 23:00:00", "2024-04-01T03:30:00Z"])
    assert filtered(texts, day) == ([0, 1, 2], 0)  # 03:30Z is 23:30 in New York


def test_under_utc_a_timestamp_keeps_its_utc_date_as_before():
    day = Period(dt.date(2024, 3, 31), dt.date(2024, 4, 1))
    texts = pa.array(["2024-03-31T23:30:00-05:00", "2024-03-31T03:30:00+02:00", "2024-03-31"])
    assert filtered(texts, day) == ([1, 2], 1)  # 04:30Z on April 1st is out


def test_a_value_that_is_no_date_is_one_line_naming_it():
    day = Period(dt.date(2024, 3, 31), dt.date(2024, 4, 1), "Europe/Berlin")
    with pytest.raises(RunError, match=r"^test: date_column 'at': '31/03/2024' is not an ISO"):
        filtered(pa.array(["31/03/2024"]), day)


# The catalog


def write_catalog(path: Path, partitioning: str, read: str) -> Path:
    path.write_text(
        "sources:\n  - name: events\n"
        f"    read: {read}\n"
        f"    partitioning: {{granularity: daily, start: {FIRST}, {partitioning}}}\n"
        "    key: [id]\n    columns: {id: int64, at: 'timestamp[s, tz=UTC]'}\n"
    )
    return path


def test_an_unknown_zone_is_one_line_at_catalog_load(tmp_path):
    catalog = write_catalog(
        tmp_path / "c.yaml", "timezone: Europe/Berln", "{kind: files, path: e.csv, format: csv}"
    )
    with pytest.raises(ConfigurationError) as raised:
        load_catalog(catalog)
    assert str(raised.value) == (
        f"{catalog}: source 'events': key 'partitioning.timezone': unknown time zone"
        " 'Europe/Berln' (an IANA name, e.g. Europe/Berlin)"
    )


def test_a_database_date_column_refuses_a_zone_but_a_query_takes_it(tmp_path):
    url = "url: {env: X}"
    table = write_catalog(
        tmp_path / "t.yaml",
        "timezone: Europe/Berlin",
        f"{{kind: database, {url}, table: events, date_column: at}}",
    )
    with pytest.raises(ConfigurationError, match=r"source 'events': partitioning.timezone Europe"):
        load_catalog(table)
    query = write_catalog(
        tmp_path / "q.yaml",
        "timezone: Europe/Berlin",
        f"{{kind: database, {url}, query: 'SELECT * FROM events'}}",
    )
    assert load_catalog(query).source("events").partitioning.timezone == "Europe/Berlin"


# Through main.py: a files source (CSV drops, globbed) and an http_api source (JSON on loopback)


class EventsFeed(BaseHTTPRequestHandler):
    """GET /events: every event, as a feed of the latest events would send them."""

    def do_GET(self) -> None:
        body = json.dumps({"data": EVENTS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def berlin_catalog(path: Path, drops: str, outside_period: str) -> str:
    columns = "    key: [id]\n    columns: {id: int64, at: 'timestamp[s, tz=UTC]'}\n"
    partitioning = (
        f"    partitioning: {{granularity: daily, start: {FIRST}, end: 2024-04-02,"
        f" timezone: Europe/Berlin, outside_period: {outside_period}}}\n"
    )
    path.write_text(
        "sources:\n"
        "  - name: events_files\n"
        f"    read: {{kind: files, path: '{drops}/*.csv', format: csv, date_column: at}}\n"
        + partitioning
        + columns
        + "  - name: events_api\n"
        "    read: {kind: http_api, base_url_env: EVENTS_API_URL, path: /events,"
        " records: data, date_column: at}\n" + partitioning + columns
    )
    return str(path)


def berlin_env(either_env: dict[str, str], tmp_path: Path, url: str, fail: bool) -> dict[str, str]:
    """The settings with the two Berlin sources, their CSV drops landed (half the events each
    in two files, under this test's own folder)."""
    drops = f"events_{tmp_path.name}"
    catalog = berlin_catalog(tmp_path / "berlin.yaml", drops, "fail" if fail else "count")
    env = {**either_env, "PLATFORM_CATALOG": catalog, "EVENTS_API_URL": url}
    landing = load_settings(env).landing
    half = len(EVENTS) // 2
    for name, events in (("a", EVENTS[:half]), ("b", EVENTS[half:])):
        lines = ["id,at", *(f"{event['id']},{event['at']}" for event in events)]
        landing.put(landing.path(f"{drops}/{name}.csv"), ("\n".join(lines) + "\n").encode())
    return env


def outside_by_partition(env: dict[str, str], source: str) -> dict[str, int]:
    """rows_outside_period per partition, from the push's run report as the sensor reads it."""
    reports = load_settings(env).reports
    [path] = reports.glob(reports.path(f"*-push-{source}.json"))
    report = report_from_json(json.loads(reports.read_bytes(path)))
    [raw] = [item for item in report.materializations if item.layer == "raw"]
    return {partition.key: partition.rows_outside_period for partition in raw.partitions}


@pytest.mark.parametrize("source", ["events_files", "events_api"])
def test_each_berlin_day_holds_its_rows_and_the_rest_are_counted(either_env, tmp_path, source):
    with serving(EventsFeed) as url:
        env = berlin_env(either_env, tmp_path, url, fail=False)
        result = main_process(("push", "--source", source, "--partition", FIRST, "--to", LAST), env)
    assert result.returncode == 0, result.stderr
    sql = f'SELECT CAST(dt AS VARCHAR), id FROM "{{schema}}".{source}'
    held: dict[str, set[int]] = {}
    for day, number in warehouse_query(load_settings(env), sql):
        held.setdefault(day, set()).add(number)
    assert held == {day.isoformat(): expected_ids(day) for day in DAYS}
    outside = {day.isoformat(): len(EVENTS) - len(expected_ids(day)) for day in DAYS}
    assert outside_by_partition(env, source) == outside
    total = sum(outside.values())
    assert f"{total:,} rows dated outside their partitions, not published" in result.stdout
    for day, count in outside.items():
        assert f"partition {day}: {count:,} rows dated outside the partition" in result.stderr
    rows = {day: len(held[day]) for day in sorted(held)}
    SUMMARY_LINES.append(
        f"time zones {env['PLATFORM_ENV']} {source}: {len(EVENTS)} events, rows per Berlin day"
        f" {rows}, outside {outside}"
    )


@pytest.mark.parametrize("source", ["events_files", "events_api"])
def test_outside_period_fail_is_one_line_and_publishes_nothing(either_env, tmp_path, source):
    with serving(EventsFeed) as url:
        env = berlin_env(either_env, tmp_path, url, fail=True)
        result = main_process(("push", "--source", source, "--partition", FIRST), env)
    assert result.returncode == 1
    first_outside = next(event for event in EVENTS if berlin_day(event) != DAYS[0])
    # the API's text as sent; the CSV's column as typed by the declared timestamp[s, tz=UTC]
    typed = str(dt.datetime.fromisoformat(first_outside["at"]).astimezone(dt.UTC))
    shown = first_outside["at"] if source == "events_api" else typed
    outside = len(EVENTS) - len(expected_ids(DAYS[0]))
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"main.py: failed: source {source} partition {FIRST}: {outside:,} row(s) dated outside"
        f" the partition in Europe/Berlin, the first {shown!r} in "
    ), line
    assert line.endswith(" (partitioning.outside_period: fail)")
    lake = load_settings(env).lake
    assert lake.stored_schema(source) is None


# The count on the wire and in Dagster


def push_report(outside: tuple[int, int]) -> RunReport:
    first, second = Period(DAYS[0], DAYS[1], "Europe/Berlin"), Period(DAYS[1], DAYS[2])
    partitions = (
        PartitionResult(first.key, 20, 900, 1, outside[0]),
        PartitionResult(second.key, 20, 900, 1, outside[1]),
    )
    raw = Materialization(Layer.RAW, "file:///lake/raw/events/", partitions, "0123456789ab", 1.0)
    return RunReport("push", "events", [first, second], [raw], run_id="run-1")


def test_the_count_crosses_json_and_an_older_report_reads_as_none():
    report = push_report((80, 0))
    data = json.loads(json.dumps(report_to_json(report)))
    assert data["materializations"][0]["partitions"] == [
        [FIRST, 20, 900, 1, 80],
        [DAYS[1].isoformat(), 20, 900, 1],
    ]
    assert report_from_json(data) == report
    older = report_from_json(report_to_json(push_report((0, 0))))  # four fields, as before
    assert [p.rows_outside_period for p in older.materializations[0].partitions] == [0, 0]
    assert "80 rows dated outside their partitions, not published" in "\n".join(report.lines())


def test_dagster_sees_rows_outside_period_per_partition():
    report = push_report((80, 3))
    [result] = step_results(report)
    assert isinstance(result, dg.MaterializeResult) and result.metadata is not None
    assert "rows_outside_period" not in result.metadata  # a range's total is no partition's
    scoped = {partition: m["rows_outside_period"] for _, partition, m in partition_metadata(report)}
    assert scoped == {FIRST: 80, DAYS[1].isoformat(): 3}
    events = recorded_events([report])
    assert [
        event.metadata["rows_outside_period"].value
        for event in events
        if isinstance(event, dg.AssetMaterialization)
    ] == [80, 3]
