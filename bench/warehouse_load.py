"""P3, warehouse load: the pushed year from the lake into the warehouse table, by the platform
and by DuckDB's own `INSERT … SELECT * FROM read_parquet(...)`; and January into PostgreSQL
through the Redshift path's stand-in (COPY from a manifest) against pandas `to_sql(method="multi")`.
Each variant times its load inside its process (no interpreter start, no imports).

    .venv/bin/python -m bench.warehouse_load [--runs 5]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

from bench.harness import PEERS, PROJECT, CountingMoto, markdown_table, run_case
from bench.setup import ROWS, landed_home, push_flights, upload_landing
from testkit.aws import POSTGRES_DSN, aws_mode_env, create_glue_database
from testkit.redshift_standin import RedshiftStandIn
from testkit.upstreams import POSTGRES_URL

JANUARY_ROWS = 27_004


def timed(command: list[str], env: dict[str, str]) -> float:
    """The `seconds=` a variant prints of its own load."""
    result = subprocess.run(
        command, env=env, cwd=PROJECT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stdout}{result.stderr}"[-3000:])
    line = next(line for line in result.stdout.splitlines() if line.startswith("seconds="))
    return float(line.split()[0].removeprefix("seconds="))


def push(env: dict[str, str], last: str) -> None:
    subprocess.run(
        push_flights("2013-01-01", last, load=False),
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    import os

    home = landed_home(work / "home")
    local = {**os.environ, "PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"}
    push(local, "2013-12-31")
    files = str(home / "lake" / "raw" / "flights" / "dt=*" / "*.parquet")
    platform_local = [sys.executable, "-m", "bench.platform_load", "2013-01-01", "2013-12-31"]
    duckdb_own = [sys.executable, str(PEERS / "duckdb_load.py"), str(work / "own.duckdb"), files]
    duckdb_set = [*duckdb_own[:-2], str(work / "set.duckdb"), files, "--settings"]
    seconds: dict[str, list[float]] = {
        "platform": [],
        "duckdb": [],
        "duckdb_set": [],
        "standin": [],
        "pandas": [],
    }
    for command in (platform_local, duckdb_own, duckdb_set):  # warm-up: tables, file cache
        timed(command, local)
    for _ in range(runs):
        seconds["platform"].append(timed(platform_local, local))
        seconds["duckdb"].append(timed(duckdb_own, local))
        seconds["duckdb_set"].append(timed(duckdb_set, local))
    with CountingMoto() as moto:
        standin = RedshiftStandIn(POSTGRES_DSN, ("127.0.0.1", 5432), moto.endpoint)
        port = standin.start()
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            upload_landing(moto, home, "landing")
            moto.client().create_bucket(Bucket="lake")
            lake_env = aws_mode_env(
                moto.endpoint,
                home,
                "s3://lake/lake",
                "s3://landing/drops",
                redshift_port=port,
                schema=schema,
            )
            create_glue_database(lake_env)
            aws = {**os.environ, **lake_env}
            push(aws, "2013-01-31")
            platform_aws = [sys.executable, "-m", "bench.platform_load", "2013-01-01", "2013-01-31"]
            lake, january = str(home / "lake" / "raw" / "flights"), "dt=2013-01-*/*.parquet"
            to_sql = [
                sys.executable,
                str(PEERS / "pandas_to_sql.py"),
                lake,
                january,
                POSTGRES_URL,
                schema,
            ]
            timed(platform_aws, aws)
            for _ in range(runs):
                seconds["standin"].append(timed(platform_aws, aws))
                seconds["pandas"].append(timed(to_sql, local))
        finally:
            standin.stop()
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    median = {name: statistics.median(values) for name, values in seconds.items()}
    spread = {name: f"{min(v):.3f}-{max(v):.3f}" for name, v in seconds.items()}
    names = {
        "duckdb": ("DuckDB's own INSERT ... SELECT read_parquet, the year", ROWS, "duckdb"),
        "duckdb_set": ("the same, DuckDB set as the platform sets it", ROWS, "duckdb"),
        "platform": ("platform load into DuckDB, the year", ROWS, "duckdb"),
        "pandas": (
            "pandas to_sql(method='multi') into PostgreSQL, January",
            JANUARY_ROWS,
            "pandas",
        ),
        "standin": ("platform load, Redshift path (stand-in), January", JANUARY_ROWS, "pandas"),
    }
    rows = [
        [
            label,
            f"{median[name]:.3f}",
            spread[name],
            f"{count / median[name]:,.0f}",
            f"{(count / median[name]) / (count / median[baseline]):.2f}",
        ]
        for name, (label, count, baseline) in names.items()
    ]
    table = markdown_table(
        ("variant", "median s", "min-max s", "rows/s", "x baseline rows/s"), rows
    )
    figures = {
        "platform_over_duckdb_rows_per_s": median["duckdb"] / median["platform"],
        "platform_over_duckdb_set_rows_per_s": median["duckdb_set"] / median["platform"],
        "standin_over_pandas_rows_per_s": median["pandas"] / median["standin"],
    }
    return figures, table


if __name__ == "__main__":
    run_case(measure, __doc__)
