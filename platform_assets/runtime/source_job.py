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
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.load import load, source_schema
from platform_assets.runtime.push import push
from platform_assets.runtime.rebuild import rebuild
from platform_assets.runtime.report import RunReport
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
    started = time.perf_counter()
    report = RunReport(job.command, job.source.name, list(job.periods))
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
    report.seconds = time.perf_counter() - started
    return report


def _checks(job: SourceJob, settings: Settings) -> list[CheckOutcome]:
    schema = source_schema(job.source, settings.lake)
    subject = CheckSubject(job.source, job.periods, schema, settings.lake, settings.warehouse)
    outcomes = run_checks(job.checks, subject)
    for outcome in outcomes:
        level = logging.INFO if outcome.passed else logging.ERROR
        verdict = "passed" if outcome.passed else "failed"
        log.log(level, "check %s %s: %s", outcome.check.qualified_name, verdict, outcome.summary)
    return outcomes
