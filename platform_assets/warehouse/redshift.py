"""Amazon Redshift through redshift_connector: COPY from the lake's manifests, UNLOAD back to it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from platform_assets.errors import ConfigurationError, PlatformError, RunError
from platform_assets.identifiers import quote
from platform_assets.lake import Manifest, ManifestEntry
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.storage import Store
from platform_assets.warehouse import columns_to_add, literal, ranged

# Arrow type → (Redshift DDL type, information_schema.columns.data_type)
_TYPES: dict[pa.DataType, tuple[str, str]] = {
    pa.int16(): ("SMALLINT", "smallint"),
    pa.int32(): ("INTEGER", "integer"),
    pa.int64(): ("BIGINT", "bigint"),
    pa.float32(): ("REAL", "real"),
    pa.float64(): ("DOUBLE PRECISION", "double precision"),
    pa.bool_(): ("BOOLEAN", "boolean"),
    pa.string(): ("VARCHAR(65535)", "character varying"),
    pa.date32(): ("DATE", "date"),
}


def redshift_type(data_type: pa.DataType) -> tuple[str, str]:
    if pa.types.is_timestamp(data_type):
        if data_type.tz:
            return "TIMESTAMPTZ", "timestamp with time zone"
        return "TIMESTAMP", "timestamp without time zone"
    if pa.types.is_decimal128(data_type):
        return f"DECIMAL({data_type.precision}, {data_type.scale})", "numeric"
    try:
        return _TYPES[data_type]
    except KeyError:
        raise ConfigurationError(f"no Redshift type for Arrow type {data_type}") from None


Connect = Callable[[], Any]
# where a load's COPY manifests live while it runs (the lake bucket expires what a killed load left)
COPY_MANIFESTS = "_staging/loads"


class RedshiftWarehouse:
    """`connect` opens a redshift_connector connection; `staging` is where range manifests go."""

    def __init__(self, connect: Connect, schema: str, iam_role: str, staging: Store) -> None:
        self._connect = connect
        self._schema = quote(schema)
        self._schema_name = schema
        self._iam_role = iam_role
        self._staging = staging

    def load(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        start: dt.date,
        end: dt.date,
        file_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> int:
        target = self._table(table)
        stage = quote(f"stage_{table}_{uuid.uuid4().hex[:8]}")
        expected = sum(manifest.record_count for manifest in manifests)
        # COPY maps parquet columns by position: files with the same columns share one COPY
        # naming them (one COPY for the whole range unless the schema evolved within it)
        groups: dict[tuple[str, ...], list[ManifestEntry]] = {}
        for entry in (entry for manifest in manifests for entry in manifest.entries):
            columns = file_columns[entry.url] if file_columns else schema.names
            groups.setdefault(tuple(columns), []).append(entry)
        copies = {
            columns: self._staging.path(f"{COPY_MANIFESTS}/{table}-{uuid.uuid4().hex}.manifest")
            for columns in groups
        }
        for columns, path in copies.items():
            self._staging.put(path, Manifest(tuple(groups[columns])).to_json())
        self._ensure_table(table, schema)
        try:
            with self._transaction() as cursor:
                # loads of one table take turns (chunks of a backfill load side by side): first
                # the lock, then anything that reads the table, so that no two transactions
                # each hold a share of it while waiting for all of it (a deadlock), and none
                # fails on Redshift's serializable isolation (error 1023)
                cursor.execute(f"LOCK TABLE {target}")
                cursor.execute(f"CREATE TEMP TABLE {stage} (LIKE {target})")
                for columns, path in copies.items():
                    cursor.execute(
                        f"COPY {stage} ({', '.join(quote(column) for column in columns)})"
                        f" FROM {literal(self._staging.url(path))}"
                        f" IAM_ROLE {literal(self._iam_role)} FORMAT AS PARQUET MANIFEST"
                    )
                cursor.execute(f"SELECT count(*) FROM {stage}")
                staged = cursor.fetchone()[0]
                if staged != expected:
                    raise RunError(
                        f"table {table}: COPY staged {staged} rows, the manifests list {expected}"
                    )
                column = quote(PARTITION_COLUMN)
                cursor.execute(
                    f"DELETE FROM {target} WHERE {column} >= %s AND {column} < %s", (start, end)
                )
                cursor.execute(f"INSERT INTO {target} SELECT * FROM {stage}")
        finally:
            self._staging.delete(copies.values())
        return expected

    def partition_rows(self, table: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        column, target = quote(PARTITION_COLUMN), self._table(table)
        with self._transaction() as cursor:
            if not self._exists(cursor, table):
                return {}
            cursor.execute(
                f"SELECT {column}, count(*) FROM {target}"
                f" WHERE {column} >= %s AND {column} < %s GROUP BY {column} ORDER BY {column}",
                (start, end),
            )
            return {day: count for day, count in cursor.fetchall()}

    def duplicate_keys(self, table: str, key: Sequence[str], start: dt.date, end: dt.date) -> int:
        column, target = quote(PARTITION_COLUMN), self._table(table)
        columns = ", ".join(quote(name) for name in key)
        with self._transaction() as cursor:
            if not self._exists(cursor, table):
                return 0
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {target}"
                f" WHERE {column} >= %s AND {column} < %s GROUP BY {columns} HAVING count(*) > 1)"
                " AS repeated",
                (start, end),
            )
            return cursor.fetchone()[0]

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        # UNLOAD takes its query as a string literal, so the range is written into it; both
        # bounds are dates, never text from outside.
        select = ranged(query, f"DATE '{start.isoformat()}'", f"DATE '{end.isoformat()}'")
        prefix = destination if destination.endswith("/") else destination + "/"
        with self._transaction() as cursor:
            cursor.execute(f"SET search_path TO {self._schema}")
            cursor.execute(
                f"UNLOAD ({literal(select)}) TO {literal(prefix)}"
                f" IAM_ROLE {literal(self._iam_role)} FORMAT AS PARQUET"
                f" PARTITION BY ({quote(PARTITION_COLUMN)}) INCLUDE"
                " MANIFEST VERBOSE ALLOWOVERWRITE"
            )

    def _table(self, table: str) -> str:
        return f"{self._schema}.{quote(table)}"

    def _exists(self, cursor: Any, table: str) -> bool:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = %s AND table_name = %s",
            (self._schema_name, table),
        )
        return bool(cursor.fetchone()[0])

    def _ensure_table(self, table: str, schema: pa.Schema) -> None:
        """Create the table from the Arrow schema, or check that the existing one matches it:
        COPY maps parquet columns by position, so names, order and types must agree."""
        wanted = [(field.name, *redshift_type(field.type)) for field in schema]
        columns = ", ".join(f"{quote(name)} {ddl}" for name, ddl, _ in wanted)
        create_error = None
        try:
            with self._transaction() as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table(table)} ({columns})"
                    f" DISTSTYLE AUTO SORTKEY ({quote(PARTITION_COLUMN)})"
                )
        except RunError as error:  # perhaps a concurrent load created it in the meantime
            create_error = error
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (self._schema_name, table),
            )
            actual = [tuple(row) for row in cursor.fetchall()]
        if not actual and create_error is not None:
            raise create_error
        ddl = {name: ddl_type for name, ddl_type, _ in wanted}
        additions = columns_to_add(
            f"{self._schema_name}.{table}", [(name, kind) for name, _, kind in wanted], actual
        )
        for name, _ in additions:  # Redshift adds one column per statement
            with self._transaction() as cursor:
                cursor.execute(
                    f"ALTER TABLE {self._table(table)} ADD COLUMN {quote(name)} {ddl[name]}"
                )

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One connection and transaction: committed on success, rolled back on any error."""
        try:
            connection = self._connect()
        except PlatformError:
            raise
        except Exception as error:  # the driver's errors share no useful base class
            raise RunError(f"cannot connect to Redshift: {_message(error)}") from None
        try:
            cursor = connection.cursor()
            yield cursor
            connection.commit()
        except PlatformError:
            connection.rollback()
            raise
        except Exception as error:
            connection.rollback()
            raise RunError(f"Redshift: {_message(error)}") from error
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()


def _message(error: Exception) -> str:
    """redshift_connector puts the server's fields in a dict: keep its message (M)."""
    detail = error.args[0] if error.args else None
    if isinstance(detail, dict) and "M" in detail:
        return str(detail["M"])
    return " ".join(str(error).split())
