"""The code location: Dagster definitions generated from the catalog that settings point at."""

import dagster as dg

from platform_assets.orchestration.assets import source_assets
from platform_assets.orchestration.automation import automation_sensor
from platform_assets.orchestration.exports import export_asset
from platform_assets.orchestration.freshness import freshness_checks, freshness_sensor
from platform_assets.orchestration.run_outcomes import run_outcome_checks
from platform_assets.orchestration.runner import PIPES_CLIENT, pipes_client
from platform_assets.orchestration.schedules import source_job, source_schedule
from platform_assets.orchestration.sensors import reports_sensor
from platform_assets.orchestration.upstreams import upstream_spec
from platform_assets.settings import load_settings

settings = load_settings()
sources = settings.catalog.sources
scheduled = [source for source in sources if source.schedule]
jobs = {source.name: source_job(source) for source in sources}
exports = [export_asset(export, settings) for export in settings.catalog.exports]
freshness = [check for source in scheduled for check in freshness_checks(source)]

defs = dg.Definitions(
    assets=[
        *(upstream_spec(source, settings) for source in sources),
        *dg.with_source_code_references([source_assets(source, settings) for source in sources]),
        *dg.with_source_code_references(exports),
    ],
    asset_checks=[*freshness, *run_outcome_checks(settings)],
    jobs=list(jobs.values()),
    schedules=[source_schedule(source, jobs[source.name]) for source in scheduled],
    sensors=[
        reports_sensor(settings),
        automation_sensor(dg.AssetSelection.assets(*exports)),
        *([freshness_sensor(freshness)] if freshness else []),
    ],
    resources={PIPES_CLIENT: pipes_client(settings)},
)
