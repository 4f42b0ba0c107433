"""Incremental database sources that never lose or duplicate a row version: a lookback catches a
row committed late inside a window already read, and a rerun keeps what the lake captured."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from platform_assets.layers import Layer
from platform_assets.settings import load_settings
from testkit.catalogs import catalog_error
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import fill
from testkit.warehouse import warehouse_query

DAY_1, DAY_2 = "2013-01-01", "2013-01-02"
SIX = dt.datetime(2013, 1, 1, 6)
SOURCE = """
  - name: {name}
    read:
      kind: database
      url: {{env: CLIENT_DATABASE_URL}}
      table: bookings
      cursor_column: updated_at{lookback}
    partitioning: {{granularity: daily, start: 2013-01-01, end: 2014-01-01}}
    key: [id]
    columns: {{id: int64, seat: string, updated_at: "timestamp[s]"}}
"""


def catalog(tmp_path: Path, **lookbacks: str | None) -> str:
    """A catalog of sources over the client's `bookings`, one per name, each with its lookback."""
    blocks = [
        SOURCE.format(
            name=name, lookback="" if lookback is None else f"\n      lookback: {lookback}"
        )
        for name, lookback in lookbacks.items()
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text("sources:" + "".join(blocks))
    return str(path)


def bookings(rows: list[tuple[int, str, dt.datetime]]) -> pa.Table:
    ids, seats, stamps = zip(*rows, strict=True)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "seat": pa.array(seats),
            "updated_at": pa.array(stamps, pa.timestamp("s")),
        }
    )


def commit(url: str, statement: sa.Executable, rows: list[dict] | None = None) -> None:
    """One statement in its own transaction, on the `bookings` table."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(statement, rows)
    engine.dispose()


BOOKINGS = sa.table("bookings", sa.column("id"), sa.column("seat"), sa.column("updated_at"))


def lake_rows(env: dict[str, str], name: str, day: str) -> list[tuple]:
    """The partition's rows as the lake publishes them, sorted."""
    settings = load_settings(env)
    manifest = settings.lake.manifest(Layer.RAW, name, settings.catalog.source(name).period(day))
    assert manifest is not None, (name, day)
    held = settings.lake.read(manifest).select(["id", "seat", "updated_at"])
    return sorted(zip(*(held[column].to_pylist() for column in held.column_names), strict=True))


def ids_in_warehouse(env: dict[str, str], name: str) -> Counter[int]:
    rows = warehouse_query(load_settings(env), f'SELECT id FROM "{{schema}}".{name}')
    return Counter(row[0] for row in rows)


def test_a_lookback_catches_a_row_committed_late_and_publishes_each_version_once(
    client_database, home, tmp_path, run_main
):
    fill(
        client_database,
        "bookings",
        bookings([(i, f"{i}A", SIX + dt.timedelta(minutes=i)) for i in range(10)]),
    )
    env = {
        "CLIENT_DATABASE_URL": client_database,
        "PLATFORM_HOME": str(home),
        "PLATFORM_CATALOG": catalog(tmp_path, caught="10 minutes", missed=None),
    }

    def push(name: str, day: str) -> str:
        result = run_main("push", "--source", name, "--partition", day, env=env)
        assert result.returncode == 0, result.stderr
        return result.stderr

    push("caught", DAY_1)
    push("missed", DAY_1)  # both read (None, 06:09]
    late = {"id": 10, "seat": "10A", "updated_at": SIX + dt.timedelta(minutes=5, seconds=30)}
    commit(client_database, BOOKINGS.insert(), [late])  # a long transaction commits after day 1
    newer = [
        {"id": i, "seat": f"{i}A", "updated_at": SIX + dt.timedelta(minutes=i + 9)}
        for i in (11, 12)
    ]
    commit(client_database, BOOKINGS.insert(), newer)
    caught_log = push("caught", DAY_2)  # reads (05:59, 06:21]: ids 0..12, 0..9 already held
    push("missed", DAY_2)  # reads (06:09, 06:21]: ids 11 and 12 only

    upstream = 13
    caught = ids_in_warehouse(env, "caught")
    assert caught == Counter(range(upstream))  # every id exactly once, the late one included
    assert [row[0] for row in lake_rows(env, "caught", DAY_2)] == [10, 11, 12]
    assert "10 rows read that the lake already held not published again" in caught_log
    missed = ids_in_warehouse(env, "missed")
    assert 10 not in missed  # without a lookback the late row is never read
    assert missed == Counter([*range(10), 11, 12])
    SUMMARY_LINES.append(
        f"incremental late row ({client_database.split(':')[0]}): upstream {upstream} rows;"
        f" lookback {sum(caught.values())} rows, {len(caught)} ids;"
        f" no lookback {sum(missed.values())} rows (id 10 missed)"
    )


def test_a_rerun_keeps_the_version_the_lake_captured_and_the_new_one_lands_once(
    either_env, client_database, tmp_path, run_main
):
    first = [(i, f"{i}A", SIX + dt.timedelta(minutes=i)) for i in range(1, 6)]
    fill(client_database, "bookings", bookings(first))
    env = {
        **either_env,
        "CLIENT_DATABASE_URL": client_database,
        "PLATFORM_CATALOG": catalog(tmp_path, bookings="10 minutes"),
    }

    def push(day: str) -> None:
        result = run_main("push", "--source", "bookings", "--partition", day, env=env)
        assert result.returncode == 0, result.stderr

    push(DAY_1)
    moved = SIX + dt.timedelta(minutes=30)  # past day 1's window, which ended at 06:05
    commit(
        client_database,
        BOOKINGS.update().where(BOOKINGS.c.id == 3).values(seat="3B", updated_at=moved),
    )
    push(DAY_2)
    push(DAY_1)  # the live table no longer holds id 3's first version in day 1's window
    push(DAY_2)

    assert lake_rows(env, "bookings", DAY_1) == first
    assert lake_rows(env, "bookings", DAY_2) == [(3, "3B", moved)]
    rows = warehouse_query(
        load_settings(env),
        'SELECT CAST(dt AS VARCHAR), id, seat FROM "{schema}".bookings ORDER BY 1, 2',
    )
    assert rows == [(DAY_1, i, f"{i}A") for i in range(1, 6)] + [(DAY_2, 3, "3B")]
    SUMMARY_LINES.append(
        f"incremental rerun ({either_env['PLATFORM_ENV']}, {client_database.split(':')[0]}):"
        f" day 1 {len(lake_rows(env, 'bookings', DAY_1))} rows after its rerun,"
        f" day 2 {len(lake_rows(env, 'bookings', DAY_2))}, warehouse {len(rows)}"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    key: [id]\n", ""),
            "source 'bookings': an incremental source needs 'key': a row version is known by its"
            " key and cursor values",
        ),
        (("lookback: 10 minutes", "lookback: -5"), "key 'read.lookback': lookback -5 is negative"),
        (("lookback: 10 minutes", "lookback: -10 minutes"), "lookback '-10 minutes' is negative"),
        (
            ("lookback: 10 minutes", "lookback: 10 parsecs"),
            "lookback '10 parsecs' is neither a number (in the cursor's units) nor a duration",
        ),
        (
            ("      cursor_column: updated_at\n", ""),
            "key 'read': lookback goes with cursor_column",
        ),
    ],
)
def test_a_bad_lookback_is_one_line_at_catalog_load(tmp_path, change, message):
    old, new = change
    path = Path(catalog(tmp_path, bookings="10 minutes"))
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    assert message in catalog_error(path)


def test_main_refuses_a_lookback_without_a_key_before_any_work(tmp_path, home, run_main):
    path = Path(catalog(tmp_path, bookings="600"))
    path.write_text(path.read_text().replace("    key: [id]\n", ""))
    env = {"PLATFORM_HOME": str(home), "PLATFORM_CATALOG": str(path)}
    result = run_main("push", "--source", "bookings", "--partition", DAY_1, env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("main.py: error: ")
    assert "source 'bookings': an incremental source needs 'key'" in line
