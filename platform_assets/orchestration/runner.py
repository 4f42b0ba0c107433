"""Launching main.py from an asset: a subprocess here, Step Functions → Batch in production."""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from platform_assets.catalog import Partitioned
from platform_assets.orchestration.failures import reported_failure
from platform_assets.orchestration.reports import reports_in, step_results
from platform_assets.orchestration.step_functions import PipesStepFunctionsClient
from platform_assets.runtime.protocol import CHECKS_EXTRA
from platform_assets.settings import PROJECT_DIRECTORY, Settings

PIPES_CLIENT = "pipes_client"


def pipes_client(settings: Settings) -> dg.PipesClient:
    """The state machine when settings name one, else main.py as a subprocess of Dagster."""
    if step_functions := settings.step_functions:
        return PipesStepFunctionsClient(
            state_machine_arn=step_functions.state_machine_arn,
            sfn_client=settings.client("stepfunctions"),
            s3_client=settings.client("s3"),
            pipes_bucket=step_functions.pipes_bucket,
            logs_url=settings.logs.url(settings.logs.path("")),
            poll_seconds=step_functions.poll_seconds,
        )
    return dg.PipesSubprocessClient(cwd=str(PROJECT_DIRECTORY))


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
    if isinstance(client, PipesStepFunctionsClient):
        blocks = target.blocks(target.periods(keys[0], keys[-1])).values()
        commands = [
            [*arguments, "--partition", block[0].key, "--to", block[-1].key] for block in blocks
        ]
        invocation = client.run(context=context, commands=commands, extras=extras)
    else:
        invocation = _run_subprocess(
            context,
            client,
            settings,
            [*arguments, "--partition", keys[0], "--to", keys[-1]],
            extras,
        )
    report = reports_in(invocation.get_custom_messages())
    if report is None:
        raise dg.Failure(description="main.py finished without reporting what it did")
    yield from step_results(report)


def _run_subprocess(
    context: dg.AssetExecutionContext,
    client: dg.PipesSubprocessClient,
    settings: Settings,
    arguments: list[str],
    extras: dict[str, Any],
) -> dg.PipesClientCompletedInvocation:
    try:
        return client.run(
            command=[*settings.main_command, *arguments],
            context=context,
            env=settings.environment_variables(),
            extras=extras,
        )
    except Exception as error:  # DagsterPipesExecutionError: lead with main.py's own cause
        cause = reported_failure(context)
        if cause is None:
            raise
        raise dg.Failure(description=cause) from error
