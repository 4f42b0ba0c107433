"""Asset checks, computed where the data is (the lake's files, the warehouse's table).

A check is one object (check.py: its spec, measurement and verdict); this registry lists them.
Adding a check is one module and one line here: Dagster's check specs, main.py's `check`, the
run report and the sensor all follow from it.
"""

from __future__ import annotations

from collections.abc import Sequence

from platform_assets.catalog import Source
from platform_assets.checks.check import Check, CheckOutcome, CheckSubject, combine_outcomes
from platform_assets.checks.rows_match_lake import RowsMatchLake
from platform_assets.checks.schema_matches import SchemaMatches
from platform_assets.checks.unique_key import UniqueKey
from platform_assets.checks.versions_match_lake import VersionsMatchLake
from platform_assets.layers import SOURCE_LAYERS, Layer

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "Check",
    "CheckOutcome",
    "CheckSubject",
    "check_named",
    "checks_for",
    "combine_outcomes",
    "run_checks",
]

CHECKS: tuple[Check, ...] = (SchemaMatches(), RowsMatchLake(), VersionsMatchLake(), UniqueKey())
CHECK_NAMES = tuple(check.name for check in CHECKS)  # what a source's `checks:` may name


def checks_for(source: Source, layers: Sequence[Layer] = SOURCE_LAYERS) -> list[Check]:
    """The checks of these layers that apply to the source, in the registry's order."""
    return [check for check in CHECKS if check.layer in layers and check.applies_to(source)]


def check_named(qualified: str) -> Check:
    """The check a run report or Dagster names as 'layer/name'."""
    for check in CHECKS:
        if check.qualified_name == qualified:
            return check
    raise KeyError(f"no check {qualified!r}")


def run_checks(checks: Sequence[Check], subject: CheckSubject) -> list[CheckOutcome]:
    severity = subject.source.check_severity
    return [CheckOutcome(check, check.measure(subject), severity(check.name)) for check in checks]
