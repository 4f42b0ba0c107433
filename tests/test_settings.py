"""load_settings: the environments' places, the warehouse's choice, what a child process gets,
lease seconds, and secrets (locally and against the moto server's Secrets Manager)."""

import json
import os
import uuid
from pathlib import Path

import boto3
import pytest

from platform_assets.errors import ConfigurationError, RunError
from platform_assets.settings import PACKAGE_DIRECTORY, load_settings
from platform_assets.settings.environments import Place, StepFunctions
from platform_assets.sources.kind import SecretRef
from platform_assets.storage import LocalStore, S3Store
from platform_assets.warehouse.duckdb import DuckDBWarehouse

ROLE = "arn:aws:iam::123456789012:role/platform-redshift-copy"
STATE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:platform"
REDSHIFT = {
    "PLATFORM_REDSHIFT_HOST": "127.0.0.1",
    "PLATFORM_REDSHIFT_USER": "loader",
    "PLATFORM_REDSHIFT_PASSWORD": "not-used",
    "PLATFORM_REDSHIFT_IAM_ROLE": ROLE,
}
AWS = {
    "PLATFORM_ENV": "aws",
    "PLATFORM_LAKE_URI": "s3://lake-bucket/lake/",
    "PLATFORM_GLUE_DATABASE": "platform",  # the Iceberg tables' catalog (PLATFORM_ICEBERG=on)
    **REDSHIFT,
}


def configuration_error(environ) -> str:
    """The one line load_settings refuses `environ` with."""
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ)
    text = str(raised.value)
    assert "\n" not in text
    return text


# local


def test_local_settings_keep_everything_under_platform_home(tmp_path):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path)})
    assert settings.environment.name == "local"
    assert settings.warehouse_name == "duckdb"
    assert settings.catalog_path == PACKAGE_DIRECTORY / "catalog.yaml"
    assert settings.step_functions is None
    stores = {
        "lake": settings.lake.store,
        "landing": settings.landing,
        "reports": settings.reports,
        "logs": settings.logs,
    }
    assert all(isinstance(store, LocalStore) for store in stores.values())
    assert {place: store.root for place, store in stores.items()} == {
        "lake": str(tmp_path / "lake"),
        "landing": str(tmp_path),
        "reports": str(tmp_path / "reports"),
        "logs": str(tmp_path / "logs"),
    }
    assert isinstance(settings.warehouse, DuckDBWarehouse)
    assert settings.warehouse.path == tmp_path / "warehouse.duckdb"


def test_each_place_is_one_store_object_however_often_it_is_asked_for(tmp_path):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path)})
    assert settings.environment.store(Place.LAKE) is settings.lake.store
    assert settings.environment.store(Place.LOGS) is settings.environment.store(Place.LOGS)
    assert settings.environment.store(Place.LANDING) is settings.landing


def test_relative_and_home_relative_paths_are_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"PLATFORM_HOME": "homes/a", "PLATFORM_CATALOG": "my/catalog.yaml"})
    assert settings.home == tmp_path / "homes" / "a"
    assert settings.catalog_path == tmp_path / "my" / "catalog.yaml"
    assert load_settings({"PLATFORM_HOME": "~/platform"}).home == Path.home() / "platform"


def test_a_blank_platform_home_means_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({"PLATFORM_HOME": "  "}).home == tmp_path / ".platform"


def test_aws_clients_are_refused_locally(tmp_path):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path)})
    with pytest.raises(ConfigurationError, match=r"^s3 is only used with PLATFORM_ENV=aws$"):
        settings.client("s3")


def test_an_unknown_environment_is_refused():
    assert configuration_error({"PLATFORM_ENV": "production"}) == (
        "PLATFORM_ENV='production' is not one of local, aws"
    )


# aws


def test_aws_settings_put_reports_and_logs_under_the_lake_unless_told_otherwise():
    settings = load_settings({**AWS, "AWS_REGION": "eu-west-1"})
    environment = settings.environment
    assert environment.name == "aws"
    assert settings.warehouse_name == "redshift"
    assert environment.uris == {
        "lake": "s3://lake-bucket/lake/",
        "landing": "s3://lake-bucket/lake/",
        "reports": "s3://lake-bucket/lake/_reports",
        "logs": "s3://lake-bucket/lake/_logs",
    }
    assert environment.region == "eu-west-1"
    assert environment.endpoint_url is None
    assert settings.step_functions is None
    assert isinstance(settings.lake.store, S3Store)
    assert settings.lake.store.root == "lake-bucket/lake"
    assert settings.reports.root == "lake-bucket/lake/_reports"


def test_aws_places_and_endpoint_can_each_be_set():
    settings = load_settings(
        {
            **AWS,
            "PLATFORM_LANDING_URI": "s3://drops/in",
            "PLATFORM_REPORTS_URI": "s3://ops/reports",
            "PLATFORM_LOGS_URI": "s3://ops/logs",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        }
    )
    assert settings.environment.uris == {
        "lake": "s3://lake-bucket/lake/",
        "landing": "s3://drops/in",
        "reports": "s3://ops/reports",
        "logs": "s3://ops/logs",
    }
    assert settings.landing.root == "drops/in"
    assert settings.environment.endpoint_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("region_variables", "region"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({}, "us-east-1"),
    ],
)
def test_the_region_is_aws_region_then_aws_default_region_then_us_east_1(region_variables, region):
    assert load_settings({**AWS, **region_variables}).environment.region == region


def test_a_state_machine_arn_names_the_step_functions_dagster_runs_through():
    settings = load_settings(
        {**AWS, "PLATFORM_STATE_MACHINE_ARN": STATE_MACHINE, "PLATFORM_PIPES_BUCKET": "pipes"}
    )
    assert settings.step_functions == StepFunctions(STATE_MACHINE, "pipes", 10.0)
    settings = load_settings(
        {
            **AWS,
            "PLATFORM_STATE_MACHINE_ARN": STATE_MACHINE,
            "PLATFORM_PIPES_BUCKET": "pipes",
            "PLATFORM_POLL_SECONDS": "0.5",
        }
    )
    assert settings.step_functions == StepFunctions(STATE_MACHINE, "pipes", 0.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PLATFORM_LAKE_URI": ""}, "PLATFORM_ENV=aws needs PLATFORM_LAKE_URI"),
        ({"PLATFORM_LAKE_URI": "lake-bucket/lake"}, "'lake-bucket/lake' is not an s3://"),
        ({"PLATFORM_LAKE_URI": "s3://"}, "'s3://' is not an s3://bucket/prefix URI"),
        ({"PLATFORM_LANDING_URI": "file:///drops"}, "'file:///drops' is not an s3://"),
        ({"PLATFORM_REPORTS_URI": "reports"}, "'reports' is not an s3://bucket/prefix URI"),
        ({"PLATFORM_LOGS_URI": "https://logs"}, "'https://logs' is not an s3://bucket/prefix"),
        (
            {"PLATFORM_STATE_MACHINE_ARN": "platform"},
            "PLATFORM_STATE_MACHINE_ARN='platform' is not a state machine ARN",
        ),
        (
            {"PLATFORM_STATE_MACHINE_ARN": STATE_MACHINE},
            "PLATFORM_STATE_MACHINE_ARN needs PLATFORM_PIPES_BUCKET",
        ),
        (
            {
                "PLATFORM_STATE_MACHINE_ARN": STATE_MACHINE,
                "PLATFORM_PIPES_BUCKET": "pipes",
                "PLATFORM_POLL_SECONDS": "soon",
            },
            "PLATFORM_POLL_SECONDS='soon' is not a number of seconds",
        ),
        (
            {"PLATFORM_REDSHIFT_HOST": ""},
            "PLATFORM_WAREHOUSE=redshift needs PLATFORM_REDSHIFT_HOST",
        ),
        (
            {"PLATFORM_REDSHIFT_USER": ""},
            "PLATFORM_WAREHOUSE=redshift needs PLATFORM_REDSHIFT_USER",
        ),
        (
            {"PLATFORM_REDSHIFT_PASSWORD": ""},
            "PLATFORM_WAREHOUSE=redshift needs PLATFORM_REDSHIFT_SECRET_ARN"
            " (or PLATFORM_REDSHIFT_PASSWORD)",
        ),
        (
            {"PLATFORM_REDSHIFT_IAM_ROLE": ""},
            "PLATFORM_WAREHOUSE=redshift needs PLATFORM_REDSHIFT_IAM_ROLE",
        ),
        (
            {"PLATFORM_REDSHIFT_IAM_ROLE": "admin"},
            "PLATFORM_REDSHIFT_IAM_ROLE='admin' is not an IAM role ARN",
        ),
        ({"PLATFORM_REDSHIFT_PORT": "redshift"}, "PLATFORM_REDSHIFT_PORT='redshift' is not a port"),
        ({"PLATFORM_REDSHIFT_SSL": "on"}, "PLATFORM_REDSHIFT_SSL='on' must be true or false"),
        ({"PLATFORM_REDSHIFT_SCHEMA": "a b"}, "'a b' is not a valid SQL identifier"),
    ],
)
def test_bad_aws_settings_are_refused_with_one_line_naming_the_variable(change, message):
    assert configuration_error({**AWS, **change}).startswith(message)


def test_a_redshift_secret_arn_stands_in_for_the_password():
    settings = load_settings(
        {
            **AWS,
            "PLATFORM_REDSHIFT_PASSWORD": "",
            "PLATFORM_REDSHIFT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x",
        }
    )
    assert settings.warehouse_name == "redshift"


def test_a_lake_uri_without_a_bucket_is_refused():
    configuration_error({**AWS, "PLATFORM_LAKE_URI": "s3:///lake"})


# the warehouse


@pytest.mark.parametrize(
    ("environment", "warehouse"), [({}, "duckdb"), (AWS, "redshift")], ids=["local", "aws"]
)
def test_the_warehouse_defaults_to_the_environments_own(tmp_path, environment, warehouse):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path), **environment})
    assert settings.warehouse_name == warehouse


def test_platform_warehouse_chooses_the_warehouse_apart_from_the_environment(tmp_path):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path), "PLATFORM_WAREHOUSE": "duckdb"})
    assert settings.warehouse_name == "duckdb"
    settings = load_settings({**AWS, "PLATFORM_WAREHOUSE": "redshift"})
    assert settings.warehouse_name == "redshift"


def test_an_unknown_warehouse_is_refused(tmp_path):
    assert configuration_error(
        {"PLATFORM_HOME": str(tmp_path), "PLATFORM_WAREHOUSE": "snowflake"}
    ) == ("PLATFORM_WAREHOUSE='snowflake' is not one of duckdb, redshift")


def test_duckdb_cannot_load_the_lake_on_s3():
    assert configuration_error({**AWS, "PLATFORM_WAREHOUSE": "duckdb"}) == (
        "PLATFORM_WAREHOUSE=duckdb loads a lake on this machine's disk;"
        " with PLATFORM_ENV=aws use redshift"
    )


def test_redshift_cannot_load_a_local_lake(tmp_path):
    assert configuration_error(
        {"PLATFORM_HOME": str(tmp_path), "PLATFORM_WAREHOUSE": "redshift", **REDSHIFT}
    ) == ("PLATFORM_WAREHOUSE=redshift COPYs from a lake on S3: set PLATFORM_ENV=aws")


# what a child process gets


def test_a_child_process_gets_platform_and_aws_variables_and_the_resolved_paths(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    environ = {
        "PLATFORM_HOME": "home",
        "PLATFORM_LEASE_TTL_SECONDS": "30",
        "AWS_PROFILE": "dev",
        "WEATHER_API_TOKEN": "secret",
        "HOME": "/root",
        "XPLATFORM_HOME": "no",
    }
    settings = load_settings(environ)
    assert settings.environment_variables() == {
        "PLATFORM_HOME": str(tmp_path / "home"),
        "PLATFORM_LEASE_TTL_SECONDS": "30",
        "AWS_PROFILE": "dev",
        "PLATFORM_ENV": "local",
        "PLATFORM_CATALOG": str(PACKAGE_DIRECTORY / "catalog.yaml"),
    }


def test_a_child_process_resolves_the_same_settings_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    settings = load_settings({**AWS, "PLATFORM_HOME": "home", "AWS_REGION": "eu-west-1"})
    monkeypatch.chdir(tmp_path / "elsewhere")
    child = load_settings(settings.environment_variables())
    assert child.environment == settings.environment
    assert (child.home, child.catalog_path, child.warehouse_name) == (
        settings.home,
        settings.catalog_path,
        settings.warehouse_name,
    )


# lease seconds


@pytest.mark.parametrize("name", ["PLATFORM_LEASE_WAIT_SECONDS", "PLATFORM_LEASE_TTL_SECONDS"])
def test_a_bad_lease_seconds_value_is_a_configuration_error_naming_it(tmp_path, name):
    with pytest.raises(ConfigurationError) as raised:
        load_settings({"PLATFORM_HOME": str(tmp_path), name: "-5"})
    assert str(raised.value) == f"{name}='-5' is not a number of seconds"


def test_a_bad_lease_wait_is_refused_when_the_settings_load(tmp_path):
    configuration_error({"PLATFORM_HOME": str(tmp_path), "PLATFORM_LEASE_WAIT_SECONDS": "x"})


def test_a_lease_wait_of_zero_fails_at_once_while_another_run_holds_the_partitions(tmp_path):
    holder = load_settings({"PLATFORM_HOME": str(tmp_path)})
    impatient = load_settings({"PLATFORM_HOME": str(tmp_path), "PLATFORM_LEASE_WAIT_SECONDS": "0"})
    flights = holder.catalog.source("flights")
    periods = [flights.period("2013-01-01")]
    with (
        holder.lease(flights, periods, "run-1"),
        pytest.raises(RunError, match=r"holds these partitions; waited 0 s") as raised,
        impatient.lease(flights, periods, "run-2"),
    ):
        pass
    assert "run run-1" in str(raised.value)
    with impatient.lease(flights, periods, "run-3"):
        pass  # free again once the first run let go


def test_the_lease_ttl_is_how_long_an_s3_lease_lives(moto_endpoint):
    bucket = f"lease-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    settings = load_settings(
        {
            **AWS,
            "PLATFORM_LAKE_URI": f"s3://{bucket}/lake",
            "AWS_ENDPOINT_URL": moto_endpoint,
            "PLATFORM_LEASE_TTL_SECONDS": "123.5",
        }
    )
    flights = settings.catalog.source("flights")
    with settings.lease(flights, [flights.period("2013-02-01")], "run-1"):
        (key,) = settings.lake.store.list_prefix(f"{bucket}/lake/_platform/raw/flights/leases/")
        holder = json.loads(settings.lake.store.read_bytes(key))
    # day 31 of chunks of 31
    assert key == f"{bucket}/lake/_platform/raw/flights/leases/block-00001"
    assert holder["run_id"] == "run-1"
    assert holder["expires"] - holder["since"] == pytest.approx(123.5)
    assert settings.lake.store.list_prefix(f"{bucket}/lake/_platform/raw/flights/leases/") == []


# secrets


def secret_name() -> str:
    return f"platform/test-{uuid.uuid4().hex[:12]}"


def aws_settings(moto_endpoint, **variables):
    return load_settings({**AWS, "AWS_ENDPOINT_URL": moto_endpoint, **variables})


def test_locally_a_secret_comes_from_its_variable_before_secrets_manager(tmp_path, moto_endpoint):
    name = secret_name()
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="from-secrets-manager")
    settings = load_settings({"PLATFORM_HOME": str(tmp_path), "API_TOKEN": "from-variable"})
    assert settings.secret(SecretRef(env="API_TOKEN", aws_secret=name)) == "from-variable"


def test_locally_a_missing_variable_is_a_configuration_error_not_a_secrets_manager_call(
    tmp_path, moto_endpoint
):
    settings = load_settings({"PLATFORM_HOME": str(tmp_path)})
    with pytest.raises(ConfigurationError) as raised:
        settings.secret(SecretRef(env="API_TOKEN", aws_secret="platform/nowhere"))
    assert str(raised.value) == "the catalog needs the environment variable API_TOKEN"


def test_locally_a_secret_naming_no_variable_comes_from_secrets_manager(tmp_path, moto_endpoint):
    name = secret_name()
    boto3.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps({"url": "sqlite:///x", "other": 1})
    )
    settings = load_settings({"PLATFORM_HOME": str(tmp_path)})
    assert settings.secret(SecretRef(aws_secret=name, field="url")) == "sqlite:///x"
    assert settings.secret(SecretRef(aws_secret=name, field="other")) == "1"


def test_in_aws_mode_secrets_manager_comes_before_the_variable(moto_endpoint):
    name = secret_name()
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="from-secrets-manager")
    settings = aws_settings(moto_endpoint, API_TOKEN="from-variable")
    assert settings.secret(SecretRef(env="API_TOKEN", aws_secret=name)) == "from-secrets-manager"


def test_in_aws_mode_a_secret_naming_no_secret_comes_from_its_variable(moto_endpoint):
    settings = aws_settings(moto_endpoint, API_TOKEN="from-variable")
    assert settings.secret(SecretRef(env="API_TOKEN")) == "from-variable"


def test_a_json_field_of_a_secret_is_read_as_a_string(moto_endpoint):
    name = secret_name()
    boto3.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps({"url": "postgresql://db", "port": 5432})
    )
    settings = aws_settings(moto_endpoint)
    assert settings.secret(SecretRef(aws_secret=name, field="url")) == "postgresql://db"
    assert settings.secret(SecretRef(aws_secret=name, field="port")) == "5432"
    assert settings.secret(SecretRef(aws_secret=name)) == json.dumps(
        {"url": "postgresql://db", "port": 5432}
    )


def test_a_missing_secret_is_one_line_run_error_naming_it(moto_endpoint):
    settings = aws_settings(moto_endpoint)
    with pytest.raises(RunError) as raised:
        settings.secret(SecretRef(env="API_TOKEN", aws_secret="platform/no-such-secret"))
    text = str(raised.value)
    assert text.startswith("cannot read secret platform/no-such-secret: ")
    assert "ResourceNotFoundException" in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("secret_string", "cause"),
    [("not json", "Expecting value"), (json.dumps({"user": "u"}), "'url'")],
    ids=["not-json", "no-such-field"],
)
def test_a_secret_without_the_field_is_one_line_run_error(moto_endpoint, secret_string, cause):
    name = secret_name()
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=secret_string)
    with pytest.raises(RunError) as raised:
        aws_settings(moto_endpoint).secret(SecretRef(aws_secret=name, field="url"))
    text = str(raised.value)
    assert text.startswith(f"cannot read secret {name}: ")
    assert cause in text
    assert "\n" not in text


def test_aws_mode_reaches_secrets_manager_at_the_configured_endpoint(moto_endpoint, monkeypatch):
    """The aws environment's own client, not the process's: no AWS_ENDPOINT_URL in os.environ."""
    name = secret_name()
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="value")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert aws_settings(moto_endpoint).secret(SecretRef(aws_secret=name)) == "value"
