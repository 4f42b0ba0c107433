"""A Dagster Pipes client for the platform's state machine: Step Functions → AWS Batch → main.py.

One execution runs one step: its input lists chunks (main.py arguments and the Pipes environment
for each), the state machine runs them as Batch jobs side by side (a Map state, bounded), and
each chunk's container reports back through its own S3 message prefix.
"""

import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
from dagster._core.definitions.resource_annotation import TreatAsResourceParam
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster_aws.pipes import PipesS3ContextInjector, PipesS3MessageReader

from platform_assets.orchestration.failures import MainFailedError, reported_failure
from platform_assets.runtime.protocol import reports_of

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_RUNNING = "RUNNING"


class PipesStepFunctionsClient(dg.PipesClient, TreatAsResourceParam):
    """Runs main.py commands through the state machine and reads their Pipes messages from S3.

    Args:
        state_machine_arn: the platform's state machine (infra/step.tf).
        sfn_client, s3_client: boto3 clients.
        pipes_bucket: where context and messages are exchanged (short-lived objects).
        logs_url: where the jobs' logs land, named in failures.
        poll_seconds: how often the execution is described and messages are read.
    """

    def __init__(
        self,
        *,
        state_machine_arn: str,
        sfn_client: Any,
        s3_client: Any,
        pipes_bucket: str,
        logs_url: str,
        poll_seconds: float = 10,
        forward_termination: bool = True,
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self._sfn = sfn_client
        self._s3 = s3_client
        self._bucket = pipes_bucket
        self._logs_url = logs_url
        self._poll_seconds = poll_seconds
        self.forward_termination = forward_termination

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    # a required keyword for what to run, as Dagster's own PipesSubprocessClient.run(command=…)
    def run(  # type: ignore[override]
        self,
        *,
        context: dg.OpExecutionContext | dg.AssetExecutionContext,
        commands: Sequence[Sequence[str]],
        extras: dict[str, Any] | None = None,
    ) -> dg.PipesClientCompletedInvocation:
        """Run each of `commands` (main.py's arguments) as one Batch job of one execution."""
        readers = [
            PipesS3MessageReader(bucket=self._bucket, client=self._s3, interval=self._poll_seconds)
            for _ in commands
        ]
        with dg.open_pipes_session(
            context=context,
            context_injector=PipesS3ContextInjector(bucket=self._bucket, client=self._s3),
            message_reader=readers[0]
            if len(readers) == 1
            else dg.PipesCompositeMessageReader(readers),
            extras=extras,
        ) as session:
            chunks = [
                {
                    "job_name": _name(f"{command[0]}-{'-'.join(command[1:])}", 128),
                    "command": list(command),
                    "environment": [{"name": k, "value": v} for k, v in sorted(env.items())],
                }
                for command, env in zip(
                    commands, session.get_per_writer_bootstrap_env_vars(), strict=True
                )
            ]
            step = context.op_execution_context.op.name
            execution_arn = self._sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=_name(f"{context.run.run_id[:8]}-{step}-{uuid.uuid4().hex[:8]}", 80),
                input=json.dumps({"chunks": chunks}),
            )["executionArn"]
            context.log.info(f"[pipes] started {execution_arn} with {len(chunks)} Batch job(s)")
            finished = _FinishedChunks(context, commands)
            try:
                execution = self._wait(
                    execution_arn, lambda: finished.log(session.get_custom_messages())
                )
            except DagsterExecutionInterruptedError:
                if self.forward_termination:
                    context.log.warning(f"[pipes] run terminated: stopping {execution_arn}")
                    self._sfn.stop_execution(
                        executionArn=execution_arn, cause="the Dagster run was terminated"
                    )
                raise
        finished.log(session.get_custom_messages())  # those read as the session closed
        if execution["status"] != "SUCCEEDED":  # raised once the session has read every message
            raise MainFailedError(
                self._failure(context, execution),
                session.get_custom_messages(),
                metadata={"execution_arn": execution_arn, "logs": self._run_logs(context)},
            )
        context.log.info(f"[pipes] {execution_arn} succeeded")
        return dg.PipesClientCompletedInvocation(session, metadata={"execution_arn": execution_arn})

    def _wait(self, execution_arn: str, on_poll: Callable[[], None]) -> dict[str, Any]:
        while True:
            execution = self._sfn.describe_execution(executionArn=execution_arn)
            on_poll()
            if execution["status"] != _RUNNING:
                return execution
            time.sleep(self._poll_seconds)

    def _failure(
        self, context: dg.OpExecutionContext | dg.AssetExecutionContext, execution: dict[str, Any]
    ) -> str:
        """The cause first (what main.py said, else what Batch said), then where to look."""
        arn = execution["executionArn"]
        jobs = self._failed_jobs(arn)
        said = reported_failure(context)
        lines = [said or (jobs[0]["reason"] if jobs else execution.get("cause") or "failed")]
        lines.append(f"execution: {arn} ({execution['status']})")
        lines += [
            f"batch job: {job['id']} exit {job['exit']} {job['reason']}; log stream {job['stream']}"
            for job in jobs
        ]
        lines.append(f"logs: {self._run_logs(context)}")
        return "\n".join(lines)

    def _failed_jobs(self, execution_arn: str) -> list[dict[str, Any]]:
        """The Batch jobs whose failure failed the execution, from its history."""
        jobs = []
        paginator = self._sfn.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=execution_arn, reverseOrder=True):
            for event in page["events"]:
                details = event.get("taskFailedEventDetails")
                if not details:
                    continue
                try:
                    job = json.loads(details.get("cause") or "{}")
                except json.JSONDecodeError:
                    job = {}
                jobs.append(
                    {
                        "id": job.get("JobId", "?"),
                        "exit": job.get("Container", {}).get("ExitCode", "?"),
                        "reason": job.get("StatusReason") or details.get("error", ""),
                        "stream": job.get("Container", {}).get("LogStreamName", "?"),
                    }
                )
        return jobs

    def _run_logs(self, context: dg.OpExecutionContext | dg.AssetExecutionContext) -> str:
        return f"{self._logs_url.rstrip('/')}/{context.run.run_id}/"


class _FinishedChunks:
    """A line in the run's log for each chunk as its report arrives (a chunk's main.py sends it
    as a Pipes custom message when it ends): which chunk, its partitions, rows and time."""

    def __init__(
        self,
        context: dg.OpExecutionContext | dg.AssetExecutionContext,
        commands: Sequence[Sequence[str]],
    ) -> None:
        self._context = context
        self._total = len(commands)
        self._number = {  # a chunk's first partition → its number
            command[list(command).index("--partition") + 1]: number
            for number, command in enumerate(commands, 1)
            if "--partition" in command
        }
        self._seen = 0

    def log(self, messages: Sequence[Any]) -> None:
        """Log the reports among `messages` (all received so far) not logged yet."""
        for report in reports_of(messages[self._seen :]):
            first, last = report.periods[0].key, report.periods[-1].key
            number = self._number.get(first, "?")
            if report.failure:
                self._context.log.warning(f"chunk {number}/{self._total} failed: {report.failure}")
                continue
            figures = [
                f"{first}..{last}",
                *(f"{item.rows:,} rows ({item.layer})" for item in report.materializations),
                f"{report.seconds:.1f} s",
            ]
            self._context.log.info(f"chunk {number}/{self._total} done: {', '.join(figures)}")
        self._seen = len(messages)


def _name(text: str, limit: int) -> str:
    return _NAME_UNSAFE.sub("-", text)[:limit]
