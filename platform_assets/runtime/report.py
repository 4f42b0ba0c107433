"""What a run did, per asset and check: printed at the end, sent to Dagster, kept on S3.

A report is the one contract between main.py and whoever records its work (protocol.py carries
it as JSON): Dagster through a Pipes message, the sensor through an object on S3, and the chunks
of a fanned-out backfill, whose reports combine into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from platform_assets.checks import CheckOutcome, combine_outcomes
from platform_assets.errors import RunError
from platform_assets.lake import Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period


@dataclass(frozen=True)
class PartitionResult:
    key: str
    rows: int
    bytes: int
    files: int
    rows_outside_period: int = 0  # read, but dated outside the partition: not published

    @classmethod
    def published(
        cls, period: Period, manifest: Manifest, rows_outside_period: int = 0
    ) -> PartitionResult:
        return cls(
            period.key,
            manifest.record_count,
            manifest.content_length,
            len(manifest.entries),
            rows_outside_period,
        )


@dataclass(frozen=True)
class Materialization:
    layer: Layer
    location: str
    partitions: tuple[PartitionResult, ...]
    schema_fingerprint: str
    seconds: float

    @property
    def rows(self) -> int:
        return sum(partition.rows for partition in self.partitions)

    @property
    def bytes(self) -> int:
        return sum(partition.bytes for partition in self.partitions)

    @property
    def files(self) -> int:
        return sum(partition.files for partition in self.partitions)

    @property
    def rows_outside_period(self) -> int:
        return sum(partition.rows_outside_period for partition in self.partitions)


@dataclass
class RunReport:
    command: str
    name: str
    periods: list[Period]
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    seconds: float = 0.0
    run_id: str = ""
    # the line a failed run ended with; its materializations are what it did before failing
    failure: str = ""

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def span(self) -> str:
        """'partition A' or 'partitions A..B', as failure lines name what they cover."""
        first, last = self.periods[0].key, self.periods[-1].key
        return f"partition {first}" if first == last else f"partitions {first}..{last}"

    def lines(self) -> list[str]:
        first, last = self.periods[0].key, self.periods[-1].key
        span = first if first == last else f"{first}..{last} ({len(self.periods)} partitions)"
        lines = [f"{self.command} {self.name} {span}: done in {self.seconds:.2f}s"]
        for item in self.materializations:
            lines.append(
                f"  {item.layer:<9} {item.rows:>11,} rows {item.files:>5} files"
                f" {item.bytes:>13,} bytes  schema {item.schema_fingerprint}  {item.location}"
            )
            if item.rows_outside_period:
                lines.append(
                    f"  {'':<9} {item.rows_outside_period:>11,} rows dated outside their"
                    " partitions, not published"
                )
        for check in self.checks:
            verdict = (
                "passed"
                if check.passed
                else "FAILED"
                if check.fails_run
                else "failed, severity warn"
            )
            lines.append(f"  check {check.check.qualified_name}: {verdict} ({check.summary})")
        return lines


def last_attempts(reports: Sequence[RunReport]) -> list[RunReport]:
    """Of the reports of one command at the same partitions (a retried Batch job's attempts),
    the last; the others in their order."""
    latest = {(report.command, report.name, tuple(report.periods)): report for report in reports}
    return list(latest.values())


def combine(reports: Sequence[RunReport]) -> RunReport:
    """One report for chunks of one range run side by side: partitions joined, checks merged,
    each chunk by its last attempt."""
    reports = last_attempts(reports)
    first = reports[0]
    items = [item for report in reports for item in report.materializations]
    materializations = []
    for layer in dict.fromkeys(item.layer for item in items):
        of_layer = [item for item in items if item.layer == layer]
        partitions = sorted(
            (partition for item in of_layer for partition in item.partitions), key=lambda p: p.key
        )
        materializations.append(
            Materialization(
                layer,
                of_layer[0].location,
                tuple(partitions),
                ",".join(sorted({item.schema_fingerprint for item in of_layer})),
                max(item.seconds for item in of_layer),
            )
        )
    outcomes = [outcome for report in reports for outcome in report.checks]
    checks = [
        combine_outcomes([outcome for outcome in outcomes if outcome.check is check])
        for check in dict.fromkeys(outcome.check for outcome in outcomes)
    ]
    return RunReport(
        command=first.command,
        name=first.name,
        periods=sorted({period for report in reports for period in report.periods}),
        materializations=materializations,
        checks=checks,
        seconds=max(report.seconds for report in reports),
        run_id=first.run_id,
        failure="; ".join(report.failure for report in reports if report.failure),
    )


class PartlyDoneError(RunError):
    """A failure after some partitions of a range were written: what was written stands."""

    def __init__(self, message: str, done: Materialization) -> None:
        super().__init__(message)
        self.done = done


class RunFailedError(RunError):
    """A failed run, with its report: what it did before the failure and how to resume."""

    def __init__(self, report: RunReport) -> None:
        super().__init__(report.failure)
        self.report = report
