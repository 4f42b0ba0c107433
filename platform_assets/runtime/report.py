"""What a run did, per asset and check: printed at the end and sent to Dagster as metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from platform_assets.partitions import Period
from platform_assets.runtime.assets import CheckSpec, Layer


@dataclass(frozen=True)
class PartitionResult:
    key: str
    rows: int
    bytes: int
    files: int


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


@dataclass(frozen=True)
class CheckOutcome:
    spec: CheckSpec
    passed: bool
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunReport:
    command: str
    name: str
    periods: list[Period]
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    seconds: float = 0.0

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
            lines.append(
                f"  check {check.spec.layer}/{check.spec.name}: {verdict} ({check.summary})"
            )
        return lines
