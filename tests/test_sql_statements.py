"""The catalog's SQL: an export's query must be one SELECT over its sources' tables, reaching
nothing outside them (sqlglot parses it as DuckDB or Redshift would)."""

import pytest

from platform_assets.sql_statements import confined_select

TABLES = ["flights", "weather"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT dt, count(*) AS n FROM flights GROUP BY dt",
        "WITH late AS (SELECT * FROM flights WHERE dep_delay > 15) SELECT dt FROM late",
        "SELECT f.dt FROM main.flights AS f JOIN weather AS w ON f.origin = w.origin",
        "SELECT dt FROM flights UNION ALL SELECT dt FROM weather",
        "SELECT date_trunc('day', time_hour)::date AS dt FROM weather",
    ],
)
def test_a_select_over_its_sources_tables_is_accepted(sql):
    confined_select(sql, TABLES)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT dt FROM airlines", "reads airlines, which is not a table of the sources it"),
        ("SELECT * FROM '/etc/passwd'", 'reads "/etc/passwd", which is not a warehouse table'),
        ("SELECT * FROM glob('/*')", "reads GLOB('/*'), which is not a warehouse table"),
        ("SELECT pg_read_file('/etc/passwd') AS dt", "calls pg_read_file(), which reaches"),
        ("SELECT nextval('s') AS dt FROM flights", "calls nextval(), which reaches outside"),
        ("SELECT 1; DROP TABLE flights", "must be one SELECT statement"),
        ("DELETE FROM flights", "must be one SELECT statement"),
        ("SELECT dt FROM flights) UNION (SELECT 1", "not SQL the warehouse reads"),
    ],
)
def test_anything_else_is_refused_saying_why(sql, problem):
    with pytest.raises(ValueError) as refused:
        confined_select(sql, TABLES)
    assert str(refused.value).startswith(problem), refused.value
