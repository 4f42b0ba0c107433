"""A Redshift stand-in for tests: PostgreSQL behind a loopback proxy redshift_connector accepts.

The proxy fixes what PostgreSQL and the driver disagree on (the SSL request, Redshift-only startup
parameters, the server_version string), records every statement it relays, and performs the effect
of the two Redshift statements PostgreSQL lacks, reading and writing the moto S3 server:

- ``COPY t FROM 's3://…manifest' … FORMAT AS PARQUET MANIFEST``: the manifest's parquet files are
  loaded into a scratch table, and the statement becomes ``INSERT INTO t SELECT * FROM scratch``
  (in the client's own session and transaction);
- ``UNLOAD ('query') TO 's3://prefix' … PARTITION BY (dt) [INCLUDE] MANIFEST VERBOSE``: the query
  runs, its rows are written as parquet per partition plus UNLOAD's manifest, and the statement
  becomes a no-op.

Redshift-only DDL clauses (``SORTKEY``, ``DISTSTYLE``) are dropped before PostgreSQL sees them.
SUPER is PostgreSQL's ``jsonb``: in DDL, in what information_schema says (``super``), through
``JSON_PARSE`` (a cast), and in COPY, which loads parquet structs and lists as their JSON (and
only with ``SERIALIZETOJSON``, as Redshift requires).
``interrupt`` calls an action (the crash trials' SIGKILL of the client) at a chosen statement.
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import boto3
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

SSL_REQUEST = 80877103
REDSHIFT_ONLY_STARTUP = {
    b"client_protocol_version",
    b"driver_version",
    b"os_version",
    b"driver_discovery_version",
    b"plugin_name",
}
_COPY = re.compile(
    r"^\s*COPY\s+(?P<table>\S+)\s*(?P<columns>\([^)]*\))?\s+FROM\s+'(?P<url>s3://[^']+)'"
    r".*FORMAT\s+AS\s+PARQUET.*MANIFEST",
    re.IGNORECASE | re.DOTALL,
)
_UNLOAD = re.compile(
    r"^\s*UNLOAD\s*\(\s*'(?P<query>(?:[^'\\]|''|\\.)*)'\s*\)\s*TO\s+'(?P<prefix>s3://[^']+)'"
    r".*FORMAT\s+AS\s+PARQUET.*PARTITION\s+BY\s*\((?P<column>[^)]+)\)\s*(?P<include>INCLUDE)?"
    r".*MANIFEST",
    re.IGNORECASE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_QUOTED = re.compile(r"''|\\(.)", re.DOTALL)


def _unquoted(text: str) -> str:
    """A Redshift string literal's body as Redshift reads it: a doubled quote is one, and a
    backslash escapes the next character (\\n, \\t, … as in PostgreSQL's escape strings)."""
    return _QUOTED.sub(lambda m: "'" if m.group(1) is None else _ESCAPES.get(m[1], m[1]), text)


_SEARCH_PATH = re.compile(r'^\s*SET\s+search_path\s+(?:TO|=)\s+"?([A-Za-z0-9_]+)"?\s*$', re.I)
_REDSHIFT_DDL = re.compile(r"\s+(SORTKEY\s*\([^)]*\)|DISTSTYLE\s+\w+|DISTKEY\s*\([^)]*\))", re.I)
_SUPER = re.compile(r'(?<!")\bSUPER\b(?!")')
_JSON_PARSE = re.compile(r'JSON_PARSE\(("[^"]+")\)')
_DESCRIBED = "SELECT column_name, data_type FROM information_schema.columns"
_DESCRIBED_AS_REDSHIFT = (
    "SELECT column_name, CASE WHEN data_type = 'jsonb' THEN 'super' ELSE data_type END"
    " FROM information_schema.columns"
)
_PG_TYPES = {
    pa.int16(): "smallint",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float32(): "real",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
    pa.string(): "text",
    pa.date32(): "date",
    pa.json_(): "text",
}


def _pg_type(data_type: pa.DataType) -> str:
    if pa.types.is_timestamp(data_type):
        return "timestamptz" if data_type.tz else "timestamp"
    if pa.types.is_decimal(data_type):
        return f"numeric({data_type.precision}, {data_type.scale})"
    if pa.types.is_struct(data_type) or pa.types.is_list(data_type):
        return "jsonb"
    return _PG_TYPES[data_type]


def _as_csv_column(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """What CSV can carry: a struct or list as its JSON text, a json document as its text."""
    if pa.types.is_struct(column.type) or pa.types.is_list(column.type):
        texts = [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()]
        return pa.array(texts, pa.string())
    if column.type == pa.json_():
        return column.cast(pa.string())
    return column


@dataclass
class RedshiftStandIn:
    postgres_dsn: str
    postgres_address: tuple[str, int]
    s3_endpoint: str
    statements: list[str] = field(default_factory=list)
    _failures: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    _interruptions: list[_Interruption] = field(default_factory=list)
    _scratch_tables: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> int:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._s3 = boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1")
        threading.Thread(target=self._accept, daemon=True).start()
        return self.port

    def stop(self) -> None:
        self._listener.close()
        with psycopg.connect(self.postgres_dsn, autocommit=True) as connection:
            for table in self._scratch_tables:
                connection.execute(f'DROP TABLE IF EXISTS "{table}"')

    def fail_statement(self, pattern: str, message: str = "injected failure") -> None:
        """Make the next statement matching `pattern` fail on the server, once."""
        with self._lock:
            self._failures.append((re.compile(pattern, re.I | re.S), message))

    def interrupt(
        self, pattern: str, action: Callable[[], object], after: str | None = None
    ) -> None:
        """At the next statement matching `pattern` (once one matching `after` was relayed),
        call `action` instead of relaying it, then close both connections, as the client's
        death would: PostgreSQL rolls back whatever transaction the session had open."""
        with self._lock:
            self._interruptions.append(
                _Interruption(
                    re.compile(pattern, re.I | re.S),
                    action,
                    re.compile(after, re.I | re.S) if after else None,
                )
            )

    def _interrupted(self, sql: str) -> bool:
        with self._lock:
            for interruption in self._interruptions:
                if interruption.after is None and interruption.pattern.search(sql):
                    self._interruptions.remove(interruption)
                    break
                if interruption.after is not None and interruption.after.search(sql):
                    interruption.after = None  # armed: the next matching statement is the one
            else:
                return False
        interruption.action()
        return True

    # the proxy

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(self.postgres_address)
        for end in (client, server):  # relayed small messages must not wait for Nagle
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = _Session()
        try:
            startup = self._startup(client)
            if startup is None:
                return
            server.sendall(startup)
            threading.Thread(target=self._to_client, args=(server, client), daemon=True).start()
            self._to_server(client, server, session)
        except OSError:
            pass
        finally:
            # shutdown first: a bare close() leaves the socket open while the other relaying
            # thread still waits in recv() on it, and PostgreSQL would keep the dead client's
            # transaction (and its table lock) open
            for end in (client, server):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def _startup(self, client: socket.socket) -> bytes | None:
        while True:
            header = _read(client, 8)
            if header is None:
                return None
            length, code = struct.unpack("!ii", header)
            body = _read(client, length - 8) or b""
            if code == SSL_REQUEST:
                client.sendall(b"N")
                continue
            pairs = body.split(b"\0")
            kept = []
            for key, value in zip(pairs[0::2], pairs[1::2], strict=False):
                if key and key not in REDSHIFT_ONLY_STARTUP:
                    kept += [key, value]
            payload = struct.pack("!i", code) + b"\0".join(kept) + b"\0\0"
            return struct.pack("!i", len(payload) + 4) + payload

    def _to_server(self, client: socket.socket, server: socket.socket, session: _Session) -> None:
        while (message := _read_message(client)) is not None:
            kind, body = message
            if kind == b"P":
                name, query, rest = body.split(b"\0", 2)
                sql = query.decode()
                if self._interrupted(sql):
                    return
                body = name + b"\0" + self._rewrite(sql, session).encode() + b"\0" + rest
            elif kind == b"Q":
                sql = body.rstrip(b"\0").decode()
                if self._interrupted(sql):
                    return
                body = self._rewrite(sql, session).encode() + b"\0"
            server.sendall(kind + struct.pack("!i", len(body) + 4) + body)

    def _to_client(self, server: socket.socket, client: socket.socket) -> None:
        try:
            while (message := _read_message(server)) is not None:
                kind, body = message
                if kind == b"S" and body.startswith(b"server_version\0"):
                    version = body.split(b"\0")[1].split()[0]
                    body = b"server_version\0" + version + b"\0"
                client.sendall(kind + struct.pack("!i", len(body) + 4) + body)
        except OSError:
            pass
        finally:
            client.close()

    # what Redshift would have done

    def _rewrite(self, sql: str, session: _Session) -> str:
        if match := _SEARCH_PATH.match(sql):
            session.search_path = match.group(1)
        with self._lock:
            self.statements.append(sql)
            for index, (pattern, message) in enumerate(self._failures):
                if pattern.search(sql):
                    del self._failures[index]
                    return f'SELECT 1 / 0 AS "{message}"'
        if match := _COPY.match(sql):
            serialized = "SERIALIZETOJSON" in sql.upper()
            return self._copy(
                match.group("table"), match.group("columns") or "", match.group("url"), serialized
            )
        if match := _UNLOAD.match(sql):
            query = _unquoted(match.group("query"))
            column = match.group("column").strip().strip('"')
            include = bool(match.group("include"))
            self._unload(query, match.group("prefix"), column, include, session.search_path)
            return "SELECT 1 WHERE false"
        if sql.lstrip().upper().startswith(("CREATE", "ALTER")):
            sql = _SUPER.sub("jsonb", sql)
        if sql.lstrip().upper().startswith("CREATE TABLE"):
            return _REDSHIFT_DDL.sub("", sql)
        return _JSON_PARSE.sub(r"CAST(\1 AS jsonb)", sql).replace(
            _DESCRIBED, _DESCRIBED_AS_REDSHIFT
        )

    def _copy(self, table: str, columns: str, manifest_url: str, serialized: bool) -> str:
        """COPY's effect: the manifest's files into a scratch table, then into `table`'s
        `columns` (COPY's column list: file columns by position) in the client's session."""
        manifest = json.loads(self._get(manifest_url))
        tables = [pq.read_table(io.BytesIO(self._get(e["url"]))) for e in manifest["entries"]]
        data = pa.concat_tables(tables, promote_options="permissive") if tables else None
        scratch = f"standin_copy_{uuid.uuid4().hex[:12]}"
        self._scratch_tables.append(scratch)
        if data is None:
            return f"SELECT 1 WHERE false -- empty manifest for {table}"
        definitions = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in data.schema)
        if not serialized and "jsonb" in definitions:
            return (
                "DO $$ BEGIN RAISE EXCEPTION 'nested parquet columns need SERIALIZETOJSON'; END $$"
            )
        csv = io.BytesIO()
        text = pa.table(
            [_as_csv_column(column) for column in data.columns], names=data.schema.names
        )
        pacsv.write_csv(
            text, csv, pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        )
        with psycopg.connect(self.postgres_dsn, autocommit=True) as connection:
            connection.execute(f'CREATE TABLE "{scratch}" ({definitions})')
            with connection.cursor().copy(f'COPY "{scratch}" FROM STDIN WITH (FORMAT csv)') as copy:
                copy.write(csv.getvalue())
        return f'INSERT INTO {table} {columns} SELECT * FROM "{scratch}"'

    def _unload(
        self, query: str, prefix: str, column: str, include: bool, search_path: str
    ) -> None:
        options = f"-c search_path={search_path}"
        with psycopg.connect(self.postgres_dsn, options=options) as connection:
            cursor = connection.execute(query)
            assert cursor.description is not None, "UNLOAD's query returns rows"
            names = [description.name for description in cursor.description]
            rows = cursor.fetchall()
        table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
        entries: list[dict[str, Any]] = []  # UNLOAD's manifest entries
        if table.num_rows:
            for value in pc.unique(table[column]).to_pylist():
                part = table.filter(pc.equal(table[column], pa.scalar(value, table[column].type)))
                if not include:  # the partition column is the folder's only, as in Redshift
                    part = part.drop_columns([column])
                sink = io.BytesIO()
                pq.write_table(part, sink)
                url = f"{prefix}{column}={value}/0000_part_00.parquet"
                self._put(url, sink.getvalue())
                entries.append(
                    {
                        "url": url,
                        "meta": {"content_length": sink.tell(), "record_count": part.num_rows},
                    }
                )
        manifest = {
            "entries": entries,
            "schema": {"elements": [{"name": name} for name in names]},
            "meta": {
                "content_length": sum(e["meta"]["content_length"] for e in entries),
                "record_count": table.num_rows,
            },
        }
        self._put(f"{prefix}manifest", json.dumps(manifest).encode())

    def _get(self, url: str) -> bytes:
        bucket, key = url.removeprefix("s3://").split("/", 1)
        return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def _put(self, url: str, data: bytes) -> None:
        bucket, key = url.removeprefix("s3://").split("/", 1)
        self._s3.put_object(Bucket=bucket, Key=key, Body=data)


LOCK_SHAPE = re.compile(r'^LOCK TABLE "[a-z_][a-z0-9_]*"\."[a-z_][a-z0-9_]*"$')
UNLOAD_SHAPE = re.compile(
    r"^UNLOAD \('SELECT \* FROM \(.*\) AS export WHERE \"dt\" >= DATE ''\d{4}-\d\d-\d\d''"
    r" AND \"dt\" < DATE ''\d{4}-\d\d-\d\d'''\) TO 's3://[^']+/' IAM_ROLE 'arn:aws:iam::\d{12}:"
    r"role/[\w-]+' FORMAT AS PARQUET PARTITION BY \(\"dt\"\) MANIFEST VERBOSE"
    r" ALLOWOVERWRITE$",
    re.S,
)


def assert_valid_redshift(statements: list[str]) -> None:
    """Each statement parses with sqlglot's Redshift dialect (UNLOAD and LOCK, which sqlglot
    keeps as bare commands, by their exact shape); COPY carries its IAM role and MANIFEST."""
    assert statements
    for sql in statements:
        if sql.upper().startswith("UNLOAD"):
            assert UNLOAD_SHAPE.match(sql), sql
            continue
        if sql.upper().startswith("LOCK"):  # sqlglot keeps LOCK as a bare command too
            assert LOCK_SHAPE.match(sql), sql
            continue
        parsed = sqlglot.parse_one(sql, read="redshift")
        assert not isinstance(parsed, exp.Command), sql  # understood, not passed through
        if isinstance(parsed, exp.Copy):
            text = parsed.sql("redshift")
            assert "IAM_ROLE 'arn:aws:iam::123456789012:role/" in text
            assert re.search(r"FORMAT PARQUET( SERIALIZETOJSON)? MANIFEST$", text), text


@dataclass
class _Interruption:
    pattern: re.Pattern[str]
    action: Callable[[], object]
    after: re.Pattern[str] | None  # None once armed


@dataclass
class _Session:
    """What the stand-in tracks of one client connection."""

    search_path: str = "public"


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_message(sock: socket.socket) -> tuple[bytes, bytes] | None:
    header = _read(sock, 5)
    if header is None:
        return None
    (length,) = struct.unpack("!i", header[1:])
    body = _read(sock, length - 4) if length > 4 else b""
    return None if body is None else (header[:1], body)
