"""P9, one big partition: a `files` source's day of 10,000,000 CSV rows pushed (lake and DuckDB
warehouse, the checks included; and lake only) against a day of 1,000,000, and bare pyarrow
writing the big day's parquet, streaming (`csv.open_csv` into a `ParquetWriter`) and whole
(`csv.read_csv`, then `write_table`); whole processes, side by side. Peak RSS must not follow
the rows.

    .venv/bin/python -m bench.big_partition [--runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench.harness import PEERS, Variant, interleave, markdown_table, run_case
from bench.setup import catalog_home, fresh_platform, push_source

SMALL, BIG = 1_000_000, 10_000_000
CHUNK = 500_000
DAYS = {SMALL: "2024-01-01", BIG: "2024-01-02"}
CATALOG = """
sources:
  - name: events
    read:
      kind: files
      path: events/{dt:%Y-%m-%d}.csv
      format: csv
    partitioning: {granularity: daily, start: 2024-01-01, end: 2024-01-03}
    key: [id]
    columns: {id: int64, at: "timestamp[s]", kind: string, amount: double, note: string}
"""


def write_day(path: Path, day: str, rows: int) -> None:
    """`rows` events of `day` as one CSV, written a chunk at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    start = pa.scalar(pa.scalar(f"{day}T00:00:00").cast(pa.timestamp("s")).value, pa.int64())
    kinds = pa.array(["view", "click", "purchase", "refund", "signup"])
    with pacsv.CSVWriter(path, _schema()) as writer:
        for first in range(0, rows, CHUNK):
            ids = pa.array(range(first, min(first + CHUNK, rows)), pa.int64())
            at = pc.add(start, pc.divide(ids, 116)).cast(pa.timestamp("s"))
            kind = pc.take(kinds, pc.bit_wise_and(ids, 3))
            amount = pc.divide(pc.multiply(ids, 37).cast(pa.float64()), 1000.0)
            note = pc.binary_join_element_wise("note for event ", ids.cast(pa.string()), "")
            writer.write_table(pa.table([ids, at, kind, amount, note], schema=_schema()))


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.int64()),
            ("at", pa.timestamp("s")),
            ("kind", pa.string()),
            ("amount", pa.float64()),
            ("note", pa.string()),
        ]
    )


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    runs = max(1, min(runs, 3))  # a big run takes tens of seconds
    home = work / "home"
    for rows, day in DAYS.items():
        write_day(home / "events" / f"{day}.csv", day, rows)
    env = catalog_home(home, CATALOG, work)
    fresh = fresh_platform(home, home / "out")

    def push(rows: int, *options: str) -> Variant:
        command = push_source("events", DAYS[rows], DAYS[rows], *options)
        name = f"platform push{' '.join(('', *options))}, {rows:,} rows"
        return Variant(name, lambda _: command, env, fresh)

    def bare(how: str) -> Variant:
        script = [sys.executable, str(PEERS / "pyarrow_day.py"), how]
        paths = [str(home / "events" / f"{DAYS[BIG]}.csv"), str(home / "out" / "day.parquet")]
        return Variant(f"pyarrow {how}, {BIG:,} rows", lambda _: [*script, *paths], {}, fresh)

    small, big, lake_only = push(SMALL), push(BIG), push(BIG, "--no-load")
    streaming, whole = bare("streaming"), bare("whole")
    variants = [small, big, lake_only, streaming, whole]
    interleave(variants, runs)
    counts = {variant.name: BIG for variant in variants} | {small.name: SMALL}
    table = markdown_table(
        ("variant", "median s", "min-max s", "rows/s", "peak RSS MiB", "min-max MiB"),
        [
            (
                variant.name,
                f"{variant.seconds:.2f}",
                variant.seconds_range,
                f"{counts[variant.name] / variant.seconds:,.0f}",
                f"{variant.peak_rss_mib:.0f}",
                variant.peak_rss_range,
            )
            for variant in variants
        ],
    )
    size = (home / "events" / f"{DAYS[BIG]}.csv").stat().st_size / 2**20
    table += (
        f"\n\nThe big day's CSV is {size:,.0f} MiB. The platform's push reads it in blocks"
        " (`block_mib`), writes the lake (its schema check and Iceberg commit included), then"
        " loads DuckDB and runs its checks there; with `--no-load` it stops after the lake."
    )
    figures = {
        "big_over_small_peak_rss": big.peak_rss_mib / small.peak_rss_mib,
        "big_peak_rss_mib": big.peak_rss_mib,
        "lake_only_over_streaming_seconds": lake_only.seconds / streaming.seconds,
        "whole_peak_rss_mib": whole.peak_rss_mib,
    }
    return figures, table


if __name__ == "__main__":
    run_case(measure, __doc__, runs=3)
