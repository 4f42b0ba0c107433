"""The code location: Dagster definitions generated from the catalog that settings point at."""

import dagster as dg

from platform_assets.orchestration.assets import source_assets
from platform_assets.orchestration.exports import export_asset
from platform_assets.orchestration.run_outcomes import run_outcome_checks
from platform_assets.orchestration.runner import PIPES_CLIENT, pipes_client
from platform_assets.orchestration.schedules import source_job, source_schedule
from platform_assets.orchestration.sensors import reports_sensor
from platform_assets.settings import load_settings

settings = load_settings()
sources = settings.catalog.sources
jobs = {source.name: source_job(source) for source in sources}

defs = dg.Definitions(
    assets=[
        *(source_assets(source, settings) for source in sources),
        *(export_asset(export, settings) for export in settings.catalog.exports),
    ],
    asset_checks=run_outcome_checks(settings),
    jobs=list(jobs.values()),
    schedules=[source_schedule(source, jobs[source.name]) for source in sources if source.schedule],
    sensors=[reports_sensor(settings)],
    resources={PIPES_CLIENT: pipes_client(settings)},
)
