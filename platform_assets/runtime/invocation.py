"""What main.py does once its arguments parse: settings, Dagster Pipes, the command, the report."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dagster_pipes import PipesContext

from platform_assets.catalog import Export, Partitioned, Source
from platform_assets.checks import checks_for
from platform_assets.errors import ConfigurationError, RunError
from platform_assets.partitions import Period, periods_between, previous_period
from platform_assets.runtime import pipes
from platform_assets.runtime.archive import LogCapture, store_log, store_report
from platform_assets.runtime.commands import Job, layers_of, run
from platform_assets.runtime.pull import pull
from platform_assets.runtime.status import print_sources, print_status
from platform_assets.settings import Settings, load_settings

log = logging.getLogger("platform")
_Named = TypeVar("_Named", bound=Partitioned)


def invoke(arguments: argparse.Namespace) -> int:
    """Run parsed arguments; the log of the run is kept whatever happens."""
    capture = LogCapture()
    log.addHandler(capture)
    outcome = _Outcome()
    try:
        return _invoke(arguments, capture, outcome)
    finally:
        log.removeHandler(capture)
        _keep_log(outcome, capture)


@dataclass
class _Outcome:
    """What the log file needs to know once the run is over, however it ended."""

    settings: Settings | None = None
    run_prefix: str = ""
    log_name: str = ""


def _invoke(arguments: argparse.Namespace, capture: LogCapture, outcome: _Outcome) -> int:
    try:
        settings = load_settings()
        settings.lake, settings.warehouse  # noqa: B018 (configuration errors before any work)
        if arguments.command == "list":
            print_sources(settings.catalog)
            return 0
        if arguments.command == "status":
            source = _named(settings, arguments.source, settings.catalog.source)
            periods = _periods(source, arguments, None) if arguments.partition else _all(source)
            print_status(settings, source, periods)
            return 0
        with pipes.dagster_pipes(settings.s3_client) as context:
            run_id = _run_id(context)
            if arguments.command == "pull":
                target: Source | Export = _named(
                    settings, arguments.export, settings.catalog.export
                )
            else:
                target = _named(settings, arguments.source, settings.catalog.source)
            periods = _periods(target, arguments, context)
            outcome.settings = settings
            outcome.run_prefix = context.run_id if context is not None else run_id
            outcome.log_name = (
                f"{arguments.command}-{target.name}-{periods[0].key}-{periods[-1].key}"
            )
            if isinstance(target, Export):
                report = pull(target, periods, settings, run_id)
            else:
                report = run(_job(arguments, target, periods, context, run_id), settings)
            report.run_id = run_id
            if context is not None:
                pipes.report(context, report)
            else:
                log.info("report kept at %s", store_report(settings, report))
        print("\n".join(report.lines()))
        return 0
    except ConfigurationError as error:
        capture.note(f"main.py: error: {error}")
        print(f"main.py: error: {error}", file=sys.stderr)
        return 2
    except RunError as error:
        capture.note(f"main.py: failed: {error}")
        print(f"main.py: failed: {error}", file=sys.stderr)
        return 1
    except Exception:
        capture.note(traceback.format_exc())
        traceback.print_exc()
        return 1


def _keep_log(outcome: _Outcome, capture: LogCapture) -> None:
    """Every run's log lands in the logs store, under the run; a failure to store it is said."""
    if outcome.settings is None:
        return
    try:
        store_log(outcome.settings, outcome.run_prefix, outcome.log_name, capture.text())
    except Exception as error:  # the run's own outcome stands; the log is a copy
        print(f"main.py: warning: the log could not be stored: {error}", file=sys.stderr)


def _named(settings: Settings, name: str, lookup: Callable[[str], _Named]) -> _Named:
    try:
        return lookup(name)
    except KeyError as error:
        raise ConfigurationError(f"{error.args[0]} in {settings.catalog_path}") from None


def _job(
    arguments: argparse.Namespace,
    source: Source,
    periods: list[Period],
    context: PipesContext | None,
    run_id: str,
) -> Job:
    command, load = arguments.command, not getattr(arguments, "no_load", False)
    layers = layers_of(command, load)
    checks = checks_for(source, layers) if layers else checks_for(source)
    if context is not None and (selected := pipes.selected_checks(context)) is not None:
        checks = [check for check in checks_for(source) if check.qualified_name in selected]
    return Job(command, source, periods, layers, checks, run_id)


def _periods(
    source: Partitioned, arguments: argparse.Namespace, context: PipesContext | None
) -> list[Period]:
    dagster_range = pipes.partition_range(context) if context is not None else None
    given = (arguments.partition, arguments.to or arguments.partition)
    # a chunk of Dagster's range (a fanned-out backfill) is fine; anything else is not
    if (
        dagster_range is not None
        and arguments.partition
        and not dagster_range[0] <= given[0] <= given[1] <= dagster_range[1]
    ):
        raise ConfigurationError(
            f"--partition {given[0]} --to {given[1]} is outside Dagster's"
            f" {dagster_range[0]}..{dagster_range[1]}"
        )
    try:
        if arguments.partition:
            return source.periods(*given)
        if dagster_range is not None:
            return source.periods(*dagster_range)
        if arguments.to:
            raise ConfigurationError("--to needs --partition")
        period = previous_period(source.partitioning.granularity, dt.datetime.now(dt.UTC))
    except ValueError as error:
        raise ConfigurationError(f"{source.kind_label} {source.name}: {error}") from None
    try:
        return source.periods(period.key, period.key)
    except ValueError as error:
        raise ConfigurationError(
            f"{source.kind_label} {source.name}: the schedule's previous period {period.key}"
            f" is not a partition ({error}); pass --partition"
        ) from None


def _all(source: Partitioned) -> list[Period]:
    """Every partition of the source up to its end, or up to the last period that has ended."""
    granularity = source.partitioning.granularity
    last = source.last_day or previous_period(granularity, dt.datetime.now(dt.UTC)).start
    return periods_between(granularity, source.partitioning.start, last)


def _run_id(context: PipesContext | None) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = context.run_id[:8] if context is not None else uuid.uuid4().hex[:8]
    return f"{stamp}-{suffix}"
