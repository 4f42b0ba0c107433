"""The `database` kind: a table or query over SQLAlchemy, streamed in chunks into Arrow.

Rows come through a server-side cursor (`stream_results`: psycopg's named cursor, PyMySQL's
unbuffered cursor, SQLite's own stepping), `chunk_rows` at a time, so a partition of any size
holds one chunk in memory. The partition's dates and the incremental window are bound
parameters; table and column names are quoted by the database's own dialect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from platform_assets.catalog import DatabaseRead
from platform_assets.contracts import with_origin
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.partitions import Period


@dataclass(frozen=True)
class Window:
    """The incremental rows of one partition: cursor values in (after, through]."""

    after: Any
    through: Any

    def to_json(self) -> dict[str, Any]:
        return {"after": _dump(self.after), "through": _dump(self.through)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        return cls(_load(data["after"]), _load(data["through"]))


def read_database(
    spec: DatabaseRead, period: Period, url: str, window: Window | None = None
) -> Iterator[pa.RecordBatch]:
    """The partition's rows, `chunk_rows` per batch, each tagged with where they came from."""
    engine = _engine(url)
    statement, parameters = _select(spec, period, window)
    origin = f"{engine.url.render_as_string(hide_password=True)} ({spec.table or 'query'})"
    try:
        with engine.connect() as connection:
            result = connection.execution_options(
                stream_results=True, yield_per=spec.chunk_rows
            ).execute(statement, parameters)
            names = list(result.keys())
            for rows in result.partitions():
                columns = list(zip(*rows, strict=True))
                arrays = [
                    _array(values, name, origin)
                    for values, name in zip(columns, names, strict=True)
                ]
                yield with_origin(pa.RecordBatch.from_arrays(arrays, names=names), origin)
    except SQLAlchemyError as error:
        raise RunError(f"{origin}: {_first_line(error)}") from None
    finally:
        engine.dispose()


def newest_cursor(spec: DatabaseRead, period: Period, url: str) -> Any:
    """The largest cursor value upstream holds now (None if there are no rows)."""
    engine = _engine(url)
    upstream = _relation(spec).subquery("upstream")
    statement = sa.select(sa.func.max(sa.column(str(spec.cursor_column)))).select_from(upstream)
    try:
        with engine.connect() as connection:
            return connection.execute(statement, _dates(period)).scalar()
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        raise RunError(f"{where}: {_first_line(error)}") from None
    finally:
        engine.dispose()


def _engine(url: str) -> sa.Engine:
    try:
        return sa.create_engine(make_url(url), poolclass=sa.NullPool)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ConfigurationError(f"not a usable SQLAlchemy URL: {_first_line(error)}") from None


def _dates(period: Period) -> dict[str, dt.date]:
    return {"start": period.start, "end": period.end}


def _relation(spec: DatabaseRead) -> sa.Select[Any]:
    """SELECT * over the table (within the partition's dates) or over the query."""
    if spec.query is not None:
        query = sa.text(spec.query.strip().removesuffix(";")).columns().subquery("query")
        return sa.select(sa.literal_column("*")).select_from(query)
    schema, _, name = str(spec.table).rpartition(".")
    relation = sa.select(sa.literal_column("*")).select_from(sa.table(name, schema=schema or None))
    if spec.date_column is not None:
        column = sa.column(spec.date_column)
        relation = relation.where(column >= sa.bindparam("start"), column < sa.bindparam("end"))
    return relation


def _select(
    spec: DatabaseRead, period: Period, window: Window | None
) -> tuple[sa.Select[Any], dict[str, Any]]:
    relation = _relation(spec)
    parameters: dict[str, Any] = _dates(period)
    if window is not None:
        cursor = sa.column(str(spec.cursor_column))
        relation = relation.where(cursor <= sa.bindparam("cursor_through"))
        parameters["cursor_through"] = window.through
        if window.after is not None:
            relation = relation.where(cursor > sa.bindparam("cursor_after"))
            parameters["cursor_after"] = window.after
        relation = relation.order_by(cursor)
    return relation, parameters


def _array(values: tuple[Any, ...], name: str, origin: str) -> pa.Array:
    try:
        return pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise RunError(f"{origin}: column {name}: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def _dump(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and "datetime" in value:
        return dt.datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and "date" in value:
        return dt.date.fromisoformat(value["date"])
    return value
