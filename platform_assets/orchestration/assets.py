"""Per source, one multi-asset (raw/<source> → warehouse/<source>, with checks) run by main.py."""

from collections.abc import Iterator

import dagster as dg

from platform_assets.catalog import Source
from platform_assets.checks import checks_for
from platform_assets.layers import Layer
from platform_assets.orchestration.about import (
    columns,
    declared_at,
    labels,
    lake_location,
    qualified_table,
    table_name,
)
from platform_assets.orchestration.keys import check_name, layer_key
from platform_assets.orchestration.partitions import partitions_def
from platform_assets.orchestration.runner import PIPES_CLIENT, run_main
from platform_assets.orchestration.upstreams import upstream_key
from platform_assets.settings import Settings


def source_assets(source: Source, settings: Settings) -> dg.AssetsDefinition:
    raw, warehouse = layer_key(Layer.RAW, source.name), layer_key(Layer.WAREHOUSE, source.name)
    partitions = partitions_def(source)
    about = {
        "source_kind": source.read.kind,
        "granularity": str(source.partitioning.granularity),
        "schedule_cron_utc": source.schedule.cron if source.schedule else "none",
        **declared_at(settings, source),
    }
    table = qualified_table(settings, source)

    @dg.multi_asset(
        name=f"{source.name}_assets",
        specs=[
            dg.AssetSpec(
                raw,
                deps=[upstream_key(source)],
                description=f"Raw parquet in the lake: {source.description}".strip(),
                group_name=source.name,
                kinds={"parquet"},
                metadata={
                    **about,
                    **columns(source, Layer.RAW),
                    **lake_location(settings, Layer.RAW, source.name),
                    "read": dg.MetadataValue.json(source.read.model_dump()),
                },
                **labels(source),
            ),
            dg.AssetSpec(
                warehouse,
                deps=[raw],
                description=f"Warehouse table {table}, one row per lake row.",
                group_name=source.name,
                kinds={settings.warehouse_name},
                metadata={
                    **about,
                    **columns(source, Layer.WAREHOUSE),
                    **table_name(table),
                    "key": ", ".join(source.key),
                },
                **labels(source),
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                check.name, asset=layer_key(check.layer, source.name), description=check.description
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
        command = _command(raw, warehouse, set(context.selected_asset_keys))
        checks = [check_name(check) for check in context.selected_asset_check_keys]
        yield from run_main(
            context,
            settings,
            [*command, "--source", source.name],
            source,
            partitions,
            checks,
        )

    return _assets


def _command(raw: dg.AssetKey, warehouse: dg.AssetKey, selected: set[dg.AssetKey]) -> list[str]:
    if selected == {raw, warehouse}:
        return ["push"]
    if selected == {raw}:
        return ["push", "--no-load"]
    if selected == {warehouse}:
        return ["load"]
    return ["check"]
