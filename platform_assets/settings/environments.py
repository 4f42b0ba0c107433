"""PLATFORM_ENV, the one place it matters: where the lake, the landing files, the run reports and
the logs live, and where secrets and AWS clients come from.

`local`: folders under PLATFORM_HOME, secrets from the environment. `aws`: S3 prefixes, secrets
from Secrets Manager, boto3 clients that retry as the lake's filesystem does. The warehouse is
chosen apart from this (PLATFORM_WAREHOUSE, defaulting to the environment's own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake.iceberg import IcebergCatalog
from platform_assets.lake.iceberg_pointer import GluePointer, SqlPointer
from platform_assets.sources.kind import SecretRef
from platform_assets.storage import (
    CONNECT_TIMEOUT_SECONDS,
    REQUEST_ATTEMPTS,
    LocalStore,
    S3Store,
    Store,
    s3_root,
)
from platform_assets.variables import Variables

_READ_TIMEOUT_SECONDS = 60  # boto3's, between bytes (pyarrow's applies on Windows and macOS only)
_GLUE_DATABASE = re.compile(r"^[a-z0-9_]{1,255}$")
_SQL_CATALOG = "platform"  # the local SQL catalog's name, and its namespace
_STATE_MACHINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$"
)


class Place(StrEnum):
    LAKE = "lake"
    LANDING = "landing"  # where the catalog's relative `files` paths resolve
    REPORTS = "reports"  # where a run that Dagster did not start leaves its report
    LOGS = "logs"  # where every run's log lands, under the run's id


@dataclass(frozen=True)
class StepFunctions:
    """Where Dagster sends work in production: the state machine that runs main.py on Batch."""

    state_machine_arn: str
    pipes_bucket: str
    poll_seconds: float


class Environment(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def default_warehouse(self) -> str: ...

    @property
    def lake_scheme(self) -> str:
        """Where the lake's files are: 'file://' or 's3://'."""
        ...

    @property
    def step_functions(self) -> StepFunctions | None: ...

    def store(self, place: Place) -> Store:
        """The store of a place, the same object each time."""
        ...

    def secret(self, ref: SecretRef, variable: Callable[[str], str]) -> str:
        """A secret the catalog names, from the variable it names (`variable` reads it) or from
        Secrets Manager, whichever this environment takes first."""
        ...

    def secret_string(self, name: str) -> str:
        """A Secrets Manager secret's string; the client's errors pass through as they are."""
        ...

    def client(self, service: str) -> Any:
        """A boto3 client (aws only)."""
        ...

    def iceberg(self, variables: Variables) -> IcebergCatalog:
        """Where the lake's tables are registered as Iceberg tables."""
        ...


@dataclass(frozen=True)
class LocalEnvironment:
    home: Path
    name: str = "local"
    default_warehouse: str = "duckdb"
    lake_scheme: str = "file://"
    step_functions: StepFunctions | None = None
    _stores: dict[Place, Store] = field(default_factory=dict, compare=False, repr=False)

    def store(self, place: Place) -> Store:
        if place not in self._stores:
            directory = self.home if place is Place.LANDING else self.home / place
            self._stores[place] = LocalStore(str(directory))
        return self._stores[place]

    def secret(self, ref: SecretRef, variable: Callable[[str], str]) -> str:
        """The variable; Secrets Manager (AWS's default chain) only if the catalog names none."""
        if ref.env is not None:
            return variable(ref.env)
        return secret_value(self.secret_string, ref)

    def secret_string(self, name: str) -> str:
        import boto3

        return boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]

    def client(self, service: str) -> Any:
        raise ConfigurationError(f"{service} is only used with PLATFORM_ENV=aws")

    def iceberg(self, variables: Variables) -> IcebergCatalog:
        """A SQL catalog in a SQLite file under PLATFORM_HOME (PLATFORM_ICEBERG_CATALOG)."""
        path = Path(variables.get("PLATFORM_ICEBERG_CATALOG", str(self.home / "iceberg.sqlite")))
        lake = self.store(Place.LAKE)

        def connect() -> Any:
            from pyiceberg.catalog.sql import SqlCatalog

            path.parent.mkdir(parents=True, exist_ok=True)
            return SqlCatalog(_SQL_CATALOG, uri=f"sqlite:///{path}", warehouse=lake.url(lake.root))

        return IcebergCatalog(
            connect,
            SqlPointer(path, _SQL_CATALOG),
            _SQL_CATALOG,
            f"SQL catalog {path}",
            "pyiceberg.catalog.sql",
            True,
        )


@dataclass(frozen=True)
class AwsEnvironment:
    uris: dict[Place, str]
    region: str
    endpoint_url: str | None
    step_functions: StepFunctions | None
    name: str = "aws"
    default_warehouse: str = "redshift"
    lake_scheme: str = "s3://"
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _stores: dict[Place, Store] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_variables(cls, variables: Variables) -> AwsEnvironment:
        lake = variables.required("PLATFORM_LAKE_URI", "PLATFORM_ENV=aws")
        under_lake = lake.rstrip("/")
        environment = cls(
            uris={
                Place.LAKE: lake,
                Place.LANDING: variables.get("PLATFORM_LANDING_URI", lake),
                Place.REPORTS: variables.get("PLATFORM_REPORTS_URI", f"{under_lake}/_reports"),
                Place.LOGS: variables.get("PLATFORM_LOGS_URI", f"{under_lake}/_logs"),
            },
            region=variables.get("AWS_REGION", variables.get("AWS_DEFAULT_REGION", "us-east-1")),
            endpoint_url=variables.get("AWS_ENDPOINT_URL"),
            step_functions=_step_functions(variables),
        )
        for uri in environment.uris.values():
            try:
                s3_root(uri)
            except ValueError as error:
                raise ConfigurationError(str(error)) from None
        return environment

    def store(self, place: Place) -> Store:
        if place not in self._stores:
            client = self.client("s3")
            self._stores[place] = S3Store(self.uris[place], self.region, self.endpoint_url, client)
        return self._stores[place]

    def secret(self, ref: SecretRef, variable: Callable[[str], str]) -> str:
        """Secrets Manager; the variable only if the catalog names no secret there."""
        if ref.aws_secret is None:
            return variable(str(ref.env))
        return secret_value(self.secret_string, ref)

    def secret_string(self, name: str) -> str:
        return self.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]

    def iceberg(self, variables: Variables) -> IcebergCatalog:
        """The Glue Data Catalog's database PLATFORM_GLUE_DATABASE."""
        database = variables.matching(
            "PLATFORM_GLUE_DATABASE", _GLUE_DATABASE, "a Glue database name", "PLATFORM_ENV=aws"
        )
        properties = {"glue.region": self.region, "s3.region": self.region}
        if self.endpoint_url:
            properties |= {"glue.endpoint": self.endpoint_url, "s3.endpoint": self.endpoint_url}

        def connect() -> Any:
            from pyiceberg.catalog.glue import GlueCatalog

            return GlueCatalog("platform", **properties)

        return IcebergCatalog(
            connect,
            GluePointer(lambda: self.client("glue")),
            database,
            f"Glue database {database}",
            "pyiceberg.catalog.glue",
            False,
        )

    def client(self, service: str) -> Any:
        """One boto3 client per service (each loads botocore's service model); requests
        are retried as the lake's filesystem retries them."""
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            self._clients[service] = boto3.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": REQUEST_ATTEMPTS},
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=_READ_TIMEOUT_SECONDS,
                ),
            )
        return self._clients[service]


def secret_value(secret_string: Callable[[str], str], ref: SecretRef) -> str:
    """The secret `ref` names in Secrets Manager: its string, or the key `field` of its JSON."""
    name = str(ref.aws_secret)
    try:
        text = secret_string(name)
        return str(json.loads(text)[ref.field]) if ref.field else text
    except Exception as error:  # boto3's and JSON's errors: one line either way
        raise RunError(f"cannot read secret {name}: {error}") from None


def _step_functions(variables: Variables) -> StepFunctions | None:
    """Set when PLATFORM_STATE_MACHINE_ARN is: Dagster then runs main.py through it."""
    if variables.get("PLATFORM_STATE_MACHINE_ARN") is None:
        return None
    return StepFunctions(
        variables.matching(
            "PLATFORM_STATE_MACHINE_ARN",
            _STATE_MACHINE_ARN,
            "a state machine ARN",
            "Step Functions",
        ),
        variables.required("PLATFORM_PIPES_BUCKET", "PLATFORM_STATE_MACHINE_ARN"),
        variables.seconds("PLATFORM_POLL_SECONDS", 10),
    )


def environment_from(variables: Variables, home: Path) -> Environment:
    name = variables.choice("PLATFORM_ENV", ("local", "aws"), "local")
    return LocalEnvironment(home) if name == "local" else AwsEnvironment.from_variables(variables)
