"""Launching main.py from an asset: a subprocess here, Step Functions → Batch in production."""

import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError

from platform_assets.catalog import Partitioned
from platform_assets.orchestration.failures import MainFailedError, reported_failure
from platform_assets.orchestration.reports import (
    materializations,
    partition_metadata,
    reports_in,
    step_results,
)
from platform_assets.runtime.protocol import CHECKS_EXTRA
from platform_assets.settings import PROJECT_DIRECTORY, Settings

PIPES_CLIENT = "pipes_client"


class PipesMainProcessClient(dg.PipesSubprocessClient):
    """Dagster's subprocess client, except that a failed main.py raises MainFailedError with
    the messages it sent before failing (Dagster's own raises without them)."""

    def run(  # type: ignore[override]
        self,
        *,
        context: dg.OpExecutionContext | dg.AssetExecutionContext,
        extras: dict[str, Any],
        command: Sequence[str],
        env: dict[str, str],
    ) -> dg.PipesClientCompletedInvocation:
        with dg.open_pipes_session(
            context=context,
            context_injector=self.context_injector,
            message_reader=self.message_reader,
            extras=extras,
        ) as session:
            process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env={**os.environ, **self.env, **env, **session.get_bootstrap_env_vars()},
            )
            try:
                process.wait()
            except DagsterExecutionInterruptedError:
                if self.forward_termination:
                    context.log.info("[pipes] run terminated: sending SIGINT to main.py")
                    process.send_signal(signal.SIGINT)
                    try:
                        process.wait(timeout=self.termination_timeout_seconds)
                    except subprocess.TimeoutExpired:
                        process.kill()
                raise
        if process.returncode != 0:
            cause = reported_failure(context) or f"main.py exited {process.returncode}"
            raise MainFailedError(cause, session.get_custom_messages())
        return dg.PipesClientCompletedInvocation(session)


def pipes_client(settings: Settings) -> dg.PipesClient:
    """The state machine when settings name one, else main.py as a subprocess of Dagster."""
    if step_functions := settings.step_functions:
        # imported only here: dagster-aws (boto3, its components) is most of the definitions'
        # import, which every run's process and code server pays
        from platform_assets.orchestration.step_functions import PipesStepFunctionsClient

        return PipesStepFunctionsClient(
            state_machine_arn=step_functions.state_machine_arn,
            sfn_client=settings.client("stepfunctions"),
            s3_client=settings.client("s3"),
            pipes_bucket=step_functions.pipes_bucket,
            logs_url=settings.logs.url(settings.logs.path("")),
            poll_seconds=step_functions.poll_seconds,
        )
    return PipesMainProcessClient(cwd=str(PROJECT_DIRECTORY))


def run_main(
    context: dg.AssetExecutionContext,
    settings: Settings,
    arguments: Sequence[str],
    target: Partitioned,
    partitions: dg.TimeWindowPartitionsDefinition,
    checks: Sequence[str] = (),
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """`main.py ARGUMENTS --partition FIRST --to LAST` for the step's partitions.

    Through Step Functions a range runs as one Batch job per block of the target's partitions
    (`Partitioned.blocks`, which the lake leases too), so that the jobs never wait for each other.
    Each partition is recorded with its own figures; when main.py fails, the partitions it wrote
    before failing are recorded as materialized and the step fails with main.py's line, which
    names what to run to resume.
    """
    # Pipes hands main.py the partitions only for single-partition runs, so name them here;
    # a step without partitions (checks run alone) covers them all
    if context.has_partition_key_range or context.has_partition_key:
        span = context.partition_key_range
        keys = partitions.get_partition_keys_in_range(span)
    else:
        keys = partitions.get_partition_keys()
    client = getattr(context.resources, PIPES_CLIENT)
    extras = {CHECKS_EXTRA: list(checks)}
    try:
        if isinstance(client, dg.PipesSubprocessClient):  # PipesMainProcessClient too
            invocation = client.run(
                context=context,
                extras=extras,
                command=[
                    *settings.main_command,
                    *arguments,
                    "--partition",
                    keys[0],
                    "--to",
                    keys[-1],
                ],
                env=settings.environment_variables(),
            )
        else:  # the state machine's (pipes_client)
            blocks = target.blocks(target.periods(keys[0], keys[-1])).values()
            commands = [
                [*arguments, "--partition", block[0].key, "--to", block[-1].key] for block in blocks
            ]
            invocation = client.run(context=context, commands=commands, extras=extras)
    except MainFailedError as failure:
        report = reports_in(failure.messages)
        if report is not None:
            for event in materializations(report):
                context.log_event(event)
        # main.py's line(s) first: a fanned-out run's report joins every failed chunk's
        said = report.failure if report is not None and report.failure else None
        description = failure.description or ""
        if said is not None:
            description = "\n".join([said, *description.splitlines()[1:]])
        raise dg.Failure(description=description, metadata=failure.metadata) from None
    report = reports_in(invocation.get_custom_messages())
    if report is None:
        raise dg.Failure(description="main.py finished without reporting what it did")
    for key, partition, metadata in partition_metadata(report):
        context.add_asset_metadata(metadata, asset_key=key, partition_key=partition)
    yield from step_results(report)
