"""The bridge to Dagster Pipes: partitions and checks in; logs and the run's report out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dagster_pipes import (
    PipesContext,
    PipesDefaultContextLoader,
    PipesDefaultMessageWriter,
    PipesEnvVarParamsLoader,
    PipesS3ContextLoader,
    PipesS3MessageWriter,
    open_dagster_pipes,
)

from platform_assets.runtime.protocol import CHECKS_EXTRA, REPORT_MESSAGE, report_to_json
from platform_assets.runtime.report import RunReport

PER_PARTITION_FLAG = "per_partition"
PER_PARTITION = {PER_PARTITION_FLAG: True}  # `extra` of a log line that Dagster need not store


@contextmanager
def dagster_pipes(s3_client: Callable[[], Any]) -> Iterator[PipesContext | None]:
    """The Pipes context when Dagster launched this process, else None (and no warning).

    Dagster on the same machine hands over context and messages through files; from Step
    Functions they travel through S3 (`s3_client` makes the client only then).
    """
    params = PipesEnvVarParamsLoader()
    if not params.is_dagster_pipes_process():
        yield None
        return
    on_s3 = "bucket" in params.load_context_params()
    with open_dagster_pipes(
        params_loader=params,
        context_loader=PipesS3ContextLoader(s3_client()) if on_s3 else PipesDefaultContextLoader(),
        message_writer=PipesS3MessageWriter(s3_client(), interval=1)
        if on_s3
        else PipesDefaultMessageWriter(),
    ) as context:
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
    """Dagster turns the report into materializations and check results (one format for all)."""
    context.report_custom_message({REPORT_MESSAGE: report_to_json(run)})


class _PipesLogHandler(logging.Handler):
    def __init__(self, context: PipesContext) -> None:
        super().__init__()
        self._context = context

    def emit(self, record: logging.LogRecord) -> None:
        """All but the per-partition lines: Dagster stores each log event one by one, and the
        throttled progress lines (runtime/progress.py) stand for them; the run's own log keeps
        every line."""
        if getattr(record, PER_PARTITION_FLAG, False):
            return
        self._context.log.log(record.levelno, self.format(record))
