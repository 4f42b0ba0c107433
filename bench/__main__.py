"""`make bench`: every case (P1-P9) side by side with its peers, the goals judged, and the tables
written into BENCHMARKS.md between its markers, with the machine they ran on.

    .venv/bin/python -m bench [--runs 5] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    backfill,
    big_partition,
    cold_start,
    iceberg_commit,
    lake_write,
    memory_growth,
    merge_load,
    nested_flatten,
    warehouse_load,
)
from bench.harness import PROJECT, goal_line, machine, machine_busy, markdown_table

BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"
Figures = dict[str, float]


def goals(
    p1: Figures,
    p2: Figures,
    p3: Figures,
    p4: Figures,
    p5: Figures,
    p6: Figures,
    p7: Figures,
    p8: Figures,
    p9: Figures,
) -> list[tuple[str, ...]]:
    peak = max(p1["peak_rss_mib"], p4["peak_rss_mib"])
    return [
        goal_line(
            "P1 S3 writes and listings per partition, range backfill <= 2",
            f"{p1['publish_requests_per_partition']:.3f} (leases: +"
            f"{p1['lease_requests_per_partition']:.3f}; all, the check's reads too:"
            f" {p1['all_requests_per_partition']:.3f})",
            p1["publish_requests_per_partition"] <= 2.01,
        ),
        goal_line("P1/P4 peak RSS <= 600 MiB", f"{peak:.0f} MiB", peak <= 600),
        goal_line(
            "P1 local folder: time <= 1.25 x pyarrow's",
            f"{p1['local_over_pyarrow']:.2f} x",
            p1["local_over_pyarrow"] <= 1.25,
        ),
        goal_line(
            "P1 moto S3: time <= 0.5 x pyarrow's",
            f"{p1['s3_over_pyarrow']:.2f} x",
            p1["s3_over_pyarrow"] <= 0.5,
        ),
        goal_line(
            "P1 moto S3: throughput >= 2 x awswrangler's",
            f"{p1['throughput_over_awswrangler']:.2f} x",
            p1["throughput_over_awswrangler"] >= 2,
        ),
        goal_line(
            "P2 the year through Dagster on SQLite (the local default) <= 6 x the bare script",
            f"{p2['dagster_over_bare']:.2f} x (main.py alone: {p2['main_over_bare']:.2f} x)",
            p2["dagster_over_bare"] <= 6,
        ),
        goal_line(
            "P2 the year through Dagster on PostgreSQL <= 3 x the bare script",
            f"{p2['dagster_postgres_over_bare']:.2f} x",
            p2["dagster_postgres_over_bare"] <= 3,
        ),
        goal_line(
            "P2 one range run >= 50 x faster than per-partition runs",
            f"{p2['per_partition_over_range']:.0f} x",
            p2["per_partition_over_range"] >= 50,
        ),
        goal_line(
            "P3 load rows/s >= 0.8 x DuckDB's own",
            f"{p3['platform_over_duckdb_rows_per_s']:.2f} x (DuckDB set as the platform sets it:"
            f" {p3['platform_over_duckdb_set_rows_per_s']:.2f} x)",
            p3["platform_over_duckdb_rows_per_s"] >= 0.8,
        ),
        goal_line(
            "P3 Redshift path never row by row (rows/s vs pandas to_sql multi)",
            f"{p3['standin_over_pandas_rows_per_s']:.1f} x",
            p3["standin_over_pandas_rows_per_s"] > 1,
        ),
        goal_line(
            "P4 peak RSS growth < 1.3 x for ~12 x the range (30 -> 365 days)",
            f"{p4['year_over_month']:.2f} x",
            p4["year_over_month"] < 1.3,
        ),
        goal_line(
            "P4 peak RSS growth < 1.3 x for 10 x the rows (synthetic year)",
            f"{p4['tenfold_over_year']:.2f} x",
            p4["tenfold_over_year"] < 1.3,
        ),
        goal_line(
            "P5 main.py --help <= 1.5 s",
            f"{p5['help_seconds']:.2f} s",
            p5["help_seconds"] <= 1.5,
        ),
        goal_line(
            "P5 main.py to one partition published <= 1.5 s",
            f"{p5['first_partition_seconds']:.2f} s",
            p5["first_partition_seconds"] <= 1.5,
        ),
        goal_line(
            "P5 one partition published <= 2 x a bare pyarrow script's time",
            f"{p5['first_partition_over_bare']:.1f} x (Iceberg off:"
            f" {p5['first_partition_iceberg_off_over_bare']:.1f} x"
            + (
                f"; the container's packages: {p5['first_partition_runtime_over_bare']:.1f} x"
                if "first_partition_runtime_over_bare" in p5
                else ""
            )
            + ")",
            p5["first_partition_over_bare"] <= 2,
        ),
        goal_line(
            "P6 a month of a change log merged: rows/s >= 1 x dlt's merge into DuckDB",
            f"{p6['merge_over_dlt_rows_per_s']:.2f} x (peak RSS {p6['merge_peak_rss_mib']:.0f}"
            f" MiB, dlt's {p6['dlt_peak_rss_mib']:.0f} MiB)",
            p6["merge_over_dlt_rows_per_s"] >= 1,
        ),
        goal_line(
            "P7 the Iceberg commit adds <= 10 % to the year's push, locally",
            f"{p7['iceberg_on_over_off']:.2f} x",
            p7["iceberg_on_over_off"] <= 1.10,
        ),
        goal_line(
            "P7 the commit's S3 and Glue requests are per run, not per partition",
            f"{p7['iceberg_commit_requests_year']:.0f} for the year,"
            f" {p7['iceberg_commit_requests_month']:.0f} for January (retired copies apart)",
            p7["iceberg_commit_requests_year"] <= p7["iceberg_commit_requests_month"] + 5,
        ),
        goal_line(
            "P8 nested JSON flattened: records/s >= 1 x dlt's normalizer",
            f"{p8['flatten_over_dlt_records_per_s']:.2f} x (peak RSS"
            f" {p8['flatten_peak_rss_mib']:.0f} MiB,"
            f" dlt's {p8['dlt_flatten_peak_rss_mib']:.0f} MiB)",
            p8["flatten_over_dlt_records_per_s"] >= 1,
        ),
        goal_line(
            "P9 peak RSS growth < 1.3 x for 10 x the rows in one partition",
            f"{p9['big_over_small_peak_rss']:.2f} x ({p9['big_peak_rss_mib']:.0f} MiB; pyarrow"
            f" reading the day whole: {p9['whole_peak_rss_mib']:.0f} MiB)",
            p9["big_over_small_peak_rss"] < 1.3,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    parser.add_argument(
        "--cases",
        default="P1,P2,P3,P4,P5,P6,P7,P8,P9",
        help="a subset only prints its tables: P2,P5",
    )
    arguments = parser.parse_args()
    os.chdir(PROJECT)
    started = time.perf_counter()
    cases: list[tuple[str, Callable[[int, Path], tuple[Figures, str]], int]] = [
        ("P1 lake write: `bench/lake_write.py`", lake_write.measure, arguments.runs),
        ("P2 backfill end to end: `bench/backfill.py`", backfill.measure, arguments.runs),
        ("P3 warehouse load: `bench/warehouse_load.py`", warehouse_load.measure, arguments.runs),
        (
            "P4 memory against range and rows: `bench/memory_growth.py`",
            memory_growth.measure,
            arguments.runs,
        ),
        ("P5 cold start: `bench/cold_start.py`", cold_start.measure, max(arguments.runs, 11)),
        ("P6 merge: `bench/merge_load.py`", merge_load.measure, arguments.runs),
        ("P7 Iceberg commit: `bench/iceberg_commit.py`", iceberg_commit.measure, arguments.runs),
        (
            "P8 nested JSON flattened: `bench/nested_flatten.py`",
            nested_flatten.measure,
            arguments.runs,
        ),
        ("P9 one big partition: `bench/big_partition.py`", big_partition.measure, arguments.runs),
    ]
    selected = [case for case in cases if case[0].split()[0] in arguments.cases.split(",")]
    figures: list[Figures] = []
    sections: list[str] = []
    warnings: set[str] = set()
    for title, measure, runs in selected:
        if busy := machine_busy():  # before each case: a suite may start at any time
            warning = f"before {title.split(':')[0]}, {busy}"
            print(f"warning: {warning}", flush=True)
            warnings.add(warning)
        print(f"{title} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-") as work:
            case_figures, table = measure(runs, Path(work))
        figures.append(case_figures)
        sections.append(f"### {title}, {runs} runs\n\n{table}\n")
        print(table, flush=True)
    if len(selected) < len(cases):
        return
    goal_table = markdown_table(("goal", "measured", "verdict"), goals(*figures))
    minutes = (time.perf_counter() - started) / 60
    shared = "".join(f"**Warning**: {warning}.\n\n" for warning in sorted(warnings))
    report = (
        f"Run {dt.date.today()} on {machine()}; {minutes:.0f} minutes in all.\n\n{shared}"
        f"### Goals\n\n{goal_table}\n\n" + "\n".join(sections)
    )
    print(goal_table)
    if not arguments.no_write:
        path = PROJECT / "BENCHMARKS.md"
        text = path.read_text()
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        path.write_text(f"{head}{BEGIN}\n{report}\n{END}{tail}")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
