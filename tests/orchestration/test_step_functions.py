"""Production execution on loopback: Dagster → Step Functions (moto) → Batch (moto) → main.py."""

import datetime as dt
import json
import time
import types

import boto3
import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError

from platform_assets.layers import Layer
from platform_assets.orchestration import step_functions as step_functions_module
from platform_assets.orchestration.assets import source_assets
from platform_assets.orchestration.runner import PIPES_CLIENT, pipes_client
from platform_assets.orchestration.sensors import reports_sensor
from platform_assets.settings import load_settings
from testkit.summary import SUMMARY_LINES

RAW, WAREHOUSE = dg.AssetKey(["raw", "flights"]), dg.AssetKey(["warehouse", "flights"])


def materialize(settings, **options) -> dg.ExecuteInProcessResult:
    """raw/flights and warehouse/flights through the state machine, in one Dagster run;
    `options` for execute_in_process (a partition key or tags, an instance)."""
    job = dg.Definitions(
        assets=[source_assets(settings.catalog.source("flights"), settings)],
        jobs=[dg.define_asset_job("flights", selection=[RAW, WAREHOUSE])],
        resources={PIPES_CLIENT: pipes_client(settings)},
    ).resolve_job_def("flights")
    return job.execute_in_process(raise_on_error=False, **options)


def finished(sfn, execution_arn: str) -> str:
    """The status of an execution once it is no longer running."""
    deadline = time.monotonic() + 180
    while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return status


def warehouse_rows(settings, first: dt.date, end: dt.date) -> dict[dt.date, int]:
    return settings.warehouse.partition_rows("flights", first, end)


def test_the_whole_chain_for_one_partition(step_functions_env, batch_runner, flights_per_day):
    settings = load_settings(step_functions_env)
    day = dt.date(2013, 1, 5)
    submitted = len(batch_runner.jobs)

    result = materialize(settings, partition_key=day.isoformat())

    assert result.success, result.get_step_failure_events()
    [job] = batch_runner.jobs[submitted:]
    assert job.command == [
        "push",
        "--source",
        "flights",
        "--partition",
        "2013-01-05",
        "--to",
        "2013-01-05",
    ]
    assert job.exit_code == 0, job.output
    # the container had the job definition's settings and the Pipes bootstrap, nothing else
    assert {"DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES", "PLATFORM_LAKE_URI"} <= set(
        job.environment
    )
    assert job.environment["MANAGED_BY_AWS"] == "STARTED_BY_STEP_FUNCTIONS"
    materializations = {
        event.asset_key: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert materializations[RAW]["dagster/row_count"].value == flights_per_day[day] == 720
    assert materializations[RAW]["bytes"].value > 0
    assert materializations[WAREHOUSE]["dagster/row_count"].value == 720
    assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()} == {
        "schema_matches": True,
        "rows_match_lake": True,
        "unique_key": True,
    }
    assert warehouse_rows(settings, day, day + dt.timedelta(1)) == {day: 720}
    # the run's log landed in the logs store under the Dagster run's id
    logs = settings.logs.list_files(settings.logs.path(result.run_id), recursive=True)
    assert [path.rsplit("/", 1)[-1] for path in logs] == ["push-flights-2013-01-05-2013-01-05.log"]
    assert "720 rows" in settings.logs.read_bytes(logs[0]).decode()


def test_an_interrupted_job_is_retried_alone_and_the_run_succeeds(
    step_functions_env, batch_runner, flights_per_day
):
    settings = load_settings(step_functions_env)
    submitted = len(batch_runner.jobs)
    batch_runner.interrupt_next()
    result = materialize(settings, partition_key="2013-01-06")
    assert result.success
    first, second = batch_runner.jobs[submitted:]
    assert (first.exit_code, second.exit_code) == (137, 0)  # Retry on States.TaskFailed, once
    assert first.command == second.command
    day = dt.date(2013, 1, 6)
    assert warehouse_rows(settings, day, day + dt.timedelta(1)) == {day: flights_per_day[day]}


def run_with_a_missing_landing_folder(step_functions_env, tmp_path) -> None:
    """The state machine's jobs from now on see a catalog whose flights land nowhere."""
    broken = tmp_path / "catalog.yaml"
    seed = load_settings({}).catalog_path.read_text()
    broken.write_text(seed.replace("landing/flights/", "nowhere/flights/"))
    batch = boto3.client("batch")
    # the job definition is what the container sees: point its catalog at the broken one
    queue_env = {**step_functions_env, "PLATFORM_CATALOG": str(broken)}
    definition = batch.register_job_definition(
        jobDefinitionName=f"broken-{step_functions_env['PLATFORM_REDSHIFT_SCHEMA']}",
        type="container",
        containerProperties={
            "image": "platform:test",
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(queue_env.items())],
        },
    )
    sfn = boto3.client("stepfunctions")
    machine = sfn.describe_state_machine(
        stateMachineArn=step_functions_env["PLATFORM_STATE_MACHINE_ARN"]
    )
    asl = json.loads(machine["definition"])
    task = asl["States"]["RunChunks"]["ItemProcessor"]["States"]["RunMain"]
    task["Parameters"]["JobDefinition"] = definition["jobDefinitionArn"]
    sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=json.dumps(asl))


def test_a_failing_job_fails_the_run_with_its_cause_and_where_to_look(
    step_functions_env, batch_runner, tmp_path
):
    run_with_a_missing_landing_folder(step_functions_env, tmp_path)
    sfn = boto3.client("stepfunctions")
    settings = load_settings(step_functions_env)
    submitted = len(batch_runner.jobs)

    result = materialize(settings, partition_key="2013-01-07")

    assert not result.success
    jobs = batch_runner.jobs[submitted:]
    assert [job.exit_code for job in jobs] == [1, 1]  # tried, retried once, then caught
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    lines = failure.description.splitlines()
    assert lines[0].endswith("nowhere/flights/2013/01/flights_2013-01-07.csv: file not found")
    assert "source flights partition 2013-01-07" in lines[0]
    assert lines[1].startswith("execution: arn:aws:states:") and lines[1].endswith("(FAILED)")
    assert any(line.startswith("batch job: ") for line in lines)
    assert lines[-1] == f"logs: {settings.logs.url(settings.logs.path(result.run_id))}/"
    execution = sfn.describe_execution(executionArn=lines[1].split()[1])
    assert execution["error"] == "ChunkFailed"
    assert (
        settings.lake.manifest(
            Layer.RAW, "flights", settings.catalog.source("flights").period("2013-01-07")
        )
        is None
    )


def test_a_year_fans_out_into_bounded_chunks_and_a_failed_chunk_is_retried_alone(
    step_functions_env, batch_runner, flights_per_day
):
    settings = load_settings(step_functions_env)
    submitted = len(batch_runner.jobs)
    batch_runner.interrupt_next()  # the first chunk to start dies once, as if its host did
    instance = dg.DagsterInstance.ephemeral()

    result = materialize(
        settings,
        tags={
            "dagster/asset_partition_range_start": "2013-01-01",
            "dagster/asset_partition_range_end": "2013-12-31",
        },
        instance=instance,
    )

    assert result.success, result.get_step_failure_events()
    jobs = batch_runner.jobs[submitted:]
    chunks = sorted({tuple(job.command) for job in jobs})
    assert len(chunks) == 12  # 365 days in chunks of 31
    assert len(jobs) == 13  # twelve chunks and the one retry
    interrupted = [job for job in jobs if job.exit_code == 137]
    assert len(interrupted) == 1
    assert sum(job.command == interrupted[0].command for job in jobs) == 2  # retried alone
    assert 2 <= batch_runner.max_concurrent() <= 3  # side by side, never above the bound
    # a line per chunk as its report arrived: the first before the last chunk had started
    entries = [entry for entry in instance.all_logs(result.run_id) if entry.dagster_event is None]
    done = [entry.user_message for entry in entries if entry.user_message.startswith("chunk ")]
    first_line_at = min(e.timestamp for e in entries if e.user_message.startswith("chunk "))
    assert first_line_at < max(job.started for job in jobs).timestamp()
    by_number = {line.split()[1]: line for line in done}
    assert len(done) == 12
    assert set(by_number) == {f"{n}/12" for n in range(1, 13)}
    assert by_number["1/12"].startswith(
        "chunk 1/12 done: 2013-01-01..2013-01-31, 27,004 rows (raw), 27,004 rows (warehouse), "
    )
    raw_rows = [int(line.split(", ")[1].split()[0].replace(",", "")) for line in done]
    assert sum(raw_rows) == 336_776
    SUMMARY_LINES.append(f"step functions, the year's chunks as they ended: {by_number['1/12']}")
    loaded = warehouse_rows(settings, dt.date(2013, 1, 1), dt.date(2014, 1, 1))
    assert loaded == flights_per_day
    assert sum(loaded.values()) == 336_776
    events = result.get_asset_materialization_events()
    assert len(events) == 2 * 365
    # each partition its own figures, the chunks' reports combined
    for asset in (RAW, WAREHOUSE):
        counts = {
            dt.date.fromisoformat(event.partition): event.materialization.metadata[
                "dagster/row_count"
            ].value
            for event in events
            if event.asset_key == asset
        }
        assert counts == flights_per_day
    assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()} == {
        "schema_matches": True,
        "rows_match_lake": True,
        "unique_key": True,
    }


def test_a_run_started_without_dagster_is_recorded_once_by_the_sensor(
    step_functions_env, batch_runner, flights_per_day
):
    settings = load_settings(step_functions_env)
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=step_functions_env["PLATFORM_STATE_MACHINE_ARN"],
        input=json.dumps({"chunks": [scheduled_chunk("2013-02-11")]}),
    )
    assert finished(sfn, execution["executionArn"]) == "SUCCEEDED"

    with dg.instance_for_test() as instance:
        first = record_twice(reports_sensor(settings), instance)
        for key in (RAW, WAREHOUSE):
            records = instance.fetch_materializations(key, limit=10).records
            assert [record.partition_key for record in records] == ["2013-02-11"]
            metadata = records[0].asset_materialization.metadata
            assert metadata["dagster/row_count"].value == flights_per_day[dt.date(2013, 2, 11)]
        checks = [
            event for event in first.asset_events if isinstance(event, dg.AssetCheckEvaluation)
        ]
        assert {(event.check_name, event.passed) for event in checks} == {
            ("schema_matches", True),
            ("rows_match_lake", True),
            ("unique_key", True),
            ("run_succeeded", True),
        }


def test_a_failed_scheduled_execution_is_recorded_once_by_the_sensor(
    step_functions_env, batch_runner, tmp_path
):
    run_with_a_missing_landing_folder(step_functions_env, tmp_path)
    settings = load_settings(step_functions_env)
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=step_functions_env["PLATFORM_STATE_MACHINE_ARN"],
        input=json.dumps({"chunks": [scheduled_chunk("2013-02-12")]}),
    )
    assert finished(sfn, execution["executionArn"]) == "FAILED"

    with dg.instance_for_test() as instance:
        record_twice(reports_sensor(settings), instance)
        assert instance.fetch_materializations(RAW, limit=10).records == []
        check = dg.AssetCheckKey(RAW, "run_succeeded")
        [record] = instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
    evaluation = record.event.dagster_event.asset_check_evaluation_data
    assert evaluation.passed is False
    assert evaluation.description.startswith("push partition 2013-02-12 failed: source flights")
    assert evaluation.description.endswith("flights_2013-02-12.csv: file not found")


def record_twice(sensor: dg.SensorDefinition, instance: dg.DagsterInstance) -> dg.SensorResult:
    """Two ticks of the sensor, each recording its events; the second must find nothing new."""
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    for event in first.asset_events:
        instance.report_runless_asset_event(event)
    second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert second.asset_events == []
    return first


def scheduled_chunk(day: str) -> dict:
    """What an EventBridge schedule sends: no Pipes environment, main.py's own arguments."""
    return {
        "job_name": "flights-scheduled",
        "command": ["push", "--source", "flights", "--partition", day],
        "environment": [],
    }


def test_terminating_the_dagster_run_stops_the_execution(
    step_functions_env, batch_runner, monkeypatch
):
    # Dagster delivers a run's termination as DagsterExecutionInterruptedError at the step's
    # next wait; here it lands at the client's first wait on the running execution
    def interrupted(seconds: float) -> None:
        raise DagsterExecutionInterruptedError()

    monkeypatch.setattr(step_functions_module, "time", types.SimpleNamespace(sleep=interrupted))
    settings = load_settings(step_functions_env)
    result = materialize(settings, partition_key="2013-01-09")
    assert not result.success
    sfn = boto3.client("stepfunctions")
    machine = step_functions_env["PLATFORM_STATE_MACHINE_ARN"]
    [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
    status = finished(sfn, execution["executionArn"])  # moto stops once the job's state ends
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    # AWS ends a stopped execution ABORTED; moto aborts the running Map iteration, which
    # the Map's Catch then turns into FAILED. Either way the stop arrived and nothing succeeded.
    assert status in ("ABORTED", "FAILED")
    assert "MapIterationAborted" in [event["type"] for event in history]
