"""P6, merge: a month of a change log (a key's inserts, updates and deletion markers; 31 daily
CSVs) merged into a DuckDB table holding the latest version per key, by the platform (`main.py
push` of the month, `write: {mode: merge}`: the lake, then one merge) and by dlt's `merge`
write disposition into DuckDB; whole processes, side by side. Both tables are compared after.

    .venv/bin/python -m bench.merge_load [--runs 5]
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.harness import PEERS, Variant, interleave, markdown_table, run_case
from bench.setup import BENCH_PYTHON, catalog_home, fresh_platform, push_source

KEYS = 50_000
CHANGES_PER_DAY = 10_000
DAYS = [dt.date(2013, 1, day) for day in range(1, 32)]
CATALOG = """
sources:
  - name: changes
    read:
      kind: files
      path: changes/{dt:%Y-%m-%d}.csv
      format: csv
    partitioning: {granularity: daily, start: 2013-01-01, end: 2013-02-01}
    key: [id]
    columns: {id: int64, name: string, balance: int64, updated_at: "timestamp[s]", deleted: bool}
    write: {mode: merge, order_by: updated_at, deleted: deleted}
"""


def change_log(landing: Path) -> int:
    """The month's changes as daily CSVs: every key inserted on the first day, then updates
    (a tenth of them deletion markers, some of a key twice a day) and new keys; rows written."""
    chooser = random.Random(2013)
    landing.mkdir(parents=True)
    rows = 0
    next_key = KEYS
    for day in DAYS:
        start = dt.datetime.combine(day, dt.time())
        if day == DAYS[0]:
            ids = list(range(KEYS))
        else:
            ids = [chooser.randrange(next_key) for _ in range(CHANGES_PER_DAY - 500)]
            ids += list(range(next_key, next_key + 500))
            next_key += 500
        stamps = [start + dt.timedelta(seconds=second) for second in range(len(ids))]
        table = pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "name": [f"account {key}" for key in ids],
                "balance": [chooser.randrange(100_000) for _ in ids],
                "updated_at": pa.array(stamps, pa.timestamp("s")),
                "deleted": [day != DAYS[0] and chooser.random() < 0.1 for _ in ids],
            }
        )
        pacsv.write_csv(table, landing / f"{day.isoformat()}.csv")
        rows += table.num_rows
    return rows


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    home = work / "home"
    rows = change_log(home / "changes")
    env = catalog_home(home, CATALOG, work)

    def fresh_dlt(_: int) -> None:
        shutil.rmtree(work / "dlt", ignore_errors=True)

    platform = Variant(
        "platform push, merge into DuckDB",
        lambda _: push_source("changes", "2013-01-01", "2013-01-31"),
        env=env,
        prepare=fresh_platform(home),
    )
    dlt = Variant(
        "dlt merge (delete-insert) into DuckDB",
        lambda _: [
            str(BENCH_PYTHON),
            str(PEERS / "dlt_merge.py"),
            str(home / "changes"),
            str(work / "dlt" / "dlt.duckdb"),
            str(work / "dlt" / "pipelines"),
        ],
        prepare=fresh_dlt,
    )
    (work / "dlt").mkdir()
    interleave([platform, dlt], runs)
    ours = _latest(home / "warehouse.duckdb", "main.changes")
    theirs = _latest(work / "dlt" / "dlt.duckdb", "merged.changes")
    if ours != theirs:
        raise RuntimeError(f"the tables differ: platform {ours[:2]}, dlt {theirs[:2]}")
    table = markdown_table(
        ("variant", "median s", "min-max s", "rows/s", "x dlt rows/s", "peak RSS MiB"),
        [
            (
                variant.name,
                f"{variant.seconds:.2f}",
                variant.seconds_range,
                f"{rows / variant.seconds:,.0f}",
                f"{dlt.seconds / variant.seconds:.2f}",
                f"{variant.peak_rss_mib:.0f} ({variant.peak_rss_range})",
            )
            for variant in (platform, dlt)
        ],
    )
    table += (
        f"\n\n{rows:,} change rows over {len(DAYS)} days; both tables hold the same"
        f" {ours[0]:,} keys (balance sum {ours[1]:,})."
    )
    figures = {
        "merge_over_dlt_rows_per_s": dlt.seconds / platform.seconds,
        "merge_peak_rss_mib": platform.peak_rss_mib,
        "dlt_peak_rss_mib": dlt.peak_rss_mib,
    }
    return figures, table


def _latest(path: Path, table: str) -> tuple[int, int, int]:
    """Keys, the sum of balances and of ids in a merged table: equal tables agree on all."""
    with duckdb.connect(str(path), read_only=True) as connection:
        row = connection.execute(f"SELECT count(*), sum(balance), sum(id) FROM {table}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


if __name__ == "__main__":
    run_case(measure, __doc__)
