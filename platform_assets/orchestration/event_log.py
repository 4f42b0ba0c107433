"""Dagster's event logs on PostgreSQL (the deployment's, keeping its connection open between
events) and on SQLite (the local default, keeping its engines), both storing a batch of asset
events at once where Dagster's store them one by one."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.event_log.event_log import CHANNEL_NAME
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)
from sqlalchemy import Connection, Engine, create_engine, text
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

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """A batch's asset events in one insert, with their tags and asset entries
        (`_store_asset_entries`) in the same transaction: dagster-postgres's own stores only a
        batch of materializations so, and a run's planned events one by one."""
        asset_events, others = _asset_events_first(events)
        if asset_events:
            with self.index_transaction() as connection:
                insert = self.prepare_insert_event_batch(asset_events)
                inserted = connection.execute(
                    insert.returning(SqlEventLogStorageTable.c.run_id, SqlEventLogStorageTable.c.id)
                ).all()
                # as dagster-postgres's `store_event` notifies, for listeners of older versions
                run_id, last_id = inserted[-1]
                connection.execute(
                    text(f"NOTIFY {CHANNEL_NAME}, :notify_id"), {"notify_id": f"{run_id}_{last_id}"}
                )
                event_ids = [int(event_id) for _, event_id in inserted]
                _store_asset_entries(self, connection, asset_events, event_ids)
        for event in others:
            self.store_event(event)

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

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """A batch's asset events in their run's shard in one transaction, and mirrored into the
        index shard in one more, with their tags and asset entries (`_store_asset_entries`)."""
        asset_events, others = _asset_events_first(events)
        rows = [self._event_to_row(event) for event in asset_events]  # one row, both shards
        runs: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for event, row in zip(asset_events, rows, strict=True):
            runs[event.run_id].append(row)
        for run_id, run_rows in runs.items():
            with self.run_connection(run_id) as connection:
                connection.execute(SqlEventLogStorageTable.insert(), run_rows)
        if asset_events:
            with self.index_transaction() as connection:
                # one by one: SQLite's RETURNING gives a multi-row insert's ids in no set order
                event_ids = [
                    _inserted_id(connection, SqlEventLogStorageTable.insert().values(**row))
                    for row in rows
                ]
                _store_asset_entries(self, connection, asset_events, event_ids)
        for event in others:
            self.store_event(event)

    def wipe(self) -> None:
        """Dagster's wipe deletes the run shards' files: their engines go too, so that a shard
        used again is created and initialised anew."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().wipe()


def _asset_events_first(
    events: Sequence[EventLogEntry],
) -> tuple[list[EventLogEntry], list[EventLogEntry]]:
    """A batch's asset events, which go to the asset tables too, and the others (an asset check's
    planned evaluation), which are stored one by one after them. Dagster hands over batches only
    with `DAGSTER_EVENT_BATCH_SIZE` set: a run's planned events at its creation, a step's
    materializations of one asset."""
    asset_events: list[EventLogEntry] = []
    others: list[EventLogEntry] = []
    for event in events:
        dagster_event = event.dagster_event
        is_asset_event = (
            dagster_event is not None
            and dagster_event.event_type in ASSET_EVENTS
            and dagster_event.asset_key is not None
        )
        (asset_events if is_asset_event else others).append(event)
    return asset_events, others


def _store_asset_entries(
    storage: SqlEventLogStorage,
    connection: Connection,
    events: Sequence[EventLogEntry],
    event_ids: Sequence[int],
) -> None:
    """What `store_event` writes for each asset event besides the event itself: its tags, and its
    asset's entry. The columns an event sets in the entry depend on its kind alone, so the last
    event of each asset and kind, in order, leaves the entry as all of them one by one would."""
    storage._store_asset_event_tags(connection, events, event_ids)
    last: dict[tuple[str, str], tuple[EventLogEntry, int]] = {}
    for event, event_id in zip(events, event_ids, strict=True):
        dagster_event = event.get_dagster_event()
        kind = (dagster_event.asset_key.to_string(), dagster_event.event_type_value)  # type: ignore[union-attr]
        last.pop(kind, None)  # the order is of each kind's last event
        last[kind] = (event, event_id)
    for event, event_id in last.values():
        storage._store_asset_event(connection, event, event_id)


def _inserted_id(connection: Connection, insert: Any) -> int:
    """The event id an insert into the index shard gave (Dagster's asset tables refer to it)."""
    key = connection.execute(insert).inserted_primary_key
    if key is None or key[0] is None:
        raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")
    return int(key[0])
