"""P8, nested JSON flattened: a month of nested order records (31 daily JSON lines files; a
customer with an address holding a geo point, three levels of objects, totals, a list of order
lines; some nulls, some keys missing) flattened into `parent__child` columns, by the platform
(`main.py push --no-load` of the month, `nested: {mode: flatten}`: the lake only) and by dlt's
normalizer (extract, then normalize to parquet, with the filesystem destination configured but
not loaded); whole processes, side by side. Both top-level tables are compared after.

    .venv/bin/python -m bench.nested_flatten [--runs 5]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.harness import PEERS, Variant, interleave, markdown_table, run_case
from bench.setup import BENCH_PYTHON, catalog_home, fresh_platform, push_source

RECORDS_PER_DAY = 9_000
DAYS = [dt.date(2024, 1, day) for day in range(1, 32)]
CATALOG = """
sources:
  - name: orders
    read:
      kind: files
      path: orders/{dt:%Y-%m-%d}.jsonl
      format: jsonl
    partitioning: {granularity: daily, start: 2024-01-01, end: 2024-02-01}
    schema_contract: evolve
    nested: {mode: flatten}
"""
CITIES = ("Paris", "Lyon", "Lille", "Nantes", "Bordeaux", "Marseille")
STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")
SEPARATOR = "__"
PLATFORM_COLUMNS = {"dt"}  # the partition column, should a reader add it from the folder name
LIST_COLUMNS = {"lines"}  # whole lists in the platform's table, child tables in dlt's


def order(chooser: random.Random, number: int, day: dt.date) -> dict[str, Any]:
    """One order; `customer` is sometimes null, `channel`, `zip` and `shipping` sometimes
    missing, `note` and `geo` mostly or sometimes null."""
    stamp = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=chooser.randrange(86_400))
    record: dict[str, Any] = {
        "id": number,
        "ordered_at": stamp.isoformat() + "Z",
        "status": chooser.choice(STATUSES),
    }
    if chooser.random() < 0.9:
        record["channel"] = chooser.choice(("web", "app", "store"))
    record["note"] = f"note {number}" if chooser.random() < 0.05 else None
    record["customer"] = None if chooser.random() < 0.02 else customer(chooser)
    lines = [line(chooser) for _ in range(chooser.randrange(5))]
    record["totals"] = totals(chooser, sum(item["qty"] * item["price"] for item in lines))
    record["lines"] = lines
    return record


def customer(chooser: random.Random) -> dict[str, Any]:
    key = chooser.randrange(50_000)
    address: dict[str, Any] = {"street": f"{chooser.randrange(1, 200)} rue {key}"}
    address["city"] = chooser.choice(CITIES)
    if chooser.random() < 0.8:
        address["zip"] = f"{chooser.randrange(10_000, 99_999)}"
    address["country"] = "FR"
    geo = {"lat": round(chooser.uniform(42, 51), 5), "lon": round(chooser.uniform(-5, 8), 5)}
    address["geo"] = None if chooser.random() < 0.1 else geo
    email = None if chooser.random() < 0.15 else f"c{key}@example.com"
    return {"id": key, "name": f"customer {key}", "email": email, "address": address}


def line(chooser: random.Random) -> dict[str, Any]:
    return {
        "sku": f"SKU-{chooser.randrange(1_000):03}",
        "qty": chooser.randrange(1, 6),
        "price": round(chooser.uniform(1, 100), 2),
    }


def totals(chooser: random.Random, subtotal: float) -> dict[str, Any]:
    figures: dict[str, Any] = {"subtotal": float(round(subtotal, 2))}
    figures["tax"] = float(round(subtotal * 0.2, 2))
    if chooser.random() < 0.7:
        figures["shipping"] = float(chooser.choice((0, 4.9, 9.9)))
    figures["currency"] = "EUR"
    return figures


def landed_orders(landing: Path) -> tuple[int, int]:
    """The month's orders as daily JSON lines files; the records and order lines written."""
    chooser = random.Random(2024)
    landing.mkdir(parents=True)
    records = lines = 0
    for day in DAYS:
        with (landing / f"{day.isoformat()}.jsonl").open("w", encoding="utf-8") as file:
            for _ in range(RECORDS_PER_DAY):
                record = order(chooser, records, day)
                file.write(json.dumps(record) + "\n")
                records += 1
                lines += len(record["lines"])
    return records, lines


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    home = work / "home"
    records, lines = landed_orders(home / "orders")
    env = catalog_home(home, CATALOG, work)

    def fresh_dlt(_: int) -> None:
        shutil.rmtree(work / "dlt", ignore_errors=True)
        (work / "dlt" / "bucket").mkdir(parents=True)

    platform = Variant(
        "platform push --no-load, flatten",
        lambda _: push_source("orders", "2024-01-01", "2024-01-31", "--no-load"),
        env=env,
        prepare=fresh_platform(home),
    )
    dlt = Variant(
        "dlt extract + normalize to parquet",
        lambda _: [
            str(BENCH_PYTHON),
            str(PEERS / "dlt_normalize.py"),
            str(home / "orders"),
            str(work / "dlt" / "bucket"),
            str(work / "dlt" / "pipelines"),
        ],
        prepare=fresh_dlt,
    )
    interleave([platform, dlt], runs)
    columns = _compare(home / "lake" / "raw" / "orders", work / "dlt" / "pipelines", records, lines)
    table = markdown_table(
        ("variant", "median s", "min-max s", "records/s", "x dlt records/s", "peak RSS MiB"),
        [
            (
                variant.name,
                f"{variant.seconds:.2f}",
                variant.seconds_range,
                f"{records / variant.seconds:,.0f}",
                f"{dlt.seconds / variant.seconds:.2f}",
                f"{variant.peak_rss_mib:.0f} ({variant.peak_rss_range})",
            )
            for variant in (platform, dlt)
        ],
    )
    flat = sorted(name for name in columns if SEPARATOR in name)
    table += (
        f"\n\n{records:,} order records over {len(DAYS)} days (a daily partition each),"
        f" objects three levels deep. Checked after the runs (a difference fails the"
        f" case): both top-level tables hold {records:,} rows and the same {len(columns)}"
        f" columns, {len(flat)} of them flattened ({flat[0]}, …, {flat[-1]}); dlt's own `_dlt_*`"
        f" columns aside. The list of order lines stays whole on both sides: a list column"
        f" `lines` in the platform's table, a child table `orders__lines` in dlt's, both of"
        f" {lines:,} lines (not among the columns compared)."
    )
    figures = {
        "flatten_over_dlt_records_per_s": dlt.seconds / platform.seconds,
        "flatten_peak_rss_mib": platform.peak_rss_mib,
        "dlt_flatten_peak_rss_mib": dlt.peak_rss_mib,
    }
    return figures, table


def _compare(lake: Path, pipelines: Path, records: int, lines: int) -> set[str]:
    """The top-level columns both sides flattened to; RuntimeError if the columns, the row
    counts or (dlt's child table against the platform's lists) the order lines differ."""
    ours_rows, ours, ours_lines = _platform_table(lake)
    theirs_rows, theirs = _dlt_table(pipelines, "orders")
    child_rows, _ = _dlt_table(pipelines, "orders__lines")
    ours -= PLATFORM_COLUMNS | LIST_COLUMNS
    theirs = {name for name in theirs if not name.startswith("_dlt_")}
    if ours != theirs:
        raise RuntimeError(
            f"the flattened columns differ: only the platform's {sorted(ours - theirs)},"
            f" only dlt's {sorted(theirs - ours)}"
        )
    if not ours_rows == theirs_rows == records or not ours_lines == child_rows == lines:
        raise RuntimeError(
            f"the rows differ: {records:,} records and {lines:,} lines written, the platform"
            f" {ours_rows:,} and {ours_lines:,}, dlt {theirs_rows:,} and {child_rows:,}"
        )
    return ours


def _platform_table(lake: Path) -> tuple[int, set[str], int]:
    """The lake table's rows, columns (over all its files) and items in its `lines` lists."""
    rows = items = 0
    columns: set[str] = set()
    for path in sorted(lake.glob("dt=*/*.parquet")):
        table = pq.read_table(path)
        rows += table.num_rows
        columns.update(table.column_names)
        items += pc.sum(pc.list_value_length(table["lines"])).as_py() or 0
    return rows, columns, items


def _dlt_table(pipelines: Path, name: str) -> tuple[int, set[str]]:
    """A table's rows and columns over the parquet files dlt normalized (`<table>.<id>.<n>.parquet`
    in the load packages' jobs)."""
    rows = 0
    columns: set[str] = set()
    for path in sorted(pipelines.glob(f"*/load/normalized/*/*/{name}.*.parquet")):
        metadata = pq.read_metadata(path)
        rows += metadata.num_rows
        columns.update(metadata.schema.to_arrow_schema().names)
    return rows, columns


if __name__ == "__main__":
    run_case(measure, __doc__)
