"""Per export in the catalog, an asset downstream of its sources' tables, run by `main.py pull`."""

from collections.abc import Iterator

import dagster as dg

from platform_assets.catalog import Export
from platform_assets.layers import Layer
from platform_assets.orchestration.about import declared_at, labels, lake_location
from platform_assets.orchestration.automation import WHEN_SOURCES_LOAD
from platform_assets.orchestration.keys import layer_key
from platform_assets.orchestration.partitions import partitions_def
from platform_assets.orchestration.runner import PIPES_CLIENT, run_main
from platform_assets.settings import Settings


def export_asset(export: Export, settings: Settings) -> dg.AssetsDefinition:
    partitions = partitions_def(export)

    @dg.asset(
        key=layer_key(Layer.EXPORTS, export.name),
        description=f"Export to the lake: {export.description}".strip(),
        deps=[layer_key(Layer.WAREHOUSE, name) for name in export.depends_on],
        group_name="exports",
        kinds={"parquet", settings.warehouse_name},
        metadata={
            "sql": dg.MetadataValue.md(f"```sql\n{export.sql}\n```"),
            **lake_location(settings, Layer.EXPORTS, export.name),
            **declared_at(settings, export),
        },
        **labels(export),
        automation_condition=WHEN_SOURCES_LOAD,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={PIPES_CLIENT},
    )
    def _export(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Run the export's SQL in the warehouse and publish its rows in the lake."""
        yield from run_main(
            context,
            settings,
            ["pull", "--export", export.name],
            export,
            partitions,
        )

    return _export
