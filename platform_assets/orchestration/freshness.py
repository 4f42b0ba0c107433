"""Per scheduled source, a freshness check on its warehouse table: once a tick of the schedule is
`grace_minutes` past, the period that tick loads must be in (else the check fails), and the
sensor that runs the checks."""

import contextlib
import warnings
from collections.abc import Iterator

import dagster as dg

from platform_assets.catalog import Source
from platform_assets.layers import Layer
from platform_assets.orchestration.keys import layer_key


def freshness_checks(source: Source) -> list[dg.AssetChecksDefinition]:
    """Dagster's check of the last partition by a deadline cron: the schedule's, plus the grace.

    Dagster 1.13 marks it superseded by FreshnessPolicy, which judges an asset by its last
    materialization of any partition, and only where the instance enables its daemon: the
    platform's promise is about the newest period, which this check holds each source to. A
    schedule whose cron the grace cannot move (`Schedule.deadline_cron`) has none.
    """
    assert source.schedule is not None
    deadline = source.schedule.deadline_cron
    if deadline is None:
        return []
    with _chosen_over_freshness_policy():
        return list(
            dg.build_time_partition_freshness_checks(
                assets=[layer_key(Layer.WAREHOUSE, source.name)],
                deadline_cron=deadline,
                timezone="UTC",  # the catalog's crons are UTC
            )
        )


def freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    """Runs each check when it may have changed: a deadline passed, or it passed and is due."""
    with _chosen_over_freshness_policy():
        return dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="freshness_checks",
            default_status=dg.DefaultSensorStatus.RUNNING,
        )


@contextlib.contextmanager
def _chosen_over_freshness_policy() -> Iterator[None]:
    """Without Dagster's warning that these helpers are superseded (see freshness_checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        yield
