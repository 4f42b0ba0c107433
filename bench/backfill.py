"""P2, a backfill end to end (source → lake → warehouse): the year through Dagster as one run of
the source's job (on SQLite, the local default, and on PostgreSQL with the deployment's
deploy/dagster.yaml), against a bare pyarrow + duckdb script doing the same work, main.py alone,
and one Dagster run per partition (ten of them timed, the year extrapolated).

    .venv/bin/python -m bench.backfill [--runs 5] [--single-runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import PEERS, Variant, interleave, markdown_table, run_measured
from bench.setup import DAYS, ROWS, landed_home, push_flights
from testkit.deployed_dagster import deployed_instance, fresh_database
from testkit.main_process import (
    DAGSTER,
    job_execute,
    local_dagster_environment,
    materialize_flights,
)


def postgres_instance(directory: Path, database: str) -> dict[str, str]:
    """The deployment's instance in `database`, its schema created before any timing."""
    environment = deployed_instance(directory, database)
    subprocess.run(
        [DAGSTER, "instance", "migrate"],
        env={**os.environ, **environment},
        capture_output=True,
        check=True,
    )
    return environment


def measure(runs: int, work: Path, single_runs: int = 10) -> tuple[dict[str, float], str]:
    with fresh_database() as database:
        return measure_with(runs, work, single_runs, postgres_instance(work / "pg", database))


def measure_with(
    runs: int, work: Path, single_runs: int, postgres: dict[str, str]
) -> tuple[dict[str, float], str]:
    home = landed_home(work / "home")
    local = {"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"}
    env = {**local, **local_dagster_environment(work / "dagster")}
    year_job = job_execute("flights_job", "2013-01-01", "2013-12-31")
    through_dagster = Variant(
        "Dagster on SQLite (local default), the year as one run", lambda _: year_job, env=env
    )
    on_postgres = Variant(
        "Dagster on PostgreSQL (deploy/dagster.yaml), the year as one run",
        lambda _: year_job,
        env={**local, **postgres},
    )
    main_only = Variant(
        "main.py push (lake + warehouse), no Dagster",
        lambda _: push_flights("2013-01-01", "2013-12-31"),
        env=env,
    )
    bare = Variant(
        "bare script: pyarrow + duckdb",
        lambda _: [
            sys.executable,
            str(PEERS / "bare_backfill.py"),
            str(home / "landing" / "flights"),
            str(work / "bare-lake"),
            str(work / "bare.duckdb"),
        ],
    )
    variants = [bare, main_only, through_dagster, on_postgres]
    interleave(variants, runs)
    single = [
        run_measured(materialize_flights(f"2013-02-{day:02d}"), env).seconds
        for day in range(1, single_runs + 1)
    ]
    per_run = statistics.median(single)
    baseline = bare.seconds
    rows = [
        [
            v.name,
            f"{v.seconds:.2f}",
            v.seconds_range,
            f"{v.seconds / baseline:.2f}",
            f"{ROWS / v.seconds:,.0f}",
            f"{v.peak_rss_mib:.0f}",
        ]
        for v in variants
    ]
    rows.append(
        [
            f"Dagster, one run per partition ({single_runs} timed, x {DAYS})",
            f"{per_run * DAYS:.0f}",
            f"{min(single) * DAYS:.0f}-{max(single) * DAYS:.0f}",
            f"{per_run * DAYS / baseline:.0f}",
            f"{ROWS / (per_run * DAYS):,.0f}",
            "-",
        ]
    )
    table = markdown_table(
        ("variant", "median s", "min-max s", "x bare script", "rows/s", "peak RSS MiB"), rows
    )
    figures = {
        "dagster_over_bare": through_dagster.seconds / baseline,
        "dagster_postgres_over_bare": on_postgres.seconds / baseline,
        "per_partition_over_range": per_run * DAYS / through_dagster.seconds,
        "main_over_bare": main_only.seconds / baseline,
    }
    return figures, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single-runs", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        figures, table = measure(arguments.runs, Path(work), arguments.single_runs)
    print(table)
    print(figures)


if __name__ == "__main__":
    main()
