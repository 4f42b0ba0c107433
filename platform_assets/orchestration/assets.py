"""Per source, one multi-asset (raw/<source> → warehouse/<source>, with checks) run by main.py."""

from collections.abc import Iterator

import dagster as dg

from platform_assets.catalog import Source
from platform_assets.orchestration.partitions import partitions_def
from platform_assets.runtime.assets import Layer, asset_key, checks_for
from platform_assets.runtime.pipes import CHECKS_EXTRA
from platform_assets.settings import Settings

PIPES_CLIENT = "pipes_client"


def layer_key(layer: Layer, source: Source) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(asset_key(layer, source))


def source_assets(source: Source, settings: Settings) -> dg.AssetsDefinition:
    raw, warehouse = layer_key(Layer.RAW, source), layer_key(Layer.WAREHOUSE, source)
    partitions = partitions_def(source)
    about = {
        "source_kind": source.read.kind,
        "granularity": str(source.partitioning.granularity),
        "schedule_cron_utc": source.schedule.cron if source.schedule else "none",
    }

    @dg.multi_asset(
        name=f"{source.name}_assets",
        specs=[
            dg.AssetSpec(
                raw,
                description=f"{source.description} Raw parquet in the lake.".strip(),
                group_name=source.name,
                kinds={"parquet"},
                metadata={**about, "read": dg.MetadataValue.json(source.read.model_dump())},
            ),
            dg.AssetSpec(
                warehouse,
                deps=[raw],
                description=f"Warehouse table {source.table_name}, one row per lake row.",
                group_name=source.name,
                kinds={"duckdb"},
                metadata={**about, "table": source.table_name, "key": ", ".join(source.key)},
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                check.name, asset=layer_key(check.layer, source), description=check.description
            )
            for check in checks_for(source)
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        required_resource_keys={PIPES_CLIENT},
    )
    def _assets(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Run main.py for the selected assets and partitions through Dagster Pipes."""
        client: dg.PipesSubprocessClient = getattr(context.resources, PIPES_CLIENT)
        command = _command(raw, warehouse, set(context.selected_asset_keys))
        checks = [
            f"{check.asset_key.path[0]}/{check.name}" for check in context.selected_asset_check_keys
        ]
        # Pipes hands main.py the partitions only for single-partition runs, so name them here;
        # a run of checks alone has no partitions and checks them all
        if context.has_partition_key_range or context.has_partition_key:
            first, last = context.partition_key_range.start, context.partition_key_range.end
        else:
            keys = partitions.get_partition_keys()
            first, last = keys[0], keys[-1]
        span = ["--partition", first, "--to", last]
        try:
            invocation = client.run(
                command=[*settings.main_command, *command, "--source", source.name, *span],
                context=context,
                env=settings.environment_variables(),
                extras={CHECKS_EXTRA: checks},
            )
        except Exception as error:  # DagsterPipesExecutionError: lead with main.py's own cause
            cause = _reported_failure(context)
            if cause is None:
                raise
            raise dg.Failure(description=cause) from error
        yield from invocation.get_results()

    return _assets


_PIPES_CLOSED_WITH_EXCEPTION = "[pipes] external process pipes closed with exception"


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


def _command(raw: dg.AssetKey, warehouse: dg.AssetKey, selected: set[dg.AssetKey]) -> list[str]:
    if selected == {raw, warehouse}:
        return ["push"]
    if selected == {raw}:
        return ["push", "--no-load"]
    if selected == {warehouse}:
        return ["load"]
    return ["check"]
