"""Dagster's event logs on PostgreSQL (the deployment's, keeping its connection open between
events) and on SQLite (the local default, keeping its engines)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool

# dagster-postgres connects anew for every event it stores (a NullPool): a run planning a year of
# partitions stores 730 planned events one by one, each a connection set up and torn down (TLS
# and authentication included on RDS). A pool of one, checked before use, keeps one open.
POOL = {"pool_size": 1, "max_overflow": 4, "pool_recycle": 3600, "pool_pre_ping": True}
# a process writes the index shard and a run's own at once (a webserver reads many runs')
SQLITE_ENGINES_KEPT = 4


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """`PostgresEventLogStorage` with a pool of one connection (deploy/dagster.yaml names it)."""

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url, self._token_provider, isolation_level="AUTOCOMMIT", **POOL
        )

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class KeptEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` (the local default) keeping the engines of the shards it used
    last: Dagster's makes an engine per stored event, and its set-up (dialect, pool, first
    connect) costs more than the event's insert. Each connection still closes after its event,
    as Dagster's does: SQLite then checkpoints its write-ahead log into the shard's file, whose
    change is what a run's log watcher (the UI's live logs) waits for."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> KeptEngineSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=NullPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            self._engines[shard] = engine  # the most recently used last
            while len(self._engines) > SQLITE_ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
            with engine.connect() as connection, connection.begin():
                yield connection

    def wipe(self) -> None:
        """Dagster's wipe deletes the run shards' files: their engines go too, so that a shard
        used again is created and initialised anew."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().wipe()
