"""The one place that reads the environment: PLATFORM_* → the concrete lake and warehouse."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from platform_assets.catalog import Catalog, load_catalog
from platform_assets.errors import ConfigurationError
from platform_assets.lake import Lake
from platform_assets.storage import Store
from platform_assets.warehouse import Warehouse
from platform_assets.warehouse.duckdb import DuckDBWarehouse

PACKAGE_DIRECTORY = Path(__file__).resolve().parent
PROJECT_DIRECTORY = PACKAGE_DIRECTORY.parent
ENVIRONMENTS = ("local",)


@dataclass(frozen=True)
class Settings:
    """`local`: everything under PLATFORM_HOME (lake/, warehouse.duckdb, landing/ for files)."""

    environment: str
    home: Path
    catalog_path: Path

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path)

    @property
    def landing(self) -> Store:
        """Where relative `files` paths of the catalog resolve: PLATFORM_HOME."""
        return Store.local(str(self.home))

    @property
    def lake(self) -> Lake:
        return Lake(Store.local(str(self.home / "lake")))

    @property
    def warehouse(self) -> Warehouse:
        return DuckDBWarehouse(self.home / "warehouse.duckdb")

    @property
    def main_command(self) -> list[str]:
        """The command that runs main.py with this interpreter."""
        return [sys.executable, str(PROJECT_DIRECTORY / "main.py")]

    def environment_variables(self) -> dict[str, str]:
        """What a child process needs to resolve these same settings."""
        return {
            "PLATFORM_ENV": self.environment,
            "PLATFORM_HOME": str(self.home),
            "PLATFORM_CATALOG": str(self.catalog_path),
        }


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    environment = environ.get("PLATFORM_ENV", "local")
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PLATFORM_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}"
        )
    home = Path(environ.get("PLATFORM_HOME") or ".platform").expanduser().resolve()
    catalog = environ.get("PLATFORM_CATALOG")
    catalog_path = (
        Path(catalog).expanduser().resolve() if catalog else PACKAGE_DIRECTORY / "catalog.yaml"
    )
    return Settings(environment=environment, home=home, catalog_path=catalog_path)
