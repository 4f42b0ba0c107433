"""main.py as a process: started or run to the end outside any Dagster launch, and a backfill
through `dagster asset materialize`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_assets.settings import PROJECT_DIRECTORY

MAIN = PROJECT_DIRECTORY / "main.py"
DAGSTER = str(Path(sys.executable).parent / "dagster")


FLIGHTS = "raw/flights,warehouse/flights"


def materialize(selection: str, partitions: str) -> list[str]:
    """`dagster asset materialize` of a selection of assets, for a range (a...b, one run) or one
    partition."""
    option = "--partition-range" if "..." in partitions else "--partition"
    return [
        DAGSTER,
        "asset",
        "materialize",
        "-m",
        "platform_assets.definitions",
        "--select",
        selection,
        option,
        partitions,
    ]


def job_execute(job: str, first: str, last: str) -> list[str]:
    """`dagster job execute` of a source's job over `first`...`last` as one run, as its schedule
    and `make run` start it (the assets and main.py's checks, no other check steps)."""
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return [
        DAGSTER,
        "job",
        "execute",
        "-m",
        "platform_assets.definitions",
        "-j",
        job,
        "--tags",
        json.dumps(tags),
    ]


def materialize_flights(partitions: str) -> list[str]:
    """materialize of raw/flights and warehouse/flights."""
    return materialize(FLIGHTS, partitions)


def local_dagster_environment(dagster_home: Path) -> dict[str, str]:
    """The environment of the local instance `make run` writes into `dagster_home` (unless it has
    one already), as `make run` and `make serve` set it."""
    from platform_assets.orchestration.local_instance import ENVIRONMENT, write_local_instance

    if not (dagster_home / "dagster.yaml").exists():
        write_local_instance(dagster_home)
    return {**ENVIRONMENT, "DAGSTER_HOME": str(dagster_home)}


def backfill(
    env: Mapping[str, str], dagster_home: Path, selection: str, first: str, last: str
) -> subprocess.CompletedProcess[str]:
    """materialize of `selection` over `first`...`last` on the local instance, run to the end."""
    return subprocess.run(
        materialize(selection, f"{first}...{last}"),
        cwd=PROJECT_DIRECTORY,
        env={**os.environ, **env, **local_dagster_environment(dagster_home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def backfill_flights(
    env: Mapping[str, str], dagster_home: Path, first: str, last: str
) -> subprocess.CompletedProcess[str]:
    """backfill of raw/flights and warehouse/flights."""
    return backfill(env, dagster_home, FLIGHTS, first, last)


def main_environment(env: Mapping[str, str]) -> dict[str, str]:
    """This environment plus `env`, outside any Dagster launch (no Pipes context)."""
    environment = {**os.environ, **env}
    environment.pop("DAGSTER_PIPES_CONTEXT", None)
    return environment


def start_main(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """`python main.py ARGS` started in main_environment(env); its stderr piped."""
    return subprocess.Popen(
        [sys.executable, str(MAIN), *arguments],
        env=main_environment(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def main_process(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """`python main.py ARGS` run to the end in main_environment(env)."""
    return subprocess.run(
        [sys.executable, str(MAIN), *arguments],
        env=main_environment(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
