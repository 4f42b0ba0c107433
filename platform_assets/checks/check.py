"""What a check is: one object carrying its spec (layer, name, description), its measurement of
a range of partitions, and its verdict.

The verdict is read off the measurement's metadata alone, so the checks of a range's chunks
combine by adding their metadata up (`combine_outcomes`) and judging once more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import pyarrow as pa

from platform_assets.catalog import Severity, Source
from platform_assets.lake import Lake
from platform_assets.layers import Layer, qualified_name
from platform_assets.partitions import Period
from platform_assets.warehouse import Warehouse

SHOWN = 20  # problems listed in a check's metadata at most
Metadata = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    summary: str


@dataclass(frozen=True)
class CheckSubject:
    """What a check looks at: a source's partitions, its schema, the lake and the warehouse."""

    source: Source
    periods: Sequence[Period]
    schema: pa.Schema
    lake: Lake
    warehouse: Warehouse


class Check(ABC):
    layer: ClassVar[Layer]
    name: ClassVar[str]
    description: ClassVar[str]
    # metadata values (strings) that may differ between a range's chunks: joined, not refused
    joined: ClassVar[frozenset[str]] = frozenset()

    @property
    def qualified_name(self) -> str:
        """'raw/schema_matches': how Dagster's selection and the run report name it."""
        return qualified_name(self.layer, self.name)

    def applies_to(self, source: Source) -> bool:
        return True

    @abstractmethod
    def measure(self, subject: CheckSubject) -> Metadata:
        """Counts and examples, JSON-ready; counts add up across adjacent ranges."""

    @abstractmethod
    def judge(self, metadata: Metadata) -> Verdict: ...


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    metadata: Metadata
    severity: Severity = Severity.ERROR  # the catalog's for the source checked

    @property
    def fails_run(self) -> bool:
        """Failed, and of error severity: what makes `main.py check` exit 1."""
        return not self.passed and self.severity is Severity.ERROR

    @cached_property
    def verdict(self) -> Verdict:
        return self.check.judge(self.metadata)

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def summary(self) -> str:
        return self.verdict.summary


def combine_outcomes(outcomes: Sequence[CheckOutcome]) -> CheckOutcome:
    """One outcome for the same check over adjacent ranges: counts add up, lists join, the
    check's `joined` values become their distinct values, sorted and comma-separated."""
    check = outcomes[0].check
    merged: Metadata = {}
    for outcome in outcomes:
        for key, value in outcome.metadata.items():
            if key not in merged:
                merged[key] = value
            elif key in check.joined:
                merged[key] = ",".join(sorted({*merged[key].split(","), value}))
            elif isinstance(value, bool) or not isinstance(value, int | list):
                if value != merged[key]:
                    raise ValueError(f"check {outcome.check.name}: {key} differs between chunks")
            elif isinstance(value, int):
                merged[key] += value
            else:
                merged[key] = [*merged[key], *value][:SHOWN]
    return CheckOutcome(check, merged, outcomes[0].severity)
