"""Launching main.py from an asset through Dagster Pipes, and surfacing the cause when it fails."""

from collections.abc import Iterator, Sequence

import dagster as dg

from platform_assets.runtime.pipes import CHECKS_EXTRA
from platform_assets.settings import Settings

PIPES_CLIENT = "pipes_client"
_PIPES_CLOSED_WITH_EXCEPTION = "[pipes] external process pipes closed with exception"


def run_main(
    context: dg.AssetExecutionContext,
    settings: Settings,
    arguments: Sequence[str],
    partitions: dg.PartitionsDefinition,
    checks: Sequence[str] = (),
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """`main.py ARGUMENTS --partition FIRST --to LAST` for the step's partitions."""
    # Pipes hands main.py the partitions only for single-partition runs, so name them here;
    # a step without partitions (checks run alone) covers them all
    if context.has_partition_key_range or context.has_partition_key:
        first, last = context.partition_key_range.start, context.partition_key_range.end
    else:
        keys = partitions.get_partition_keys()
        first, last = keys[0], keys[-1]
    client: dg.PipesSubprocessClient = getattr(context.resources, PIPES_CLIENT)
    try:
        invocation = client.run(
            command=[*settings.main_command, *arguments, "--partition", first, "--to", last],
            context=context,
            env=settings.environment_variables(),
            extras={CHECKS_EXTRA: list(checks)},
        )
    except Exception as error:  # DagsterPipesExecutionError: lead with main.py's own cause
        cause = _reported_failure(context)
        if cause is None:
            raise
        raise dg.Failure(description=cause) from error
    yield from invocation.get_results()


def _reported_failure(context: dg.AssetExecutionContext) -> str | None:
    """The one-line error main.py reported through Pipes, to head the step's failure."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False, limit=50
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None or event.message != _PIPES_CLOSED_WITH_EXCEPTION:
            continue
        error = event.engine_event_data.error
        if error is not None:
            return error.message.strip()
    return None
