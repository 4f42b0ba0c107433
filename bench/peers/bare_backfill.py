"""A bare script doing a backfill's work with pyarrow and duckdb alone: the landing CSVs into a
hive-partitioned parquet lake, then the lake into a DuckDB table, replacing what was there.

    python bench/peers/bare_backfill.py LANDING_DIR LAKE_DIR WAREHOUSE.duckdb
"""

from __future__ import annotations

import argparse

import duckdb
import pyarrow.dataset as ds
from read_landing import filesystem, read_landing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("landing")
    parser.add_argument("lake")
    parser.add_argument("warehouse")
    arguments = parser.parse_args()
    ds.write_dataset(
        read_landing(arguments.landing, filesystem(None)),
        arguments.lake,
        format="parquet",
        partitioning=["dt"],
        partitioning_flavor="hive",
        existing_data_behavior="delete_matching",
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        max_partitions=4096,
    )
    with duckdb.connect(arguments.warehouse) as connection:
        connection.execute(
            "CREATE OR REPLACE TABLE flights AS"
            " SELECT * FROM read_parquet(?, hive_partitioning = true)",
            [f"{arguments.lake}/**/*.parquet"],
        )


if __name__ == "__main__":
    main()
