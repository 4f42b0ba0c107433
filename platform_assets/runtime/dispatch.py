"""From main.py's parsed command line to its exit code: the settings, Dagster Pipes, the target
and its partitions, the job, and the report and log every run leaves."""

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
from platform_assets.errors import ConfigurationError, PlatformError, RunError
from platform_assets.partitions import Period
from platform_assets.redaction import redact
from platform_assets.runtime import pipes
from platform_assets.runtime.archive import LogCapture, store_log, store_report
from platform_assets.runtime.partition_selection import every_period, selected_periods
from platform_assets.runtime.pull import pull
from platform_assets.runtime.rebuild import published_periods
from platform_assets.runtime.report import RunFailedError, RunReport
from platform_assets.runtime.source_job import SourceJob, layers_of, run_source_job
from platform_assets.runtime.status import print_sources, print_status
from platform_assets.settings import Settings, load_settings

log = logging.getLogger("platform")
_Named = TypeVar("_Named", bound=Partitioned)


def dispatch(arguments: argparse.Namespace) -> int:
    """Run parsed arguments; the log of the run is kept whatever happens."""
    capture = LogCapture()
    log.addHandler(capture)
    outcome = _Outcome()
    try:
        return _dispatch(arguments, capture, outcome)
    finally:
        log.removeHandler(capture)
        _keep_log(outcome, capture)


@dataclass
class _Outcome:
    """What the log file needs to know once the run is over, however it ended."""

    settings: Settings | None = None
    run_prefix: str = ""
    log_name: str = ""


def _dispatch(arguments: argparse.Namespace, capture: LogCapture, outcome: _Outcome) -> int:
    try:
        settings = load_settings()
        settings.lake, settings.warehouse  # noqa: B018 (configuration errors before any work)
        now = dt.datetime.now(dt.UTC)
        if arguments.command == "list":
            print_sources(settings.catalog)
            return 0
        if arguments.command == "status":
            source = _named(settings, arguments.source, settings.catalog.source)
            periods = (
                selected_periods(source, arguments.partition, arguments.to, None, now)
                if arguments.partition or arguments.to
                else every_period(source, now)
            )
            if not periods:
                raise ConfigurationError(
                    f"source {source.name}: no partition has ended yet (the first starts"
                    f" {source.partitioning.start}); pass --partition"
                )
            print_status(settings, source, periods, arguments.every)
            return 0
        with pipes.dagster_pipes(lambda: settings.client("s3")) as context:
            run_id = _run_id(context)
            if arguments.command == "pull":
                target: Source | Export = _named(
                    settings, arguments.export, settings.catalog.export
                )
            else:
                target = _named(settings, arguments.source, settings.catalog.source)
            periods = _periods(arguments, target, settings, context, now)
            outcome.settings = settings
            outcome.run_prefix = context.run_id if context is not None else run_id
            outcome.log_name = (
                f"{arguments.command}-{target.name}-{periods[0].key}-{periods[-1].key}"
            )
            try:
                if isinstance(target, Export):
                    report = pull(target, periods, settings, run_id)
                else:
                    job = _source_job(arguments, target, periods, context, run_id)
                    report = run_source_job(job, settings)
            except PlatformError as error:
                failed = _failed_report(error, arguments.command, target, periods)
                try:
                    _leave(failed, run_id, context, settings)
                except Exception as leaving:  # the run's own failure is the line to print
                    log.warning("the failed run's report could not be kept: %s", leaving)
                raise
            _leave(report, run_id, context, settings)
        print("\n".join(report.lines()))
        # Dagster shows each check's verdict and severity; a step failed by it would not
        if arguments.command == "check" and context is None:
            _fail_on_error_checks(report)
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
        text = redact(traceback.format_exc())
        capture.note(text)
        print(text, end="", file=sys.stderr)
        return 1


def _failed_report(
    error: PlatformError, command: str, target: Source | Export, periods: list[Period]
) -> RunReport:
    """The report a failure leaves: the job's own (what it did, how to resume), else the error."""
    if isinstance(error, RunFailedError):
        return error.report
    return RunReport(command, target.name, periods, failure=str(error))


def _leave(
    report: RunReport, run_id: str, context: PipesContext | None, settings: Settings
) -> None:
    """The report goes to Dagster when it launched the run, else to the reports store, where
    the sensor records it: failures too, with what was done before them."""
    report.run_id = run_id
    if context is not None:
        pipes.report(context, report)
    else:
        log.info("report kept at %s", store_report(settings, report))


def _fail_on_error_checks(report: RunReport) -> None:
    """A failed check of error severity fails `main.py check` (a cron or CI wrapper sees it)."""
    failing = [outcome.check.qualified_name for outcome in report.checks if outcome.fails_run]
    if failing:
        raise RunError(
            f"source {report.name} {report.span}: check(s) {', '.join(failing)} failed"
            " (severity error)"
        )


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


def _periods(
    arguments: argparse.Namespace,
    target: Source | Export,
    settings: Settings,
    context: PipesContext | None,
    now: dt.datetime,
) -> list[Period]:
    """The partitions named (or Dagster's, or the schedule's); a rebuild's: every one published."""
    if arguments.command == "rebuild" and isinstance(target, Source):
        published = published_periods(target, settings.lake, every_period(target, now))
        if not published:
            raise ConfigurationError(f"source {target.name}: nothing in the lake to rebuild")
        return published
    dagster_range = pipes.partition_range(context) if context is not None else None
    return selected_periods(target, arguments.partition, arguments.to, dagster_range, now)


def _source_job(
    arguments: argparse.Namespace,
    source: Source,
    periods: list[Period],
    context: PipesContext | None,
    run_id: str,
) -> SourceJob:
    command, load = arguments.command, not getattr(arguments, "no_load", False)
    layers = layers_of(command, load)
    checks = checks_for(source, layers) if layers else checks_for(source)
    if context is not None and (selected := pipes.selected_checks(context)) is not None:
        checks = [check for check in checks_for(source) if check.qualified_name in selected]
    return SourceJob(command, source, periods, layers, checks, run_id)


def _run_id(context: PipesContext | None) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = context.run_id[:8] if context is not None else uuid.uuid4().hex[:8]
    return f"{stamp}-{suffix}"
