"""Write modes end to end: a client table whose rows are inserted, updated and deleted (by a
marker) over five days, read incrementally, under `merge` (the table equals the upstream's live
rows after each day, and after rerunning any day) and `history` (one row per version, valid
until the next); locally and in aws mode, from SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from platform_assets.settings import load_settings
from testkit.catalogs import edited_seed_catalog
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import fill
from testkit.warehouse import warehouse_query

DAYS = [dt.date(2013, 1, day) for day in range(1, 6)]
NAMES = ("id", "name", "balance", "updated_at", "deleted")
COLUMNS = ", ".join(NAMES)
ACCOUNTS = """
  - name: accounts_{mode}
    read:
      kind: database
      url: {{env: CLIENT_DATABASE_URL}}
      table: accounts
      cursor_column: updated_at
    partitioning: {{granularity: daily, start: 2013-01-01, end: 2014-01-01}}
    key: [id]
    columns:
      id: int64
      name: string
      balance: int64
      updated_at: "timestamp[s]"
      deleted: bool
    write: {{mode: {mode}, order_by: updated_at, deleted: deleted}}
"""
Row = tuple[int, str, int, dt.datetime, bool]


@dataclass
class ChangingTable:
    """The upstream table and the versions a daily read of it can capture."""

    url: str
    live: dict[int, Row] = field(default_factory=dict)
    versions: list[Row] = field(default_factory=list)

    def apply(self, day: dt.date, seed: int) -> None:
        """The day's inserts, updates (one key twice) and deletes, each at its own second."""
        chooser = random.Random(seed)
        six = dt.datetime.combine(day, dt.time(6))
        stamps = (six + dt.timedelta(seconds=second) for second in range(999))
        alive = sorted(key for key, row in self.live.items() if not row[4])
        changes: list[Row] = []
        first = max(self.live, default=0) + 1
        for key in range(first, first + (12 if not alive else 3)):
            changes.append((key, f"account {key}", chooser.randrange(1000), next(stamps), False))
        if alive:
            updated = chooser.sample(alive, 4)
            for key in [*updated, updated[0]]:
                name = self.live[key][1]
                changes.append((key, name, chooser.randrange(1000), next(stamps), False))
            for key in chooser.sample([k for k in alive if k not in updated], 2):
                name, balance = self.live[key][1], self.live[key][2]
                changes.append((key, name, balance, next(stamps), True))
        engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        with engine.begin() as connection:
            table = sa.Table("accounts", sa.MetaData(), autoload_with=connection)
            for row in changes:
                values = dict(zip(NAMES, row, strict=True))
                if row[0] in self.live:
                    connection.execute(table.update().where(table.c.id == row[0]).values(values))
                else:
                    connection.execute(table.insert().values(values))
                self.live[row[0]] = row
        engine.dispose()
        # a read sees a row's state, so a key changed twice between reads is one version
        self.versions.extend({row[0]: row for row in changes}.values())

    def upstream_live_rows(self) -> list[Row]:
        """What the upstream table holds now, its deletion markers left out."""
        engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        with engine.connect() as connection:
            table = sa.Table("accounts", sa.MetaData(), autoload_with=connection)
            rows = [_row(row) for row in connection.execute(sa.select(table))]
        engine.dispose()
        return sorted(row for row in rows if not row[4])

    def history(self) -> list[tuple]:
        """Each version with when it was valid: until the key's next version, current if it is
        the latest and not a deletion."""
        expected = []
        for key in sorted({row[0] for row in self.versions}):
            versions = sorted((row for row in self.versions if row[0] == key), key=lambda r: r[3])
            stamps = [row[3] for row in versions[1:]] + [None]
            for row, until in zip(versions, stamps, strict=True):
                expected.append((*row, row[3], until, until is None and not row[4]))
        return sorted(expected)


def _row(values: tuple) -> Row:
    return (int(values[0]), values[1], int(values[2]), values[3], bool(values[4]))


@pytest.fixture
def accounts(client_database: str) -> ChangingTable:
    empty = pa.table(
        {
            "id": pa.array([], pa.int64()),
            "name": pa.array([], pa.string()),
            "balance": pa.array([], pa.int64()),
            "updated_at": pa.array([], pa.timestamp("s")),
            "deleted": pa.array([], pa.bool_()),
        }
    )
    fill(client_database, "accounts", empty)
    return ChangingTable(client_database)


def catalog(tmp_path: Path) -> str:
    exports = "\n# Exports:"
    blocks = "".join(ACCOUNTS.format(mode=mode) for mode in ("merge", "history"))
    return edited_seed_catalog(tmp_path / "catalog.yaml", exports, blocks + exports)


def table_rows(env: dict[str, str], name: str, columns: str = COLUMNS) -> list[tuple]:
    rows = warehouse_query(load_settings(env), f'SELECT {columns} FROM "{{schema}}".{name}')
    return sorted(_row(row[:5]) + tuple(row[5:]) for row in rows)


def days(*chosen: dt.date) -> Iterator[str]:
    for day in chosen:
        yield day.isoformat()


def test_merge_holds_the_upstream_rows_and_history_every_version(
    either_env, accounts, tmp_path, run_main, client_database
):
    env = {**either_env, "PLATFORM_CATALOG": catalog(tmp_path), "CLIENT_DATABASE_URL": accounts.url}

    def push(source: str, day: str, command: str = "push") -> str:
        result = run_main(command, "--source", source, "--partition", day, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    history_columns = f"{COLUMNS}, valid_from, valid_to, is_current"
    for number, day in enumerate(DAYS):
        accounts.apply(day, seed=number)
        merged = push("accounts_merge", day.isoformat())
        assert "check warehouse/versions_match_lake: passed" in merged
        assert "check warehouse/unique_key: passed" in merged
        assert table_rows(env, "accounts_merge") == accounts.upstream_live_rows()
        kept = push("accounts_history", day.isoformat())
        assert "check warehouse/versions_match_lake: passed" in kept
        assert table_rows(env, "accounts_history", history_columns) == accounts.history()

    assert len(accounts.versions) == 12 + 4 * (3 + 4 + 2)
    for day in days(DAYS[1], DAYS[0], DAYS[3]):  # a rerun of any day changes nothing
        push("accounts_merge", day)
        assert table_rows(env, "accounts_merge") == accounts.upstream_live_rows()
        push("accounts_history", day)
        assert table_rows(env, "accounts_history", history_columns) == accounts.history()

    for source in ("accounts_merge", "accounts_history"):  # the lake rebuilds the same table
        result = run_main(
            "load", "--source", source, "--partition", "2013-01-01", "--to", "2013-01-05", env=env
        )
        assert result.returncode == 0, result.stderr
    assert table_rows(env, "accounts_merge") == accounts.upstream_live_rows()
    assert table_rows(env, "accounts_history", history_columns) == accounts.history()
    SUMMARY_LINES.append(
        f"write modes ({either_env['PLATFORM_ENV']}, {client_database.split(':')[0]}):"
        f" merge = the upstream's {len(accounts.upstream_live_rows())} live rows after each of"
        f" 5 days, 3 reruns and a full load; history = its {len(accounts.history())} versions"
    )
