"""pull: an export's SQL runs in the warehouse, and its rows are published in the lake's exports."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from platform_assets.catalog import Export
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.progress import Progress
from platform_assets.runtime.replaced import settle_published
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport
from platform_assets.schemas import fingerprint
from platform_assets.settings import Settings
from platform_assets.sql_statements import confined_select
from platform_assets.storage import map_concurrently

log = logging.getLogger("platform")


def pull(export: Export, periods: Sequence[Period], settings: Settings, run_id: str) -> RunReport:
    """Unload the range into staging in one statement, then publish it partition by partition."""
    started = time.perf_counter()
    tables = [settings.catalog.source(name).table_name for name in export.depends_on]
    try:
        confined_select(export.sql, tables)
    except ValueError as error:
        raise ConfigurationError(f"export {export.name}: its sql {error}") from None
    lake = settings.lake
    staging = lake.staging_directory(Layer.EXPORTS, export.name, run_id)
    with settings.lease(export, periods, run_id):
        try:
            settings.warehouse.export(
                export.sql, periods[0].start, periods[-1].end, lake.store.url(staging)
            )
            staged = lake.staged_files(staging)
            strays = sorted(set(staged) - {period.start for period in periods})
            if strays:
                raise RunError(
                    f"export {export.name}: its dt values must be partition keys;"
                    f" got {', '.join(str(day) for day in strays[:5])}"
                )
            progress = Progress(f"pull {export.name}", len(periods))
            lake.intend(Layer.EXPORTS, export.name, run_id, periods)

            def publish(period: Period) -> Manifest:
                files = staged.get(period.start, [])
                manifest = lake.publish_staged(Layer.EXPORTS, export.name, period, files, run_id)
                progress.advance(manifest.record_count)
                return manifest

            with progress:  # partitions are independent: publish them side by side
                manifests = map_concurrently(publish, periods)
            entries = [entry for manifest in manifests for entry in manifest.entries]
            schemas = lake.file_schemas(entries)
            fingerprints = {fingerprint(schema) for schema in schemas}
            results = [
                PartitionResult.published(period, manifest)
                for period, manifest in zip(periods, manifests, strict=True)
            ]
            settle_published(lake, export, run_id, periods, schemas[-1] if schemas else None)
        finally:
            lake.clear(staging)
    materialization = Materialization(
        Layer.EXPORTS,
        lake.dataset_url(Layer.EXPORTS, export.name),
        tuple(results),
        ",".join(sorted(fingerprints)) or "none",
        time.perf_counter() - started,
    )
    log.info(
        "export %s: %s rows published for %s..%s",
        export.name,
        f"{materialization.rows:,}",
        periods[0].key,
        periods[-1].key,
    )
    report = RunReport("pull", export.name, list(periods), [materialization])
    report.seconds = materialization.seconds
    return report
