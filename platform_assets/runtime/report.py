"""What a run did, per asset and check: printed at the end, sent to Dagster, kept on S3.

A report is the one contract between main.py and whoever records its work: Dagster (through a
Pipes message), the sensor (through a JSON object on S3), and the chunks of a fanned-out
backfill (whose reports combine into one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from platform_assets.checks import CheckOutcome, check_named, combine_outcomes
from platform_assets.lake import Manifest
from platform_assets.layers import Layer, qualified_name
from platform_assets.partitions import Period


@dataclass(frozen=True)
class PartitionResult:
    key: str
    rows: int
    bytes: int
    files: int

    @classmethod
    def published(cls, period: Period, manifest: Manifest) -> PartitionResult:
        return cls(
            period.key, manifest.record_count, manifest.content_length, len(manifest.entries)
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

    def metadata(self) -> dict[str, Any]:
        keys = [partition.key for partition in self.partitions]
        return {
            "dagster/row_count": self.rows,
            "bytes": self.bytes,
            "files": self.files,
            "schema_fingerprint": self.schema_fingerprint,
            "partitions": f"{keys[0]}..{keys[-1]} ({len(keys)})" if keys else "none",
            "rows_by_partition": {partition.key: partition.rows for partition in self.partitions},
            "duration_s": round(self.seconds, 3),
            "location": self.location,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": str(self.layer),
            "location": self.location,
            "schema_fingerprint": self.schema_fingerprint,
            "seconds": self.seconds,
            "partitions": [
                [partition.key, partition.rows, partition.bytes, partition.files]
                for partition in self.partitions
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Materialization:
        return cls(
            Layer(data["layer"]),
            data["location"],
            tuple(PartitionResult(*partition) for partition in data["partitions"]),
            data["schema_fingerprint"],
            float(data["seconds"]),
        )


@dataclass
class RunReport:
    command: str
    name: str
    periods: list[Period]
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    seconds: float = 0.0
    run_id: str = ""

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def lines(self) -> list[str]:
        first, last = self.periods[0].key, self.periods[-1].key
        span = first if first == last else f"{first}..{last} ({len(self.periods)} partitions)"
        lines = [f"{self.command} {self.name} {span}: done in {self.seconds:.2f}s"]
        for item in self.materializations:
            lines.append(
                f"  {item.layer:<9} {item.rows:>11,} rows {item.files:>5} files"
                f" {item.bytes:>13,} bytes  schema {item.schema_fingerprint}  {item.location}"
            )
        for check in self.checks:
            verdict = "passed" if check.passed else "FAILED"
            lines.append(f"  check {check.check.qualified_name}: {verdict} ({check.summary})")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "name": self.name,
            "run_id": self.run_id,
            "seconds": self.seconds,
            "periods": [
                [period.start.isoformat(), period.end.isoformat()] for period in self.periods
            ],
            "materializations": [item.to_dict() for item in self.materializations],
            "checks": [
                {
                    "layer": str(check.check.layer),
                    "name": check.check.name,
                    "metadata": check.metadata,
                }
                for check in self.checks
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        return cls(
            command=data["command"],
            name=data["name"],
            run_id=data.get("run_id", ""),
            seconds=float(data["seconds"]),
            periods=[
                Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
                for start, end in data["periods"]
            ],
            materializations=[Materialization.from_dict(item) for item in data["materializations"]],
            checks=[
                CheckOutcome(
                    check_named(qualified_name(Layer(check["layer"]), check["name"])),
                    check["metadata"],
                )
                for check in data["checks"]
            ],
        )


def combine(reports: Sequence[RunReport]) -> RunReport:
    """One report for chunks of one range run side by side: partitions joined, checks merged."""
    first = reports[0]
    materializations = []
    for layer in dict.fromkeys(
        item.layer for report in reports for item in report.materializations
    ):
        items = [
            item for report in reports for item in report.materializations if item.layer == layer
        ]
        partitions = sorted(
            (partition for item in items for partition in item.partitions), key=lambda p: p.key
        )
        fingerprints = sorted({item.schema_fingerprint for item in items})
        materializations.append(
            Materialization(
                layer,
                items[0].location,
                tuple(partitions),
                ",".join(fingerprints),
                max(item.seconds for item in items),
            )
        )
    checks = []
    for kind in dict.fromkeys(outcome.check for report in reports for outcome in report.checks):
        checks.append(
            combine_outcomes(
                [
                    outcome
                    for report in reports
                    for outcome in report.checks
                    if outcome.check is kind
                ]
            )
        )
    return RunReport(
        command=first.command,
        name=first.name,
        periods=sorted({period for report in reports for period in report.periods}),
        materializations=materializations,
        checks=checks,
        seconds=max(report.seconds for report in reports),
        run_id=first.run_id,
    )
