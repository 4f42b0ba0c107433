"""Amazon Redshift through redshift_connector: COPY from the lake's manifests, UNLOAD back to it."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from platform_assets.errors import ConfigurationError, PlatformError, RunError
from platform_assets.identifiers import quote
from platform_assets.lake import Manifest, ManifestEntry
from platform_assets.schemas import PARTITION_COLUMN, is_nested
from platform_assets.storage import Store
from platform_assets.variables import Variables
from platform_assets.warehouse import WarehouseContext
from platform_assets.warehouse.modes import table_schema
from platform_assets.warehouse.sql import (
    SqlTypes,
    SqlWarehouse,
    check_loaded,
    columns_to_add,
    literal,
    ranged,
)
from platform_assets.write_modes import REPLACE, TableWrite

Connect = Callable[[], Any]
# where a load's COPY manifests live while it runs (the lake bucket expires what a killed load left)
COPY_MANIFESTS = "_staging/loads"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TYPES = SqlTypes(
    "Redshift",
    {
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "REAL",
        pa.float64(): "DOUBLE PRECISION",
        pa.bool_(): "BOOLEAN",
        pa.string(): "VARCHAR(65535)",
        pa.date32(): "DATE",
        pa.json_(): "SUPER",
    },
    lambda timestamp: "TIMESTAMPTZ" if timestamp.tz else "TIMESTAMP",
    "DECIMAL({precision}, {scale})",
    "SUPER",
)
# as information_schema.columns.data_type names them, to compare a table with the lake's files
DESCRIBED_TYPES = SqlTypes(
    "Redshift",
    {
        pa.int16(): "smallint",
        pa.int32(): "integer",
        pa.int64(): "bigint",
        pa.float32(): "real",
        pa.float64(): "double precision",
        pa.bool_(): "boolean",
        pa.string(): "character varying",
        pa.date32(): "date",
        pa.json_(): "super",
    },
    lambda timestamp: "timestamp with time zone" if timestamp.tz else "timestamp without time zone",
    "numeric",
    "super",
)


def configure(variables: Variables, context: WarehouseContext) -> Callable[[], RedshiftWarehouse]:
    """PLATFORM_REDSHIFT_*: where the cluster is, who connects, the role COPY and UNLOAD use."""
    if context.lake_scheme != "s3://":
        raise ConfigurationError(
            "PLATFORM_WAREHOUSE=redshift COPYs from a lake on S3: set PLATFORM_ENV=aws"
        )
    needed_by = "PLATFORM_WAREHOUSE=redshift"
    password = variables.get("PLATFORM_REDSHIFT_PASSWORD")
    secret_arn = variables.get("PLATFORM_REDSHIFT_SECRET_ARN")
    if password is None and secret_arn is None:
        raise ConfigurationError(
            f"{needed_by} needs PLATFORM_REDSHIFT_SECRET_ARN (or PLATFORM_REDSHIFT_PASSWORD)"
        )
    iam_role = variables.matching(
        "PLATFORM_REDSHIFT_IAM_ROLE", _ROLE_ARN, "an IAM role ARN", needed_by
    )
    schema = variables.get("PLATFORM_REDSHIFT_SCHEMA", "public")
    quote(schema)  # refuses anything but a plain identifier
    connection = RedshiftConnection(
        host=variables.required("PLATFORM_REDSHIFT_HOST", needed_by),
        port=variables.port("PLATFORM_REDSHIFT_PORT", 5439),
        database=variables.get("PLATFORM_REDSHIFT_DATABASE", "dev"),
        user=variables.required("PLATFORM_REDSHIFT_USER", needed_by),
        ssl=variables.flag("PLATFORM_REDSHIFT_SSL", True),
        password=password,
        secret_arn=secret_arn,
        secret_string=context.secret_string,
    )
    return lambda: RedshiftWarehouse(connection.connect, schema, iam_role, context.lake_store())


@dataclass(frozen=True)
class RedshiftConnection:
    """Where the cluster is; the password comes from the environment or Secrets Manager (the
    secret Redshift manages holds it under `password`), read once per process."""

    host: str
    port: int
    database: str
    user: str
    ssl: bool
    secret_string: Callable[[str], str] = field(compare=False, repr=False)
    password: str | None = field(default=None, repr=False)
    secret_arn: str | None = None
    _read: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def connect(self) -> Any:
        import redshift_connector

        return redshift_connector.connect(
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=self._password(),
            ssl=self.ssl,
            timeout=60,
        )

    def _password(self) -> str:
        if self.password is not None:
            return self.password
        arn = str(self.secret_arn)  # configure() requires one of the two
        if arn not in self._read:
            try:
                self._read[arn] = json.loads(self.secret_string(arn))["password"]
            except Exception as error:  # boto3's and JSON's errors: one line either way
                raise RunError(f"cannot read the Redshift password from {arn}: {error}") from None
        return self._read[arn]


class RedshiftWarehouse(SqlWarehouse):
    """`connect` opens a redshift_connector connection; `staging` is where range manifests go."""

    PARAMETER = "%s"

    def __init__(self, connect: Connect, schema: str, iam_role: str, staging: Store) -> None:
        quote(schema)  # refuses anything but a plain identifier
        self.connect = connect
        self.schema_name = schema
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
        write: TableWrite = REPLACE,
    ) -> int:
        self._ensure_table(table, table_schema(schema, write))
        with (
            self._copy_manifests(table, schema, manifests, file_columns) as copies,
            self._session() as cursor,
        ):
            # loads of one table take turns (chunks of a backfill load side by side): first
            # the lock, then anything that reads the table, so that no two transactions
            # each hold a share of it while waiting for all of it (a deadlock), and none
            # fails on Redshift's serializable isolation (error 1023)
            cursor.execute(f"LOCK TABLE {self._table(table)}")
            return self._stage_and_write(
                cursor, table, schema, manifests, copies, write, (start, end)
            )

    def recreate(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        write: TableWrite = REPLACE,
    ) -> int:
        with (
            self._copy_manifests(table, schema, manifests, None) as copies,
            self._session() as cursor,
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {self._table(table)}")
            cursor.execute(self._create_table(table, table_schema(schema, write)))
            every_day = (dt.date.min, dt.date.max)
            return self._stage_and_write(cursor, table, schema, manifests, copies, write, every_day)

    def _stage_and_write(
        self,
        cursor: Any,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        copies: Mapping[tuple[dt.date, tuple[str, ...]], str],
        write: TableWrite,
        bounds: tuple[dt.date, dt.date],
    ) -> int:
        """COPY the manifests' rows into a stage, check them, write them in the write mode."""
        stage = quote(f"stage_{table}_{uuid.uuid4().hex[:8]}")
        expected = sum(manifest.record_count for manifest in manifests)
        cursor.execute(f"CREATE TEMP TABLE {stage} ({_stage_columns(schema)})")
        self._copy(cursor, stage, copies, schema)
        cursor.execute(f"SELECT count(*) FROM {stage}")
        check_loaded(table, "COPY staged", cursor.fetchone()[0], expected)
        self._write_staged(cursor, write, schema, table, stage, bounds, _staged_values(schema))
        return expected

    @contextmanager
    def _copy_manifests(
        self,
        table: str,
        schema: pa.Schema,
        manifests: Sequence[Manifest],
        file_columns: Mapping[str, Sequence[str]] | None,
    ) -> Iterator[dict[tuple[dt.date, tuple[str, ...]], str]]:
        """COPY manifests in staging, one per partition and set of file columns, deleted
        afterwards.

        The files hold no `dt` (it is their folder's, which COPY does not read), so each
        partition is a COPY of its own, its day set on the rows it staged; COPY maps parquet
        columns by position, so files with other columns (the schema evolved) get another."""
        groups: dict[tuple[dt.date, tuple[str, ...]], list[ManifestEntry]] = {}
        file_names = [name for name in schema.names if name != PARTITION_COLUMN]
        for manifest in manifests:
            for entry in manifest.entries:
                columns = file_columns[entry.url] if file_columns else file_names
                columns = [name for name in columns if name != PARTITION_COLUMN]
                groups.setdefault((manifest.day, tuple(columns)), []).append(entry)
        copies = {
            group: self._staging.path(f"{COPY_MANIFESTS}/{table}-{uuid.uuid4().hex}.manifest")
            for group in groups
        }
        try:
            for group, path in copies.items():
                self._staging.put(path, Manifest(tuple(groups[group]), group[0]).to_copy_json())
            yield copies
        finally:
            self._staging.delete(copies.values())

    def _copy(
        self,
        cursor: Any,
        target: str,
        copies: Mapping[tuple[dt.date, tuple[str, ...]], str],
        schema: pa.Schema,
    ) -> None:
        day_column = quote(PARTITION_COLUMN)
        for (day, columns), path in copies.items():
            cursor.execute(
                f"COPY {target} ({', '.join(quote(column) for column in columns)})"
                f" FROM {_literal(self._staging.url(path))}"
                f" IAM_ROLE {_literal(self._iam_role)} {_parquet_format(schema)}"
            )
            cursor.execute(
                f"UPDATE {target} SET {day_column} = %s WHERE {day_column} IS NULL", (day,)
            )

    def export(self, query: str, start: dt.date, end: dt.date, destination: str) -> None:
        # UNLOAD takes its query as a string literal, so the range is written into it; both
        # bounds are dates, never text from outside.
        select = ranged(query, f"DATE '{start.isoformat()}'", f"DATE '{end.isoformat()}'")
        prefix = destination if destination.endswith("/") else destination + "/"
        with self._session() as cursor:
            cursor.execute(f"SET search_path TO {quote(self.schema_name)}")
            cursor.execute(
                f"UNLOAD ({_literal(select)}) TO {_literal(prefix)}"
                f" IAM_ROLE {_literal(self._iam_role)} FORMAT AS PARQUET"
                f" PARTITION BY ({quote(PARTITION_COLUMN)}) MANIFEST VERBOSE ALLOWOVERWRITE"
            )

    def _ensure_table(self, table: str, schema: pa.Schema) -> None:
        """Create the table from the Arrow schema, or check that the existing one matches it:
        COPY maps parquet columns by position, so names, order and types must agree."""
        wanted = [
            (field.name, TYPES.of(field.type), DESCRIBED_TYPES.of(field.type)) for field in schema
        ]
        create_error = None
        try:
            with self._session() as cursor:
                cursor.execute(self._create_table(table, schema, if_not_exists=True))
        except RunError as error:  # perhaps a concurrent load created it in the meantime
            create_error = error
        with self._session() as cursor:
            cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (self.schema_name, table),
            )
            actual = [tuple(row) for row in cursor.fetchall()]
        if not actual and create_error is not None:
            raise create_error
        ddl = {name: ddl_type for name, ddl_type, _ in wanted}
        additions = columns_to_add(
            f"{self.schema_name}.{table}", [(name, kind) for name, _, kind in wanted], actual
        )
        for name, _ in additions:  # Redshift adds one column per statement
            with self._session() as cursor:
                cursor.execute(
                    f"ALTER TABLE {self._table(table)} ADD COLUMN {quote(name)} {ddl[name]}"
                )

    def _create_table(self, table: str, schema: pa.Schema, if_not_exists: bool = False) -> str:
        columns = ", ".join(f"{quote(field.name)} {TYPES.of(field.type)}" for field in schema)
        return (
            f"CREATE TABLE {'IF NOT EXISTS ' if if_not_exists else ''}{self._table(table)}"
            f" ({columns}) DISTSTYLE AUTO SORTKEY ({quote(PARTITION_COLUMN)})"
        )

    @contextmanager
    def _session(self) -> Iterator[Any]:
        """One connection and transaction: committed on success, rolled back on any error."""
        try:
            connection = self.connect()
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


def _stage_columns(schema: pa.Schema) -> str:
    """The stage's columns: the table's, but a json document's text, which COPY cannot parse
    into SUPER (VARCHAR(65535) bounds a document to 64 KB)."""
    return ", ".join(
        f"{quote(f.name)} {'VARCHAR(65535)' if f.type == pa.json_() else TYPES.of(f.type)}"
        for f in schema
    )


def _literal(text: str) -> str:
    """A Redshift string literal: Redshift reads a backslash in one as an escape, so UNLOAD's
    quoted query (and any path or ARN) reaches it exactly as written only with both doubled."""
    return literal(text, backslash_escapes=True)


def _parquet_format(schema: pa.Schema) -> str:
    """COPY loads parquet structs and lists into SUPER columns only with SERIALIZETOJSON."""
    serialized = " SERIALIZETOJSON" if any(is_nested(f.type) for f in schema) else ""
    return f"FORMAT AS PARQUET{serialized} MANIFEST"


def _staged_values(schema: pa.Schema) -> str:
    """The stage's columns as the table takes them: a json document's text parsed into SUPER."""
    return ", ".join(
        f"JSON_PARSE({quote(f.name)}) AS {quote(f.name)}" if f.type == pa.json_() else quote(f.name)
        for f in schema
    )


def _message(error: Exception) -> str:
    """redshift_connector puts the server's fields in a dict: keep its message (M)."""
    detail = error.args[0] if error.args else None
    if isinstance(detail, dict) and "M" in detail:
        return str(detail["M"])
    return " ".join(str(error).split())
