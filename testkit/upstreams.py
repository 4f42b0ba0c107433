"""The upstreams a source reads, for a test: landing files (a folder, or an S3 prefix in aws
mode), the sample weather API (or a test's own handler) on loopback, and a fresh client
database (a SQLite file, a PostgreSQL schema or a MariaDB database) to fill."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import boto3
import pyarrow as pa
import sqlalchemy as sa

from samples.client_database import write_table
from samples.weather_api import WeatherApi

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP handler of a test's own on a free loopback port, for the duration; yields its
    base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class JsonHandler(BaseHTTPRequestHandler):
    """A loopback API's handler: answers with JSON (or none), logs nothing."""

    def answer(
        self, status: int, body: object = None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body is not None:
            self.wfile.write(json.dumps(body).encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


class Recorder(JsonHandler):
    """A second host: records each request's headers, answers with no records."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(dict(self.headers))
        self.answer(200, {"items": []})


class Pointing(JsonHandler):
    """A first host: /link answers one record and a next-page link to the host its `to`
    parameter names (with the request's query, as APIs echo it); /moved redirects there."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        other = parse_qs(url.query)["to"][0]
        if url.path == "/moved":
            self.answer(302, headers={"Location": f"{other}/elsewhere"})
        else:
            link = f"{other}/page2?{url.query}"
            self.answer(200, {"items": [{"id": 1}]}, {"Link": f'<{link}>; rel="next"'})


@contextlib.contextmanager
def serving_two_hosts() -> Iterator[tuple[str, str]]:
    """Two servers on loopback, so two origins (the ports differ): Pointing, then the Recorder
    (emptied)."""
    Recorder.seen = []
    with serving(Pointing) as first, serving(Recorder) as second:
        yield first, second


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


def landed(env: Mapping[str, str], tmp_path: Path, files: Mapping[str, str | bytes]) -> str:
    """`files` (relative path → content) where a test's source reads them: a folder locally,
    s3://landing/tests/<tmp_path.name> in aws mode. Returns that folder or URI."""
    if env.get("PLATFORM_ENV") == "aws":
        base = f"s3://landing/tests/{tmp_path.name}"
    else:
        base = str(tmp_path / "landed")
    land(base, files)
    return base


def land(base: str, files: Mapping[str, str | bytes]) -> None:
    """`files` (relative path → content) written below `base`, a folder or an s3:// URI, as
    drops that landed a while ago (`backdated`)."""
    for relative, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        if base.startswith("s3://"):
            bucket, _, prefix = base.removeprefix("s3://").partition("/")
            boto3.client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{relative}", Body=data)
        else:
            path = Path(base) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            backdate(path)


def backdate(path: Path, seconds: float = 60) -> None:
    """A local drop as if written `seconds` ago, so that it is complete at once by the files
    kind's settle rule (read.ready.settle_seconds) rather than watched for a second."""
    landed_at = time.time() - seconds
    os.utime(path, (landed_at, landed_at))
