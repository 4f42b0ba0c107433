"""The local Dagster instance, `$DAGSTER_HOME/dagster.yaml` for `make run` and `dagster dev`:
Dagster's defaults (SQLite under DAGSTER_HOME), telemetry off, and an event log that keeps its
engines and stores batches (`event_log.py`), with the environment it is run in (`ENVIRONMENT`).

    python -m platform_assets.orchestration.local_instance DAGSTER_HOME
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from platform_assets.orchestration.event_log import KeptEngineSqliteEventLogStorage

# Dagster hands its storage a batch of asset events only where this is set, in the process storing
# them: the one creating a run (its planned events) and the run's own (its materializations).
# The Makefile's `run` and `serve` export the same.
ENVIRONMENT = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


def write_local_instance(dagster_home: Path) -> Path:
    """`dagster_home`'s dagster.yaml, the event log under `storage/` as Dagster's default has it."""
    storage = KeptEngineSqliteEventLogStorage
    instance = {
        "telemetry": {"enabled": False},
        "event_log_storage": {
            "module": storage.__module__,
            "class": storage.__name__,
            "config": {"base_dir": str(dagster_home.resolve() / "storage")},
        },
    }
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(yaml.safe_dump(instance, sort_keys=False))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dagster_home", type=Path)
    print(write_local_instance(parser.parse_args().dagster_home))
