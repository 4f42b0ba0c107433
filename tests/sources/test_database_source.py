"""The database kind against a real SQLite file, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pyarrow as pa
import pytest
import sqlalchemy as sa

from platform_assets.contracts import origin_of
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.partitions import Period
from platform_assets.sources.database.reader import newest_cursor, read_database
from platform_assets.sources.database.spec import DatabaseRead
from platform_assets.sources.window import Window
from samples.client_database import seed
from testkit.upstreams import fill

JANUARY_2 = Period(dt.date(2013, 1, 2), dt.date(2013, 1, 3))


def spec(**fields: object) -> DatabaseRead:
    return DatabaseRead.model_validate({"kind": "database", "url": {"env": "URL"}, **fields})


def test_a_day_of_a_table_arrives_in_chunks_of_at_most_chunk_rows(client_database, january_flights):
    fill(client_database, "flights", january_flights)
    read = spec(table="flights", date_column="time_hour", chunk_rows=100)
    batches = list(read_database(read, JANUARY_2, client_database))
    expected = [r for r in january_flights.to_pylist() if r["time_hour"].day == 2]
    assert len(expected) == 930  # UTC's 2 January
    assert [b.num_rows for b in batches] == [100] * 9 + [30]
    got = pa.Table.from_batches(batches).to_pylist()
    key = ("carrier", "flight", "origin", "dep_time")
    assert Counter(tuple(r[k] for k in key) for r in got) == Counter(
        tuple(r[k] for k in key) for r in expected
    )
    assert "(flights)" in origin_of(batches[0])


def test_a_query_binds_the_partition_dates(client_database, january_flights):
    fill(client_database, "flights", january_flights)
    read = spec(
        query="SELECT carrier, COUNT(*) AS departures FROM flights"
        " WHERE time_hour >= :start AND time_hour < :end GROUP BY carrier"
    )
    [batch] = read_database(read, JANUARY_2, client_database)
    got = dict(zip(batch["carrier"].to_pylist(), batch["departures"].to_pylist(), strict=True))
    expected = Counter(r["carrier"] for r in january_flights.to_pylist() if r["time_hour"].day == 2)
    assert got == expected


def test_the_sample_tables_read_back_whole(client_database):
    written = seed(client_database)
    assert written == {"airlines": 16, "airports": 1458, "planes": 3322}
    for name, rows in written.items():
        batches = list(read_database(spec(table=name), JANUARY_2, client_database))
        assert sum(b.num_rows for b in batches) == rows


def test_a_cursor_window_reads_past_after_up_to_through(client_database):
    start = dt.datetime(2013, 1, 1, 6)
    stamps = [start + dt.timedelta(minutes=i) for i in range(10)]
    fill(
        client_database,
        "bookings",
        pa.table({"id": list(range(10)), "updated_at": pa.array(stamps, pa.timestamp("s"))}),
    )
    read = spec(table="bookings", cursor_column="updated_at")
    newest = newest_cursor(read, JANUARY_2, client_database)  # SQLite's is text, as stored
    assert str(newest)[:19] == "2013-01-01 06:09:00"
    [everything] = read_database(read, JANUARY_2, client_database, Window(None, newest))
    assert everything["id"].to_pylist() == list(range(10))
    stored = everything["updated_at"].to_pylist()  # cursor values as the database returns them
    window = Window(stored[2], stored[6])
    assert Window.from_json(json.loads(json.dumps(window.to_json()))) == window
    [batch] = read_database(read, JANUARY_2, client_database, window)
    assert batch["id"].to_pylist() == [3, 4, 5, 6]


def test_a_missing_table_names_the_database_without_its_password(server_database):
    with_password = server_database.replace("://root@", "://root:s3cret@").replace(
        "://postgres@", "://postgres:s3cret@"
    )
    with pytest.raises(RunError) as raised:
        list(read_database(spec(table="nowhere"), JANUARY_2, with_password))
    message = str(raised.value)
    assert "s3cret" not in message
    assert "***" in message
    assert "nowhere" in message
    assert "\n" not in message


def test_a_url_that_is_not_one_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="not a usable SQLAlchemy URL"):
        list(read_database(spec(table="t"), JANUARY_2, "no-such-driver://x"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "name either a table or a query"),
        ({"table": "a", "query": "SELECT 1"}, "name either a table or a query"),
        ({"table": 'x"; DROP TABLE y; --'}, "String should match pattern"),
        ({"query": "DELETE FROM t"}, "query must be a SELECT"),
        ({"query": "SELECT 1; DROP TABLE t"}, "one statement only"),
        ({"query": "SELECT 1", "date_column": "d"}, "date_column goes with table"),
        ({"table": "t", "cursor_column": "a b"}, "String should match pattern"),
    ],
)
def test_the_catalog_refuses_what_cannot_be_read_safely(fields, message):
    with pytest.raises(ValueError, match=message):
        spec(**fields)


def test_a_date_column_the_table_lacks_is_named_with_those_it_has(client_database):
    seed(client_database, ["airlines"])
    with pytest.raises(RunError, match=r"\(airlines\): no column day \(there are carrier, name\)"):
        list(read_database(spec(table="airlines", date_column="day"), JANUARY_2, client_database))


WRITING_FUNCTION = {  # a function a SELECT can call that writes: only the transaction stops it
    "postgresql": "CREATE FUNCTION bump() RETURNS int LANGUAGE sql"
    " AS 'INSERT INTO counter VALUES (1) RETURNING 1'",
    "mysql": "CREATE FUNCTION bump() RETURNS int MODIFIES SQL DATA"
    " BEGIN INSERT INTO counter VALUES (1); RETURN 1; END",
}


def test_a_query_that_writes_through_a_function_fails_in_its_read_only_transaction(
    server_database,
):
    engine = sa.create_engine(server_database, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n int)")
        connection.exec_driver_sql(WRITING_FUNCTION[engine.dialect.name])
        connection.exec_driver_sql("SELECT bump()")  # outside the platform, it writes
    with pytest.raises(RunError, match=r"(?i)read[- ]only transaction"):
        list(read_database(spec(query="SELECT bump() AS n"), JANUARY_2, server_database))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM counter").scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT nextval('ids') AS id", r"calls nextval\(\), which reaches outside the database$"),
        ("SELECT pg_read_file('/etc/passwd') AS f", r"calls pg_read_file\(\), which reaches"),
        ("SELECT 1 AS a) AS query, (SELECT 2 AS b", r"its query not SQL the database reads \("),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "must only read, not"),
    ],
)
def test_a_query_that_reaches_outside_is_refused_before_connecting(query, message):
    nowhere = "postgresql+psycopg://reader:pw@127.0.0.1:1/crm"  # connecting would fail
    with pytest.raises(ConfigurationError, match=message):
        list(read_database(spec(query=query), JANUARY_2, nowhere))
