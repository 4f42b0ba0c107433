"""The one place that reads the process's environment: PLATFORM_* → the catalog, where the lake
and its neighbours live (environments.py), the warehouse, and what sources resolve by reference."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from platform_assets.catalog import Catalog, Partitioned, load_catalog
from platform_assets.checks import CHECK_NAMES
from platform_assets.errors import ConfigurationError
from platform_assets.lake import Lake
from platform_assets.lake.iceberg import IcebergCatalog
from platform_assets.partitions import Period
from platform_assets.redaction import remember
from platform_assets.settings.environments import (
    Environment,
    Place,
    StepFunctions,
    environment_from,
)
from platform_assets.sources.kind import SecretRef, Upstream
from platform_assets.storage import Store
from platform_assets.variables import Variables
from platform_assets.warehouse import WAREHOUSES, Warehouse, WarehouseContext, configure_warehouse

PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent
PROJECT_DIRECTORY = PACKAGE_DIRECTORY.parent
LEASE_WAIT_SECONDS = 900.0
LEASE_TTL_SECONDS = 60.0
_PASSED_ON = ("PLATFORM_", "AWS_")  # what a child process needs to resolve the same settings


@dataclass(frozen=True)
class Settings:
    """`local`: everything under PLATFORM_HOME (lake/, warehouse.duckdb, landing/ for files).
    `aws`: the lake on S3, the warehouse on Redshift. PLATFORM_WAREHOUSE picks the warehouse
    apart from the environment."""

    environment: Environment
    home: Path
    catalog_path: Path
    warehouse_name: str
    lease_wait_seconds: float
    lease_ttl_seconds: float
    iceberg: IcebergCatalog | None
    variables: Variables = field(repr=False)
    _open_warehouse: Callable[[], Warehouse] = field(repr=False, compare=False)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path, CHECK_NAMES)

    @cached_property
    def landing(self) -> Store:
        """Where relative `files` paths of the catalog resolve."""
        return self.environment.store(Place.LANDING)

    @cached_property
    def lake(self) -> Lake:
        return Lake(self.environment.store(Place.LAKE), self.iceberg)

    @cached_property
    def warehouse(self) -> Warehouse:
        return self._open_warehouse()

    @cached_property
    def reports(self) -> Store:
        """Where a run that Dagster did not start leaves its report, for the sensor."""
        return self.environment.store(Place.REPORTS)

    @cached_property
    def logs(self) -> Store:
        """Where every run's log lands, under the run's id."""
        return self.environment.store(Place.LOGS)

    @property
    def step_functions(self) -> StepFunctions | None:
        """The state machine Dagster runs main.py through, when settings name one."""
        return self.environment.step_functions

    def client(self, service: str) -> Any:
        """A boto3 client for the aws environment."""
        return self.environment.client(service)

    @cached_property
    def upstream(self) -> Upstream:
        return Upstream(self.landing, self.variable, self.secret)

    def variable(self, name: str) -> str:
        """An environment variable the catalog names (an API's base URL, a database URL)."""
        value = self.variables.get(name)
        if value is None:
            raise ConfigurationError(f"the catalog needs the environment variable {name}")
        return value

    def secret(self, ref: SecretRef) -> str:
        """A secret the catalog names: in aws mode from Secrets Manager when it names a secret
        there, otherwise (and locally) from the environment variable it names."""
        return remember(self.environment.secret(ref, self.variable))

    def lease(
        self, target: Partitioned, periods: Sequence[Period], run_id: str
    ) -> AbstractContextManager[None]:
        """Hold `target`'s partitions against other runs (lake/lease.py): a run over any of them
        waits up to PLATFORM_LEASE_WAIT_SECONDS, then fails; on S3 a dead run's lease expires
        after PLATFORM_LEASE_TTL_SECONDS."""
        return self.lake.lease(
            target.lake_layer,
            target.name,
            target.blocks(periods),
            run_id,
            self.lease_wait_seconds,
            self.lease_ttl_seconds,
        )

    @property
    def main_command(self) -> list[str]:
        """The command that runs main.py with this interpreter."""
        return [sys.executable, str(PROJECT_DIRECTORY / "main.py")]

    def environment_variables(self) -> dict[str, str]:
        """What a child process needs to resolve these same settings."""
        return {
            **self.variables.with_prefix(*_PASSED_ON),
            "PLATFORM_ENV": self.environment.name,
            "PLATFORM_HOME": str(self.home),
            "PLATFORM_CATALOG": str(self.catalog_path),
        }


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """Settings from the environment, every PLATFORM_* variable checked now (nothing connects)."""
    variables = Variables(environ)
    home = Path(variables.get("PLATFORM_HOME", ".platform")).expanduser().resolve()
    catalog = variables.get("PLATFORM_CATALOG")
    catalog_path = (
        Path(catalog).expanduser().resolve() if catalog else PACKAGE_DIRECTORY / "catalog.yaml"
    )
    environment = environment_from(variables, home)
    warehouse_name = variables.choice(
        "PLATFORM_WAREHOUSE", tuple(WAREHOUSES), environment.default_warehouse
    )
    opener = configure_warehouse(
        warehouse_name,
        variables,
        WarehouseContext(
            home=home,
            lake_scheme=environment.lake_scheme,
            lake_store=lambda: environment.store(Place.LAKE),
            secret_string=environment.secret_string,
        ),
    )
    return Settings(
        environment,
        home,
        catalog_path,
        warehouse_name,
        variables.seconds("PLATFORM_LEASE_WAIT_SECONDS", LEASE_WAIT_SECONDS),
        variables.seconds("PLATFORM_LEASE_TTL_SECONDS", LEASE_TTL_SECONDS),
        # every lake table is an Iceberg table too, unless PLATFORM_ICEBERG=off
        environment.iceberg(variables)
        if variables.choice("PLATFORM_ICEBERG", ("on", "off"), "on") == "on"
        else None,
        variables,
        opener,
    )
