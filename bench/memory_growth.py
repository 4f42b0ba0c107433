"""P4, memory against range and volume: peak RSS of `main.py push` (lake and warehouse) for 30
days and for the year of flights, and for a synthetic year ten times larger (each day's rows ten
times over, `time_hour` moved by 1-9 seconds so that keys stay unique).

    .venv/bin/python -m bench.memory_growth [--runs 5]
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench.harness import Variant, interleave, markdown_table, run_case
from bench.setup import ROWS, fresh_home, landed_home, push_flights

COPIES = 10


def tenfold(landed: Path, home: Path) -> Path:
    """`landed`'s landing CSVs, each day's rows COPIES times, under a new PLATFORM_HOME."""
    for source in sorted((landed / "landing").rglob("*.csv")):
        day = pacsv.read_csv(source)
        moved = [
            day.set_column(
                day.schema.get_field_index("time_hour"),
                "time_hour",
                pc.add(day["time_hour"], pa.scalar(copy, pa.duration("s"))),
            )
            for copy in range(COPIES)
        ]
        sink = io.BytesIO()
        pacsv.write_csv(pa.concat_tables(moved), sink)
        target = home / source.relative_to(landed)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(sink.getvalue())
    return home


def push(home: Path, last: str) -> Variant:
    return Variant(
        "",
        lambda _: push_flights("2013-01-01", last),
        env={"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"},
    )


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    landed = landed_home(work / "landed")
    month = push(fresh_home(work / "month", landed), "2013-01-30")
    year = push(fresh_home(work / "year", landed), "2013-12-31")
    big = push(tenfold(landed, work / "tenfold"), "2013-12-31")
    month.name, year.name = "30 days (2013-01-01..30)", "the year, 365 days"
    big.name = f"the year x {COPIES} (synthetic), 365 days"
    variants = [month, year, big]
    interleave(variants, runs)
    counts = {month.name: 26_076, year.name: ROWS, big.name: ROWS * COPIES}
    rows = [
        [
            v.name,
            f"{counts[v.name]:,}",
            f"{v.peak_rss_mib:.0f}",
            v.peak_rss_range,
            f"{v.peak_rss_mib / month.peak_rss_mib:.2f}",
            f"{v.seconds:.2f}",
        ]
        for v in variants
    ]
    table = markdown_table(
        ("push", "rows", "peak RSS MiB", "min-max", "x 30 days", "median s"), rows
    )
    figures = {
        "year_over_month": year.peak_rss_mib / month.peak_rss_mib,
        "tenfold_over_year": big.peak_rss_mib / year.peak_rss_mib,
        "peak_rss_mib": max(v.peak_rss_mib for v in variants),
    }
    return figures, table


if __name__ == "__main__":
    run_case(measure, __doc__)
