"""Database sources end to end: a month from PostgreSQL and MariaDB into the warehouse, locally
and in aws mode; the seed's client tables with their URL from Secrets Manager; schema contracts
and incremental windows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from platform_assets.settings import load_settings
from samples.client_database import seed
from testkit.aws import put_secret
from testkit.catalogs import edited_seed_catalog
from testkit.upstreams import execute, fill
from testkit.warehouse import warehouse_query

JANUARY = ("--partition", "2013-01-01", "--to", "2013-01-31")
FLIGHT_KEY = "carrier, flight, origin, time_hour"
# a catalog-only change: one more block under `sources:`
CLIENT_FLIGHTS = """
  - name: client_flights
    description: The client's own copy of the flights, read from its database by departure hour.
    read:
      kind: database
      url: {env: CLIENT_FLIGHTS_URL}
      query: >-
        SELECT carrier, flight, origin, dest, dep_delay, time_hour FROM flights
        WHERE time_hour >= :start AND time_hour < :end
      chunk_rows: 5000
    partitioning: {granularity: daily, start: 2013-01-01, end: 2014-01-01}
    key: [carrier, flight, origin, time_hour]
    columns:
      carrier: string
      flight: int16
      origin: string
      dest: string
      dep_delay: int16
      time_hour: timestamp[s, tz=UTC]
"""


def with_source(tmp_path: Path, block: str) -> str:
    """The seed catalog with one more source."""
    exports = "\n# Exports:"
    return edited_seed_catalog(tmp_path / "catalog.yaml", exports, block + exports)


def upstream_rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(sql))]
    engine.dispose()
    return sorted(rows, key=repr)  # NULLs sort too


def test_a_month_from_a_client_database_equals_what_it_holds(
    either_env, server_database, january_flights, tmp_path, run_main
):
    fill(server_database, "flights", january_flights)
    env = {
        **either_env,
        "PLATFORM_CATALOG": with_source(tmp_path, CLIENT_FLIGHTS),
        "CLIENT_FLIGHTS_URL": server_database,
    }
    result = run_main("push", "--source", "client_flights", *JANUARY, env=env)
    assert result.returncode == 0, result.stderr
    assert "check warehouse/unique_key: passed" in result.stdout
    columns = "carrier, flight, origin, dest, dep_delay"
    sql = f'SELECT {columns}, CAST(time_hour AS TIMESTAMP) FROM "{{schema}}".client_flights'
    held = upstream_rows(server_database, f"SELECT {columns}, time_hour FROM flights")
    assert len(held) == 26_865  # January by UTC hour
    assert sorted(map(tuple, warehouse_query(load_settings(env), sql)), key=repr) == held
    again = run_main("push", "--source", "client_flights", *JANUARY, env=env)
    assert again.returncode == 0, again.stderr
    assert sorted(map(tuple, warehouse_query(load_settings(env), sql)), key=repr) == held


def client_database_url(env: dict[str, str], url: str) -> dict[str, str]:
    """The seed's client tables read CLIENT_DATABASE_URL locally; in aws mode the `url` field
    of the platform/client-database secret."""
    if env["PLATFORM_ENV"] != "aws":
        return {**env, "CLIENT_DATABASE_URL": url}
    put_secret("platform/client-database", json.dumps({"url": url}))
    return {k: v for k, v in env.items() if k != "CLIENT_DATABASE_URL"}


def test_the_seed_client_tables_backfill_a_month_of_snapshots(
    either_env, client_database, run_main
):
    held = seed(client_database)
    env = client_database_url(either_env, client_database)
    for name in ("airlines", "planes"):
        result = run_main("push", "--source", name, *JANUARY, env=env)
        assert result.returncode == 0, result.stderr
        per_day = warehouse_query(
            load_settings(env), f'SELECT dt, COUNT(*) FROM "{{schema}}".{name} GROUP BY dt'
        )
        assert len(per_day) == 31
        assert {count for _, count in per_day} == {held[name]}


def test_a_column_added_upstream_fails_under_freeze_and_joins_under_evolve(
    client_database, home, tmp_path, run_main
):
    seed(client_database, ["airlines"])
    frozen = {"CLIENT_DATABASE_URL": client_database, "PLATFORM_HOME": str(home)}
    first = run_main("push", "--source", "airlines", "--partition", "2013-01-01", env=frozen)
    assert first.returncode == 0, first.stderr
    execute(client_database, "ALTER TABLE airlines ADD COLUMN alliance VARCHAR(40)")
    execute(client_database, "UPDATE airlines SET alliance = 'oneworld' WHERE carrier = 'AA'")
    result = run_main("push", "--source", "airlines", "--partition", "2013-01-02", env=frozen)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("main.py: failed: source airlines partition 2013-01-02: ")
    assert last.endswith(
        "(airlines): upstream added column(s) alliance, which the frozen schema does not have"
        " (schema_contract: evolve would add them)"
    )

    evolving = {**frozen, "PLATFORM_CATALOG": _evolving_airlines(tmp_path)}
    result = run_main("push", "--source", "airlines", "--partition", "2013-01-02", env=evolving)
    assert result.returncode == 0, result.stderr
    assert "new column(s) alliance" in result.stderr
    rows = warehouse_query(
        load_settings(evolving),
        'SELECT CAST(dt AS VARCHAR), alliance, COUNT(*) FROM "{schema}".airlines'
        " GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert rows == [
        ("2013-01-01", None, 16),
        ("2013-01-02", "oneworld", 1),
        ("2013-01-02", None, 15),
    ]


def _evolving_airlines(tmp_path: Path) -> str:
    block = "    key: [carrier]\n"
    return edited_seed_catalog(
        tmp_path / "evolve.yaml", block, block + "    schema_contract: evolve\n"
    )


INCREMENTAL = """
  - name: bookings
    read:
      kind: database
      url: {env: CLIENT_DATABASE_URL}
      table: bookings
      cursor_column: updated_at
    partitioning: {granularity: daily, start: 2013-01-01, end: 2014-01-01}
    key: [id]
    columns: {id: int64, seat: string, updated_at: "timestamp[s]"}
"""


def test_an_incremental_source_takes_new_rows_once_and_a_rerun_replays_its_window(
    client_database, home, tmp_path, run_main
):
    def bookings(ids: range, minute: int) -> pa.Table:
        stamps = [f"2013-01-01 06:{minute:02d}:{i % 60:02d}" for i in ids]
        return pa.table(
            {
                "id": list(ids),
                "seat": [f"{i}A" for i in ids],
                "updated_at": pa.array(stamps).cast(pa.timestamp("s")),
            }
        )

    fill(client_database, "bookings", bookings(range(0, 40), 0))
    env = {
        "CLIENT_DATABASE_URL": client_database,
        "PLATFORM_HOME": str(home),
        "PLATFORM_CATALOG": with_source(tmp_path, INCREMENTAL),
    }

    def push(day: str) -> None:
        result = run_main("push", "--source", "bookings", "--partition", day, env=env)
        assert result.returncode == 0, result.stderr

    def per_day() -> list[tuple]:
        sql = 'SELECT CAST(dt AS VARCHAR), COUNT(*), MIN(id), MAX(id) FROM "{schema}".bookings'
        return warehouse_query(load_settings(env), sql + " GROUP BY 1 ORDER BY 1")

    push("2013-01-01")
    engine = sa.create_engine(client_database, poolclass=sa.NullPool)
    with engine.begin() as connection:  # 25 more rows arrive after the first run
        table = sa.Table("bookings", sa.MetaData(), autoload_with=connection)
        connection.execute(table.insert(), bookings(range(40, 65), 1).to_pylist())
    engine.dispose()
    push("2013-01-02")
    push("2013-01-01")  # a rerun replays its own window: the same 40 rows, not 65
    assert per_day() == [("2013-01-01", 40, 0, 39), ("2013-01-02", 25, 40, 64)]
    windows = load_settings(env).lake.cursor_windows("bookings")
    assert sorted(windows) == ["2013-01-01", "2013-01-02"]
    assert windows["2013-01-02"]["after"] == windows["2013-01-01"]["through"]
