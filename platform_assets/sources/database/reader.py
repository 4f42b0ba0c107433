"""The `database` kind's reader: a table or query over SQLAlchemy, in chunks into Arrow.

Rows come through a server-side cursor (`stream_results`: psycopg's named cursor, PyMySQL's
unbuffered cursor, SQLite's own stepping), `chunk_rows` at a time, so a partition of any size
holds one chunk in memory. The partition's dates and the incremental window are bound
parameters; table and column names are quoted by the database's own dialect. Upstream is only
read: a query must be one SELECT calling nothing that reaches outside the tables, and every
statement runs in a read-only transaction (`_read_only`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql.base import ColumnCollection

from platform_assets.contracts import with_origin
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.partitions import Period
from platform_assets.sources.database.spec import DatabaseRead
from platform_assets.sources.window import Window
from platform_assets.sql_statements import confined_select


def read_database(
    spec: DatabaseRead, period: Period, url: str, window: Window | None = None
) -> Iterator[pa.RecordBatch]:
    """The partition's rows, `chunk_rows` per batch, each tagged with where they came from."""
    with _connected(spec, url) as (connection, origin):
        statement, parameters = _select(spec, period, window, connection)
        result = connection.execution_options(
            stream_results=True, yield_per=spec.chunk_rows
        ).execute(statement, parameters)
        names = list(result.keys())
        while rows := result.fetchmany(spec.chunk_rows):
            columns = zip(*rows, strict=True)
            arrays = [
                _array(values, name, origin) for values, name in zip(columns, names, strict=True)
            ]
            del rows, columns  # the Python rows go before the next chunk is fetched
            yield with_origin(pa.RecordBatch.from_arrays(arrays, names=names), origin)
            del arrays


def newest_cursor(spec: DatabaseRead, period: Period, url: str) -> Any:
    """The largest cursor value upstream holds now (None if there are no rows)."""
    with _connected(spec, url) as (connection, _):
        relation, columns = _relation(spec, connection)
        cursor = _column(columns, str(spec.cursor_column))
        statement = relation.with_only_columns(sa.func.max(cursor))
        return connection.execute(statement, _dates(period)).scalar()


@contextmanager
def _connected(spec: DatabaseRead, url: str) -> Iterator[tuple[sa.Connection, str]]:
    """A connection, and how errors name the database (never with its password)."""
    try:
        engine = sa.create_engine(make_url(url), poolclass=sa.NullPool)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ConfigurationError(f"not a usable SQLAlchemy URL: {_first_line(error)}") from None
    origin = f"{engine.url.render_as_string(hide_password=True)} ({spec.table or 'query'})"
    try:
        parsed_as = _READ_ONLY_DIALECTS.get(engine.dialect.name)
        if parsed_as is None:
            raise ConfigurationError(
                f"{origin}: a {engine.dialect.name} database cannot be read in a read-only"
                " transaction here (PostgreSQL, Redshift, MySQL, MariaDB and SQLite can)"
            )
        if spec.query is not None:
            _confined(spec.query, parsed_as, origin)
        with engine.connect() as connection:
            _read_only(connection)
            yield connection, origin
    except NoSuchTableError:
        raise RunError(f"{origin}: no such table") from None
    except (SQLAlchemyError, _MissingColumnError) as error:
        raise RunError(f"{origin}: {_first_line(error)}") from None
    finally:
        engine.dispose()


# The SQLAlchemy dialects `_read_only` knows, each with the sqlglot dialects its queries parse as
_READ_ONLY_DIALECTS = {
    "postgresql": ("postgres", "redshift"),
    "mysql": ("mysql",),
    "mariadb": ("mysql",),
    "sqlite": ("sqlite",),
}


def _read_only(connection: sa.Connection) -> None:
    """Every transaction on `connection` from here on is read-only: PostgreSQL's and Redshift's
    begin READ ONLY (psycopg's read_only), MySQL's and MariaDB's session is set so (effective
    from the next transaction: hence the commit), SQLite's query_only refuses any write to the
    file. SQLite has no sequences or server files to reach; what a server lets a read-only
    transaction read (pg_read_file, for a superuser) is its role's privileges, refused here
    by `_confined` for a query."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execution_options(postgresql_readonly=True)
    elif dialect in ("mysql", "mariadb"):
        connection.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
        connection.commit()
    else:  # sqlite: the dialects are those of _READ_ONLY_DIALECTS
        connection.exec_driver_sql("PRAGMA query_only = ON")


def _confined(query: str, dialects: tuple[str, ...], origin: str) -> None:
    """ConfigurationError unless `query` is one SELECT that only reads (before connecting)."""
    try:
        confined_select(query, None, dialects, "the database")
    except ValueError as error:
        raise ConfigurationError(f"{origin}: its query {error}") from None


class _MissingColumnError(LookupError):
    """A column the catalog names is not in the table."""


def _dates(period: Period) -> dict[str, dt.date]:
    return {"start": period.start, "end": period.end}


def _relation(
    spec: DatabaseRead, connection: sa.Connection
) -> tuple[sa.Select[Any], ColumnCollection[str, Any] | None]:
    """All columns of the table (reflected, so the dialect types the values; within the
    partition's dates) and the table's columns; or all columns of the query, and None."""
    if spec.query is not None:
        query = sa.text(spec.query).columns().subquery("query")
        return sa.select(sa.literal_column("*")).select_from(query), None
    schema, _, name = str(spec.table).rpartition(".")
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=connection)
    relation = sa.select(table)
    if spec.date_column is not None:
        column = _column(table.c, spec.date_column)
        relation = relation.where(column >= sa.bindparam("start"), column < sa.bindparam("end"))
    return relation, table.c


def _column(columns: ColumnCollection[str, Any] | None, name: str) -> sa.ColumnElement[Any]:
    if columns is None:
        return sa.column(name)
    if name not in columns:
        raise _MissingColumnError(f"no column {name} (there are {', '.join(columns.keys())})")
    return columns[name]


def _select(
    spec: DatabaseRead, period: Period, window: Window | None, connection: sa.Connection
) -> tuple[sa.Select[Any], dict[str, Any]]:
    relation, columns = _relation(spec, connection)
    parameters: dict[str, Any] = _dates(period)
    if window is not None:
        cursor = _column(columns, str(spec.cursor_column))
        relation = relation.where(cursor <= sa.bindparam("cursor_through"))
        parameters["cursor_through"] = window.through
        if window.reads_after is not None:
            relation = relation.where(cursor > sa.bindparam("cursor_after"))
            parameters["cursor_after"] = window.reads_after
        relation = relation.order_by(cursor)
    return relation, parameters


def _array(values: tuple[Any, ...], name: str, origin: str) -> pa.Array:
    try:
        return pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise RunError(f"{origin}: column {name}: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
