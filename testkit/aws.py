"""aws mode on loopback: moto's fake credentials, the machine's PostgreSQL behind the Redshift
stand-in, the PLATFORM_* environment over them, Secrets Manager values, and infra's state
machine definition rendered as Terraform would."""

from __future__ import annotations

import contextlib
import json
import re
import string
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import psycopg

from platform_assets.settings import PROJECT_DIRECTORY

if TYPE_CHECKING:
    from testkit.redshift_standin import RedshiftStandIn

POSTGRES_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
POSTGRES_PASSWORD = "not-checked-by-trust"  # the machine's PostgreSQL trusts loopback
COPY_ROLE = "arn:aws:iam::123456789012:role/platform-redshift-copy"
FAKE_AWS = {  # moto accepts any credentials; these name no real account
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
STATE_MACHINE_TEMPLATE = PROJECT_DIRECTORY / "infra/state_machine.asl.json.tftpl"


def aws_mode_env(
    endpoint: str,
    home: Path,
    lake_uri: str,
    landing_uri: str,
    *,
    redshift_port: int = 5439,
    schema: str | None = None,
    secret_arn: str | None = None,
) -> dict[str, str]:
    """PLATFORM_* for aws mode on the moto server at `endpoint`, Redshift on the loopback
    `redshift_port` (the stand-in's; the Redshift settings matter only to loads), in `schema`
    (the settings' default without one), its password from the secret `secret_arn` or, without
    one, PLATFORM_REDSHIFT_PASSWORD."""
    password = (
        {"PLATFORM_REDSHIFT_SECRET_ARN": secret_arn}
        if secret_arn is not None
        else {"PLATFORM_REDSHIFT_PASSWORD": POSTGRES_PASSWORD}
    )
    return {
        **FAKE_AWS,
        "AWS_ENDPOINT_URL": endpoint,
        "PLATFORM_ENV": "aws",
        "PLATFORM_HOME": str(home),
        "PLATFORM_LAKE_URI": lake_uri,
        "PLATFORM_LANDING_URI": landing_uri,
        # a Glue database per lake, so that tests sharing one moto server never share tables
        "PLATFORM_GLUE_DATABASE": re.sub(r"[^a-z0-9]+", "_", lake_uri.removeprefix("s3://")),
        "PLATFORM_REDSHIFT_HOST": "127.0.0.1",
        "PLATFORM_REDSHIFT_PORT": str(redshift_port),
        "PLATFORM_REDSHIFT_DATABASE": "test",
        "PLATFORM_REDSHIFT_USER": "postgres",
        **password,
        "PLATFORM_REDSHIFT_IAM_ROLE": COPY_ROLE,
        **({"PLATFORM_REDSHIFT_SCHEMA": schema} if schema is not None else {}),
        "PLATFORM_REDSHIFT_SSL": "false",
    }


def create_glue_database(env: dict[str, str]) -> None:
    """The Glue database the settings name, as Terraform's glue.tf makes it (the jobs may not)."""
    glue = boto3.client("glue", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    glue.create_database(DatabaseInput={"Name": env["PLATFORM_GLUE_DATABASE"]})


@contextlib.contextmanager
def aws_environment(
    tmp_path: Path, moto_endpoint: str, redshift: RedshiftStandIn, landing_uri: str
) -> Iterator[dict[str, str]]:
    """The aws_env fixture's settings, for a fixture of any scope: a new bucket, Redshift secret
    and PostgreSQL schema (the schema is dropped after)."""
    suffix = uuid.uuid4().hex[:10]
    bucket, schema = f"lake-{suffix}", f"t_{suffix}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"redshift-{suffix}",
        SecretString=json.dumps({"username": "postgres", "password": POSTGRES_PASSWORD}),
    )
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    env = aws_mode_env(
        moto_endpoint,
        tmp_path / "aws-home",
        f"s3://{bucket}/lake",
        landing_uri,
        redshift_port=redshift.port,
        schema=schema,
        secret_arn=secret["ARN"],
    )
    create_glue_database(env)
    try:
        yield env
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def put_secret(name: str, value: str) -> None:
    """Set a secret on the moto server, whether it is new, exists, or is pending deletion (the
    infra rehearsal's destroy leaves the catalog's secrets so, with a recovery window)."""
    secrets = boto3.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.restore_secret(SecretId=name)  # a no-op unless it is pending deletion
        secrets.put_secret_value(SecretId=name, SecretString=value)


def render_state_machine(**variables: object) -> str:
    """infra's ASL template with Terraform's `${name}` interpolations filled in."""
    text = string.Template(STATE_MACHINE_TEMPLATE.read_text()).safe_substitute(variables)
    assert "${" not in text, "a template variable was left unfilled"
    return text


@dataclass(frozen=True)
class BatchStateMachine:
    arn: str
    queue_arn: str


def batch_state_machine(name: str, image: str, environment: Mapping[str, str]) -> BatchStateMachine:
    """infra's state machine (max 3 jobs at once) over a new Batch queue on moto whose job
    definition runs `image` with `environment`, as infra's job definition carries the platform's
    settings."""
    batch, sfn = boto3.client("batch"), boto3.client("stepfunctions")
    role = boto3.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    compute = batch.create_compute_environment(
        computeEnvironmentName=f"{name}-ce", type="UNMANAGED", state="ENABLED", serviceRole=role
    )
    queue = batch.create_job_queue(
        jobQueueName=f"{name}-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": compute["computeEnvironmentArn"]}
        ],
    )
    definition = batch.register_job_definition(
        jobDefinitionName=f"{name}-main",
        type="container",
        containerProperties={
            "image": image,
            "command": ["list"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        },
    )
    machine = sfn.create_state_machine(
        name=name,
        roleArn=role,
        definition=render_state_machine(
            max_concurrency=3,
            retry_interval_seconds=1,
            job_timeout_seconds=600,
            job_queue_arn=queue["jobQueueArn"],
            job_definition_arn=definition["jobDefinitionArn"],
        ),
    )
    return BatchStateMachine(machine["stateMachineArn"], queue["jobQueueArn"])
