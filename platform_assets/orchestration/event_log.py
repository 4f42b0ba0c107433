"""Dagster's PostgreSQL event log, keeping its connection open between events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)

# dagster-postgres connects anew for every event it stores (a NullPool): a run planning a year of
# partitions stores 730 planned events one by one, each a connection set up and torn down (TLS
# and authentication included on RDS). A pool of one, checked before use, keeps one open.
POOL = {"pool_size": 1, "max_overflow": 4, "pool_recycle": 3600, "pool_pre_ping": True}


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
