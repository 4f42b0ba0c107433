"""The one-line error main.py reported through Pipes, to head a failed step's message."""

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
