"""A source's job over a range of partitions: push (source → lake, then load), load (lake →
warehouse), check, or rebuild (lake and table in the catalog's types), holding the range's lease
while it writes."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from platform_assets.catalog import Source
from platform_assets.checks import Check, CheckOutcome, CheckSubject, run_checks
from platform_assets.errors import RunError
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.load import load, source_schema
from platform_assets.runtime.push import push
from platform_assets.runtime.rebuild import rebuild
from platform_assets.runtime.report import PartlyDoneError, RunFailedError, RunReport
from platform_assets.runtime.schema_guard import refuse_type_changes
from platform_assets.settings import Settings

log = logging.getLogger("platform")

Command = Literal["push", "load", "check", "rebuild"]


def layers_of(command: Command, load: bool = True) -> tuple[Layer, ...]:
    """The assets a command materializes: push → raw (and warehouse unless --no-load)."""
    if command == "rebuild":
        return (Layer.RAW, Layer.WAREHOUSE)
    if command == "push":
        return (Layer.RAW, Layer.WAREHOUSE) if load else (Layer.RAW,)
    if command == "load":
        return (Layer.WAREHOUSE,)
    return ()


@dataclass(frozen=True)
class SourceJob:
    command: Command
    source: Source
    periods: Sequence[Period]
    layers: tuple[Layer, ...]
    checks: Sequence[Check]
    run_id: str


def run_source_job(job: SourceJob, settings: Settings) -> RunReport:
    """The job's report; a failure raises RunFailedError with what was done and how to resume."""
    started = time.perf_counter()
    report = RunReport(job.command, job.source.name, list(job.periods))
    try:
        _run(job, settings, report)
    except RunError as error:
        if isinstance(error, PartlyDoneError):
            report.materializations.append(error.done)
        hint = resume_hint(job, report)
        report.failure = f"{error}; {hint}" if hint else str(error)
        raise RunFailedError(report) from None
    finally:
        report.seconds = time.perf_counter() - started
    return report


def _run(job: SourceJob, settings: Settings, report: RunReport) -> None:
    if job.command != "rebuild":
        refuse_type_changes(job.source, settings.lake)
    # a push or load holds its partitions (a second run over them waits, then fails); checks
    # alone only read
    with (
        settings.lease(job.source, job.periods, job.run_id)
        if job.layers
        else contextlib.nullcontext()
    ):
        if job.command == "rebuild":
            report.materializations.extend(rebuild(job.source, job.periods, job.run_id, settings))
        else:
            if Layer.RAW in job.layers:
                report.materializations.append(push(job.source, job.periods, job.run_id, settings))
            if Layer.WAREHOUSE in job.layers:
                report.materializations.append(load(job.source, job.periods, settings))
        if job.checks:
            report.checks.extend(_checks(job, settings))


def resume_hint(job: SourceJob, report: RunReport) -> str | None:
    """What the failed job left and the main.py command(s) that finish it; None when it wrote
    nothing (the same command is the retry)."""
    keys = [period.key for period in job.periods]
    written = {item.layer: {p.key for p in item.partitions} for item in report.materializations}
    published = [key for key in keys if key in written.get(Layer.RAW, ())]
    name = job.source.name
    no_load = "" if Layer.WAREHOUSE in job.layers else " --no-load"
    complete = all(layer in written for layer in job.layers) and (
        Layer.RAW not in job.layers or len(published) == len(keys)
    )
    if complete:  # what failed came after the writes (checks, the lease, old files): its line says
        return None
    if job.command != "push" or not published:
        return None
    if len(published) == len(keys):  # the load failed
        return f"all {len(keys)} partitions are in the lake, none loaded; to resume: " + (
            main_command("load", name, keys)
        )
    # from the first partition not published on (those after it published alongside are
    # published again, idempotently); the ones before it loaded by themselves
    gap = next(index for index, key in enumerate(keys) if key not in published)
    resume = main_command("push", name, keys[gap:], no_load)
    if not no_load and gap:
        resume += f", then {main_command('load', name, keys[:gap])}"
    spans = ", ".join(_span(run) for run in _runs(keys, set(published)))
    return (
        f"{len(published)} of {len(keys)} partitions published ({spans})"
        f"{', none loaded' if not no_load else ''}; to resume: {resume}"
    )


def _runs(keys: Sequence[str], chosen: set[str]) -> list[list[str]]:
    """The consecutive runs of `keys` that are in `chosen`."""
    runs: list[list[str]] = []
    for index, key in enumerate(keys):
        if key in chosen:
            if index and keys[index - 1] in chosen:
                runs[-1].append(key)
            else:
                runs.append([key])
    return runs


def main_command(command: str, source: str, keys: Sequence[str], flags: str = "") -> str:
    """The main.py command line for `command` over `keys` of a source."""
    return f"python main.py {command} --source {source} --partition {_span(keys, ' --to ')}{flags}"


def _span(keys: Sequence[str], between: str = "..") -> str:
    return keys[0] if len(keys) == 1 else f"{keys[0]}{between}{keys[-1]}"


def _checks(job: SourceJob, settings: Settings) -> list[CheckOutcome]:
    schema = source_schema(job.source, settings.lake)
    subject = CheckSubject(job.source, job.periods, schema, settings.lake, settings.warehouse)
    outcomes = run_checks(job.checks, subject)
    for outcome in outcomes:
        level = logging.INFO if outcome.passed else logging.ERROR
        verdict = "passed" if outcome.passed else "failed"
        log.log(level, "check %s %s: %s", outcome.check.qualified_name, verdict, outcome.summary)
    return outcomes
