"""dlt: a month of a change log (daily CSVs) merged into DuckDB: `write_disposition` merge on the
primary key, the latest `updated_at` winning (`dedup_sort`), `deleted` a hard-delete marker; the
CSVs read by pyarrow and handed to dlt as Arrow tables, its fastest path.

    .venv-bench/bin/python bench/peers/dlt_merge.py LANDING_DIR WAREHOUSE.duckdb PIPELINES_DIR
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.csv as pacsv


def main() -> None:
    landing, warehouse, pipelines = sys.argv[1:4]

    @dlt.resource(
        name="changes",
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns={"updated_at": {"dedup_sort": "desc"}, "deleted": {"hard_delete": True}},
    )
    def changes() -> Iterator[pa.Table]:
        for path in sorted(Path(landing).glob("*.csv")):
            yield pacsv.read_csv(path)

    # a dataset named as the file fails dlt's load: DuckDB's catalog has that name (BENCHMARKS.md)
    pipeline = dlt.pipeline(
        pipeline_name="bench_merge",
        destination=dlt.destinations.duckdb(warehouse),
        dataset_name="merged",
        pipelines_dir=pipelines,
    )
    pipeline.run(changes())


if __name__ == "__main__":
    main()
