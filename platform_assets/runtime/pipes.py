"""The bridge to Dagster Pipes: partitions and checks in; logs, materializations, checks out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster_pipes import PipesContext, PipesEnvVarParamsLoader, open_dagster_pipes

from platform_assets.runtime.assets import asset_key
from platform_assets.runtime.report import RunReport

CHECKS_EXTRA = "checks"


@contextmanager
def dagster_pipes() -> Iterator[PipesContext | None]:
    """The Pipes context when Dagster launched this process, else None (and no warning)."""
    params = PipesEnvVarParamsLoader()
    if not params.is_dagster_pipes_process():
        yield None
        return
    with open_dagster_pipes(params_loader=params) as context:
        handler = _PipesLogHandler(context)
        logging.getLogger("platform").addHandler(handler)
        try:
            yield context
        finally:
            logging.getLogger("platform").removeHandler(handler)


def partition_range(context: PipesContext) -> tuple[str, str] | None:
    if not context.is_partition_step:
        return None
    keys = context.partition_key_range
    return keys["start"], keys["end"]


def selected_checks(context: PipesContext) -> list[str] | None:
    """'raw/schema_matches'-style names Dagster selected, or None if it did not say."""
    return context.extras.get(CHECKS_EXTRA)


def report(context: PipesContext, run: RunReport) -> None:
    for item in run.materializations:
        context.report_asset_materialization(
            metadata=_typed(item.metadata()), asset_key=asset_key(item.layer, run.name)
        )
    for check in run.checks:
        context.report_asset_check(
            check_name=check.spec.name,
            passed=check.passed,
            severity="ERROR",
            metadata=_typed({"summary": check.summary, **check.metadata}),
            asset_key=asset_key(check.spec.layer, run.name),
        )


def _typed(metadata: dict[str, Any]) -> dict[str, Any]:
    """Pipes infers scalars' types; lists and mappings must be marked as JSON."""
    return {
        key: {"raw_value": value, "type": "json"} if isinstance(value, list | dict) else value
        for key, value in metadata.items()
    }


class _PipesLogHandler(logging.Handler):
    def __init__(self, context: PipesContext) -> None:
        super().__init__()
        self._context = context

    def emit(self, record: logging.LogRecord) -> None:
        self._context.log.log(record.levelno, self.format(record))
