"""The local Dagster instance `make run` writes: its event log keeps its engines, yet a run's
log watcher (the UI's live logs) still wakes for every event, and a wipe starts shards anew; its
environment is what `make run` and `make serve` export."""

from __future__ import annotations

import logging
import re
import time
import uuid

import dagster as dg
from dagster._core.events.log import EventLogEntry

from platform_assets.orchestration.event_log import KeptEngineSqliteEventLogStorage
from platform_assets.orchestration.local_instance import ENVIRONMENT, write_local_instance
from platform_assets.settings import PROJECT_DIRECTORY


def entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
    )


def test_the_local_event_log_wakes_a_runs_watcher_for_each_event_and_survives_a_wipe(tmp_path):
    write_local_instance(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, KeptEngineSqliteEventLogStorage)
        assert storage._base_dir == str(tmp_path / "storage")  # Dagster's default place
        run_id = str(uuid.uuid4())
        seen: list[str] = []
        storage.store_event(entry(run_id, "before watching"))
        storage.watch(run_id, None, lambda event, _cursor: seen.append(event.user_message))
        for number in range(3):  # each event wakes the watcher, which reads from the start
            storage.store_event(entry(run_id, f"event {number}"))
            deadline = time.monotonic() + 15
            while len(seen) < number + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert seen == ["before watching", *(f"event {n}" for n in range(number + 1))]
        storage.end_watch(run_id, storage._watchers[run_id].copy().popitem()[0])
        assert [e.user_message for e in storage.get_logs_for_run(run_id)][-1] == "event 2"
        storage.wipe()
        storage.store_event(entry(run_id, "after the wipe"))
        assert [e.user_message for e in storage.get_logs_for_run(run_id)] == ["after the wipe"]


def test_make_run_and_serve_export_the_local_instances_environment():
    makefile = (PROJECT_DIRECTORY / "Makefile").read_text()
    exported = dict(re.findall(r"^run serve: export (\w+) := (\S+)$", makefile, re.MULTILINE))
    assert ENVIRONMENT.items() <= exported.items()
