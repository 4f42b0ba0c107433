"""Peak memory and wall time of reading one 1,000,000-row partition from a client database
(PostgreSQL, MariaDB) through the `database` source kind, against baselines, side by side.

    .venv/bin/python bench/db_source_memory.py [--runs 5] [--mariadb-runs 3] [--rows 1000000]
        [--database postgresql|mariadb]

Every run is a fresh process; its peak RSS is the ru_maxrss that wait4 reports for it (the
largest of it and its children), its seconds the wall time from start to exit, imports included.
The runs interleave so that a noisy neighbour hits every variant alike; MariaDB's variants run
fewer times by default, as PyMySQL decodes rows in pure Python (≈ 25 s a million rows). The
script makes its own PostgreSQL schema and MariaDB database (bench_<hex>), fills them, and drops
them at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
PUSH = (sys.executable, str(PROJECT / "main.py"), "push", "--source", "events")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306"
DRIVERS = {"postgresql": "psycopg", "mariadb": "pymysql"}
DAY = dt.date(2013, 1, 1)  # the partition read; the days either side hold rows too
OTHER_DAYS = (dt.date(2012, 12, 31), dt.date(2013, 1, 2))
OTHER_DAY_ROWS = 50_000
CARRIERS = ("AA", "B6", "DL", "EV", "UA", "US", "WN", "9E", "MQ", "VX")
URL_ENV = "BENCH_CLIENT_URL"
CHUNKS = (10_000, 50_000, 200_000)

# What a variant's process runs: argv[1] is the URL (argv[2] the chunk rows); it prints the
# number of rows it read.
IMPORT_ONLY = "import pyarrow, sqlalchemy, {driver}\nprint(0)"
IMPORT_READER = "import {driver}, platform_assets.sources.database.reader\nprint(0)"
_DAY_PARAMETERS = f"""
import datetime as dt, sys
day = dt.date.fromisoformat("{DAY}")
dates = {{"start": day, "end": day + dt.timedelta(days=1)}}
sql = "SELECT * FROM events WHERE happened_at >= :start AND happened_at < :end"
"""
PANDAS_READ_SQL = f"""{_DAY_PARAMETERS}
import pandas, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1], poolclass=sa.NullPool)
with engine.connect() as connection:
    frame = pandas.read_sql(sa.text(sql), connection, params=dates)
print(len(frame))
"""
FETCHALL_ARROW = f"""{_DAY_PARAMETERS}
import pyarrow as pa, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1], poolclass=sa.NullPool)
with engine.connect() as connection:
    rows = connection.execute(sa.text(sql), dates).mappings().fetchall()
print(pa.Table.from_pylist(rows).num_rows)
"""
READ_DATABASE = f"""{_DAY_PARAMETERS}
from platform_assets.sources.database.spec import DatabaseRead
from platform_assets.partitions import Period
from platform_assets.sources.database.reader import read_database
spec = DatabaseRead.model_validate({{
    "kind": "database", "url": {{"env": "{URL_ENV}"}}, "table": "events",
    "date_column": "happened_at", "chunk_rows": int(sys.argv[2]),
}})
period = Period(dates["start"], dates["end"])
print(sum(batch.num_rows for batch in read_database(spec, period, sys.argv[1])))
"""
CATALOG = f"""sources:
  - name: events
    description: A client's events, one day a partition (bench/db_source_memory.py).
    read:
      kind: database
      url: {{env: {URL_ENV}}}
      table: events
      date_column: happened_at
      chunk_rows: 50000
    partitioning: {{granularity: daily, start: 2012-12-01, end: 2014-01-01}}
    key: [id]
    columns:
      id: int64
      happened_at: timestamp[us]
      carrier: string
      amount: float64
      note: string
"""
PUBLISHED = re.compile(r"partition \S+: ([\d,]+) rows, [\d,]+ files, [\d,]+ bytes published")


@dataclass
class Variant:
    database: str
    name: str
    argv: list[str]
    env: dict[str, str]
    runs: int
    counted: bool = True  # must read the whole day
    lake: bool = False  # needs a fresh PLATFORM_HOME each run
    kib: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    rows: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"{self.database}: {self.name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mariadb-runs", type=int, default=3, help="runs of MariaDB's variants")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the partition")
    parser.add_argument("--database", choices=list(DRIVERS), action="append", help="both unless")
    arguments = parser.parse_args()
    databases = arguments.database or list(DRIVERS)
    with tempfile.TemporaryDirectory(prefix="bench_db_") as folder:
        scratch = Path(folder)
        catalog = scratch / "catalog.yaml"
        catalog.write_text(CATALOG)
        with _filled(databases, arguments.rows) as urls:
            runs = {"postgresql": arguments.runs, "mariadb": arguments.mariadb_runs}
            variants = [
                variant
                for database, url in urls.items()
                for variant in _variants(database, url, catalog, runs[database])
            ]
            started = time.perf_counter()
            for run in range(max(variant.runs for variant in variants)):
                for variant in variants:
                    if run < variant.runs:
                        _run(variant, scratch, arguments.rows)
                print(f"round {run + 1} done", file=sys.stderr)
            elapsed = time.perf_counter() - started
    _print(variants, elapsed)


def _variants(database: str, url: str, catalog: Path, runs: int) -> list[Variant]:
    driver = DRIVERS[database]
    env = {URL_ENV: url}

    def python(code: str, *args: str) -> list[str]:
        return [sys.executable, "-c", code, url, *args]

    return [
        Variant(
            database,
            f"import only (pyarrow, sqlalchemy, {driver})",
            python(IMPORT_ONLY.format(driver=driver)),
            env,
            runs,
            counted=False,
        ),
        Variant(
            database,
            f"import only ({driver}, platform reader module)",
            python(IMPORT_READER.format(driver=driver)),
            env,
            runs,
            counted=False,
        ),
        Variant(database, "whole result: pandas.read_sql", python(PANDAS_READ_SQL), env, runs),
        Variant(database, "whole result: fetchall → pa.Table", python(FETCHALL_ARROW), env, runs),
        *(
            Variant(
                database,
                f"read_database, chunk_rows {rows:,}",
                python(READ_DATABASE, str(rows)),
                env,
                runs,
            )
            for rows in CHUNKS
        ),
        Variant(
            database,
            "main.py push --no-load (chunk_rows 50,000)",
            [*PUSH, "--partition", DAY.isoformat(), "--no-load"],
            {**env, "PLATFORM_ENV": "local", "PLATFORM_CATALOG": str(catalog)},
            runs,
            lake=True,
        ),
    ]


def _run(variant: Variant, scratch: Path, expected: int) -> None:
    """One fresh process of the variant: its peak RSS, wall time and rows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_")}
    env.update(variant.env)
    home = scratch / f"home_{uuid.uuid4().hex[:8]}"
    if variant.lake:
        env["PLATFORM_HOME"] = str(home)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(variant.argv, cwd=PROJECT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    shutil.rmtree(home, ignore_errors=True)
    if process.returncode != 0:
        sys.exit(f"{variant.label}: exit {process.returncode}\n{stderr}")
    if variant.lake:
        published = PUBLISHED.findall(stderr + stdout)
        if len(published) != 1:
            sys.exit(f"{variant.label}: no '… rows published' line\n{stderr}")
        rows = int(published[0].replace(",", ""))
    else:
        rows = int(stdout.split()[-1])
    if variant.counted and rows != expected:
        sys.exit(f"{variant.label}: read {rows:,} rows, not {expected:,}")
    variant.kib.append(usage.ru_maxrss)  # KiB on Linux
    variant.seconds.append(seconds)
    variant.rows.add(rows)


def _print(variants: list[Variant], elapsed: float) -> None:
    header = (
        "variant",
        "runs",
        "rows",
        "peak RSS MiB",
        "min-max",
        "seconds",
        "x whole result",
        "MiB above import only",
    )
    lines = [header, tuple("---" if i == 0 else "---:" for i in range(len(header)))]
    for database in dict.fromkeys(v.database for v in variants):
        mine = [v for v in variants if v.database == database]
        imports, whole = mine[0], mine[2]
        for variant in mine:
            peak = statistics.median(variant.kib) / 1024
            lines.append(
                (
                    variant.label,
                    str(len(variant.kib)),
                    ", ".join(f"{rows:,}" for rows in sorted(variant.rows)),
                    f"{peak:.0f}",
                    f"{min(variant.kib) / 1024:.0f}-{max(variant.kib) / 1024:.0f}",
                    f"{statistics.median(variant.seconds):.2f}",
                    f"{peak / (statistics.median(whole.kib) / 1024):.2f}",
                    f"{peak - statistics.median(imports.kib) / 1024:+.0f}",
                )
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"medians over interleaved runs, {elapsed / 60:.1f} minutes in all")
    for line in lines:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")


@contextmanager
def _filled(databases: list[str], rows: int) -> Iterator[dict[str, str]]:
    """A fresh schema (PostgreSQL) or database (MariaDB) per database, its `events` holding
    `rows` rows on DAY and OTHER_DAY_ROWS on each of OTHER_DAYS; dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    urls: dict[str, str] = {}
    try:
        for database in databases:
            started = time.perf_counter()
            if database == "postgresql":
                urls[database] = _fill_postgresql(name, rows)
            else:
                urls[database] = _fill_mariadb(name, rows)
            seconds = time.perf_counter() - started
            print(f"{database}: {name}.events filled in {seconds:.0f} s", file=sys.stderr)
        yield urls
    finally:
        if "postgresql" in databases:
            with _postgresql() as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        if "mariadb" in databases:
            with _mariadb() as connection:
                connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")


def _events(rows: int) -> Iterator[tuple[Any, ...]]:
    """id, happened_at, carrier, amount, note (≈ 30 characters): `rows` spread over DAY."""
    days = [(DAY, rows), *((day, OTHER_DAY_ROWS) for day in OTHER_DAYS)]
    identifier = 0
    for day, count in days:
        midnight = dt.datetime.combine(day, dt.time())
        for i in range(count):
            identifier += 1
            carrier = CARRIERS[identifier % len(CARRIERS)]
            yield (
                identifier,
                midnight + dt.timedelta(microseconds=i * 86_400_000_000 // count),
                carrier,
                (identifier * 7919 % 1_000_000) / 100,
                f"{carrier} order #{identifier:010d} settled",
            )


@contextmanager
def _postgresql() -> Iterator[Any]:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as connection:
        yield connection


@contextmanager
def _mariadb(database: str | None = None) -> Iterator[Any]:
    import pymysql

    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database)
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def _fill_postgresql(name: str, rows: int) -> str:
    with _postgresql() as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
        connection.execute(
            f'CREATE TABLE "{name}".events (id bigint PRIMARY KEY, happened_at timestamp'
            " NOT NULL, carrier text NOT NULL, amount double precision, note text)"
        )
        with connection.cursor().copy(f'COPY "{name}".events FROM STDIN') as copy:
            for row in _events(rows):
                copy.write_row(row)
        connection.execute(f'CREATE INDEX ON "{name}".events (happened_at)')
        connection.execute(f'ANALYZE "{name}".events')
    return f"{POSTGRES_URL}?options=-csearch_path%3D{name}"


def _fill_mariadb(name: str, rows: int) -> str:
    with _mariadb() as connection:
        connection.cursor().execute(f"CREATE DATABASE `{name}`")
    with _mariadb(name) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, happened_at datetime(6) NOT NULL,"
            " carrier varchar(8) NOT NULL, amount double, note varchar(64),"
            " INDEX (happened_at))"
        )
        batch: list[tuple[Any, ...]] = []
        insert = "INSERT INTO events VALUES (%s, %s, %s, %s, %s)"
        for row in _events(rows):
            batch.append(row)
            if len(batch) == 10_000:
                cursor.executemany(insert, batch)
                batch.clear()
        if batch:
            cursor.executemany(insert, batch)
    return f"{MARIADB_URL}/{name}"


if __name__ == "__main__":
    main()
