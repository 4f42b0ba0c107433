"""Per source with a cron: a job over its two assets, and a schedule for the last ended period."""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,  # define_asset_job's return type; dagster does not export it
)

from platform_assets.catalog import Source
from platform_assets.checks import checks_for
from platform_assets.layers import SOURCE_LAYERS
from platform_assets.orchestration.keys import layer_key
from platform_assets.partitions import previous_period


def source_job(source: Source) -> UnresolvedAssetJobDefinition:
    """The source's two assets and main.py's checks of them; the checks Dagster runs on its own
    (freshness, a run's outcome) stay out of the run. The assets are one step, so the run
    executes it in its own process rather than starting a second one for it."""
    return dg.define_asset_job(
        f"{source.name}_job",
        selection=dg.AssetSelection.assets(
            *(layer_key(layer, source.name) for layer in SOURCE_LAYERS)
        ).without_checks()
        | dg.AssetSelection.checks(
            *(
                dg.AssetCheckKey(layer_key(check.layer, source.name), check.name)
                for check in checks_for(source)
            )
        ),
        description=f"Push source {source.name} to the lake and load it into the warehouse.",
        executor_def=dg.in_process_executor,
    )


def source_schedule(source: Source, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    assert source.schedule is not None
    granularity = source.partitioning.granularity

    @dg.schedule(
        name=f"{source.name}_schedule",
        cron_schedule=source.schedule.cron,
        execution_timezone="UTC",
        job=job,
        description=f"Each tick loads the last {granularity} period of {source.name} that ended.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        period = previous_period(
            granularity, context.scheduled_execution_time, source.partitioning.timezone
        )
        try:
            source.period(period.key)
        except ValueError as error:
            return dg.SkipReason(str(error))
        return dg.RunRequest(run_key=f"{source.name}:{period.key}", partition_key=period.key)

    return _schedule
