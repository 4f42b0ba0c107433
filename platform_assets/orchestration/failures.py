"""How a step fails when main.py does: its one-line error at the head of the message."""

from collections.abc import Sequence
from typing import Any

import dagster as dg

_PIPES_CLOSED_WITH_EXCEPTION = "[pipes] external process pipes closed with exception"


def reported_failure(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> str | None:
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False, limit=50
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None or event.message != _PIPES_CLOSED_WITH_EXCEPTION:
            continue
        error = event.engine_event_data.error
        if error is not None:
            return error.message.strip()
    return None


class MainFailedError(dg.Failure):
    """main.py failed: the step's failure, with the Pipes messages it sent before (its report
    names the partitions it wrote, which are recorded as materialized)."""

    def __init__(self, description: str, messages: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(description=description, **kwargs)
        self.messages = messages
