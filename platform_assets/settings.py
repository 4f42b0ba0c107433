"""The one place that reads the environment: PLATFORM_* → the concrete lake and warehouse."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from platform_assets.catalog import Catalog, Partitioned, load_catalog
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.identifiers import quote
from platform_assets.lake import Lake
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.sources.kind import SecretRef, Upstream
from platform_assets.storage import (
    CONNECT_TIMEOUT_SECONDS,
    REQUEST_ATTEMPTS,
    LocalStore,
    S3Store,
    Store,
)
from platform_assets.warehouse import Warehouse
from platform_assets.warehouse.duckdb import MEMORY_LIMIT as DUCKDB_MEMORY_LIMIT
from platform_assets.warehouse.duckdb import DuckDBWarehouse
from platform_assets.warehouse.redshift import RedshiftWarehouse

PACKAGE_DIRECTORY = Path(__file__).resolve().parent
PROJECT_DIRECTORY = PACKAGE_DIRECTORY.parent
ENVIRONMENTS = ("local", "aws")
LEASE_WAIT_SECONDS = 900.0
LEASE_TTL_SECONDS = 60.0
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_PASSED_ON = re.compile(r"^(PLATFORM_|AWS_)")
_READ_TIMEOUT_SECONDS = 60  # boto3's, between bytes (pyarrow's applies on Windows and macOS only)
_STATE_MACHINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$"
)


@dataclass(frozen=True)
class Redshift:
    """Where the warehouse is; the password comes from the environment or Secrets Manager."""

    host: str
    port: int
    database: str
    user: str
    schema: str
    iam_role: str
    ssl: bool
    password: str | None = field(default=None, repr=False)
    secret_arn: str | None = None

    def connect(self, aws: Aws) -> Any:
        import redshift_connector

        password = self.password
        if password is None:
            assert self.secret_arn is not None  # _aws() requires one of the two
            password = aws.secret_password(self.secret_arn)
        return redshift_connector.connect(
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=password,
            ssl=self.ssl,
            timeout=60,
        )


@dataclass(frozen=True)
class StepFunctions:
    """Where Dagster sends work in production: the state machine that runs main.py on Batch."""

    state_machine_arn: str
    pipes_bucket: str
    poll_seconds: float


@dataclass(frozen=True)
class Aws:
    lake_uri: str
    landing_uri: str
    reports_uri: str
    logs_uri: str
    region: str
    endpoint_url: str | None
    redshift: Redshift
    step_functions: StepFunctions | None
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _secrets: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def client(self, service: str) -> Any:
        """One boto3 client per service (creating one costs ~0.1 s of model loading); requests
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

    def secret_password(self, secret_arn: str) -> str:
        """The `password` of a Secrets Manager secret (Redshift's managed one has that shape)."""
        if secret_arn not in self._secrets:
            try:
                secret = self.client("secretsmanager").get_secret_value(SecretId=secret_arn)
                self._secrets[secret_arn] = json.loads(secret["SecretString"])["password"]
            except Exception as error:  # boto3's and JSON's errors: one line either way
                raise RunError(
                    f"cannot read the Redshift password from {secret_arn}: {error}"
                ) from None
        return self._secrets[secret_arn]

    def store(self, uri: str) -> S3Store:
        try:
            return S3Store(uri, self.region, self.endpoint_url, self.client("s3"))
        except ValueError as error:
            raise ConfigurationError(str(error)) from None


@dataclass(frozen=True)
class Settings:
    """`local`: everything under PLATFORM_HOME (lake/, warehouse.duckdb, landing/ for files).
    `aws`: the lake on S3, the warehouse on Redshift (`aws` holds where)."""

    environment: str
    home: Path
    catalog_path: Path
    aws: Aws | None = None
    passed_on: Mapping[str, str] = field(default_factory=dict, repr=False)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path)

    @cached_property
    def landing(self) -> Store:
        """Where relative `files` paths of the catalog resolve."""
        if self.aws:
            return self.aws.store(self.aws.landing_uri)
        return LocalStore(str(self.home))

    @cached_property
    def lake(self) -> Lake:
        if self.aws:
            return Lake(self.aws.store(self.aws.lake_uri))
        return Lake(LocalStore(str(self.home / "lake")))

    @cached_property
    def warehouse(self) -> Warehouse:
        if self.aws:
            aws = self.aws
            redshift = aws.redshift
            return RedshiftWarehouse(
                lambda: redshift.connect(aws), redshift.schema, redshift.iam_role, self.lake.store
            )
        return DuckDBWarehouse(
            self.home / "warehouse.duckdb",
            self.environ.get("PLATFORM_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT,
        )

    @cached_property
    def upstream(self) -> Upstream:
        return Upstream(self.landing, self.variable, self.secret)

    def variable(self, name: str) -> str:
        """An environment variable the catalog names (an API's base URL, a database URL)."""
        value = self.environ.get(name, "").strip()
        if not value:
            raise ConfigurationError(f"the catalog needs the environment variable {name}")
        return value

    def secret(self, ref: SecretRef) -> str:
        """A secret the catalog names: in aws mode from Secrets Manager when it names a secret
        there, otherwise (and locally) from the environment variable it names."""
        if ref.env is not None and (self.aws is None or ref.aws_secret is None):
            return self.variable(ref.env)
        client = self.aws.client("secretsmanager") if self.aws else _default_client()
        try:
            text = client.get_secret_value(SecretId=ref.aws_secret)["SecretString"]
            return json.loads(text)[ref.field] if ref.field else text
        except Exception as error:  # boto3's and JSON's errors: one line either way
            raise RunError(f"cannot read secret {ref.aws_secret}: {error}") from None

    def lease(
        self, layer: Layer, target: Partitioned, periods: Sequence[Period], run_id: str
    ) -> AbstractContextManager[None]:
        """Hold `target`'s partitions against other runs (lake/lease.py): a run over any of them
        waits up to PLATFORM_LEASE_WAIT_SECONDS, then fails; on S3 a dead run's lease expires
        after PLATFORM_LEASE_TTL_SECONDS."""
        return self.lake.lease(
            layer,
            target.name,
            target.blocks(periods),
            run_id,
            _seconds(self.environ, "PLATFORM_LEASE_WAIT_SECONDS", LEASE_WAIT_SECONDS),
            _seconds(self.environ, "PLATFORM_LEASE_TTL_SECONDS", LEASE_TTL_SECONDS),
        )

    @property
    def warehouse_kind(self) -> str:
        return "redshift" if self.aws else "duckdb"

    @cached_property
    def reports(self) -> Store:
        """Where a run that Dagster did not start leaves its report, for the sensor."""
        if self.aws:
            return self.aws.store(self.aws.reports_uri)
        return LocalStore(str(self.home / "reports"))

    @cached_property
    def logs(self) -> Store:
        """Where every run's log lands, under the run's id."""
        if self.aws:
            return self.aws.store(self.aws.logs_uri)
        return LocalStore(str(self.home / "logs"))

    def s3_client(self) -> Any:
        if not self.aws:
            raise ConfigurationError("S3 is only used with PLATFORM_ENV=aws")
        return self.aws.client("s3")

    @property
    def main_command(self) -> list[str]:
        """The command that runs main.py with this interpreter."""
        return [sys.executable, str(PROJECT_DIRECTORY / "main.py")]

    def environment_variables(self) -> dict[str, str]:
        """What a child process needs to resolve these same settings."""
        return {
            **self.passed_on,
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
    return Settings(
        environment=environment,
        home=home,
        catalog_path=catalog_path,
        aws=_aws(environ) if environment == "aws" else None,
        passed_on={name: value for name, value in environ.items() if _PASSED_ON.match(name)},
        environ=dict(environ),
    )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConfigurationError(f"{name}={value!r} is not a number of seconds")
    return seconds


def _default_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def _aws(environ: Mapping[str, str]) -> Aws:
    def required(name: str) -> str:
        value = environ.get(name, "").strip()
        if not value:
            raise ConfigurationError(f"PLATFORM_ENV=aws needs {name}")
        return value

    lake_uri = required("PLATFORM_LAKE_URI")
    password = environ.get("PLATFORM_REDSHIFT_PASSWORD") or None
    secret_arn = environ.get("PLATFORM_REDSHIFT_SECRET_ARN") or None
    if not password and not secret_arn:
        raise ConfigurationError(
            "PLATFORM_ENV=aws needs PLATFORM_REDSHIFT_SECRET_ARN (or PLATFORM_REDSHIFT_PASSWORD)"
        )
    iam_role = required("PLATFORM_REDSHIFT_IAM_ROLE")
    if not _ROLE_ARN.match(iam_role):
        raise ConfigurationError(f"PLATFORM_REDSHIFT_IAM_ROLE={iam_role!r} is not an IAM role ARN")
    schema = environ.get("PLATFORM_REDSHIFT_SCHEMA", "public")
    quote(schema)  # refuses anything but a plain identifier
    port = environ.get("PLATFORM_REDSHIFT_PORT", "5439")
    if not port.isdigit():
        raise ConfigurationError(f"PLATFORM_REDSHIFT_PORT={port!r} is not a port number")
    ssl = environ.get("PLATFORM_REDSHIFT_SSL", "true").lower()
    if ssl not in ("true", "false"):
        raise ConfigurationError(f"PLATFORM_REDSHIFT_SSL={ssl!r} must be true or false")
    return Aws(
        lake_uri=lake_uri,
        landing_uri=environ.get("PLATFORM_LANDING_URI") or lake_uri,
        reports_uri=environ.get("PLATFORM_REPORTS_URI") or f"{lake_uri.rstrip('/')}/_reports",
        logs_uri=environ.get("PLATFORM_LOGS_URI") or f"{lake_uri.rstrip('/')}/_logs",
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=environ.get("AWS_ENDPOINT_URL") or None,
        redshift=Redshift(
            host=required("PLATFORM_REDSHIFT_HOST"),
            port=int(port),
            database=environ.get("PLATFORM_REDSHIFT_DATABASE", "dev"),
            user=required("PLATFORM_REDSHIFT_USER"),
            schema=schema,
            iam_role=iam_role,
            ssl=ssl == "true",
            password=password,
            secret_arn=secret_arn,
        ),
        step_functions=_step_functions(environ),
    )


def _step_functions(environ: Mapping[str, str]) -> StepFunctions | None:
    """Set when PLATFORM_STATE_MACHINE_ARN is: Dagster then runs main.py through it."""
    arn = environ.get("PLATFORM_STATE_MACHINE_ARN", "").strip()
    if not arn:
        return None
    if not _STATE_MACHINE_ARN.match(arn):
        raise ConfigurationError(f"PLATFORM_STATE_MACHINE_ARN={arn!r} is not a state machine ARN")
    bucket = environ.get("PLATFORM_PIPES_BUCKET", "").strip()
    if not bucket:
        raise ConfigurationError("PLATFORM_STATE_MACHINE_ARN needs PLATFORM_PIPES_BUCKET")
    poll = environ.get("PLATFORM_POLL_SECONDS", "10")
    try:
        poll_seconds = float(poll)
    except ValueError:
        raise ConfigurationError(f"PLATFORM_POLL_SECONDS={poll!r} is not a number") from None
    return StepFunctions(arn, bucket, poll_seconds)
