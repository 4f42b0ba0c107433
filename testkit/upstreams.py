"""The upstreams a source reads, for a test: the sample weather API on loopback, and a fresh
client database (a SQLite file, a PostgreSQL schema or a MariaDB database) to fill."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from samples.client_database import write_table
from samples.weather_api import WeatherApi

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def served(api: WeatherApi) -> Iterator[str]:
    """The sample API on a free loopback port, for the duration; yields its base URL."""
    server = api.serve()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextlib.contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database of `kind` (sqlite, postgresql, mariadb), for
    the duration; a SQLite file goes in `directory`, a server's database is dropped after."""
    name = f"client_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'client.sqlite'}"
        return
    admin = sa.create_engine(
        POSTGRES_URL if kind == "postgresql" else MARIADB_URL, poolclass=sa.NullPool
    )
    create, drop = (
        (f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE')
        if kind == "postgresql"
        else (f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`")
    )
    with admin.begin() as connection:
        connection.exec_driver_sql(create)
    try:
        if kind == "postgresql":
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
        else:
            yield f"{MARIADB_URL}/{name}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(drop)
        admin.dispose()


def fill(url: str, name: str, table: pa.Table) -> None:
    """Table `name` in the database at `url`, created and holding `table`."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        write_table(connection, name, table)
    engine.dispose()


def execute(url: str, sql: str, parameters: dict | None = None) -> None:
    """One statement, committed, in the database at `url`."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(sql), parameters or {})
    engine.dispose()
