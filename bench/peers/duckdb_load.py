"""DuckDB's own load of a partitioned parquet lake: replace the range's rows with
`INSERT … SELECT * FROM read_parquet(...)` in one transaction, `dt` from the folder names (the
files hold none); prints the statement's seconds.
With --settings, DuckDB is configured as the platform configures it (warehouse/duckdb.py).

    python bench/peers/duckdb_load.py WAREHOUSE.duckdb 'LAKE/dt=*/*.parquet' [--settings]
"""

from __future__ import annotations

import sys
import time

import duckdb

PLATFORM_SETTINGS = {"memory_limit": "128MB", "preserve_insertion_order": False}


def main() -> None:
    warehouse, files = sys.argv[1:3]
    config = PLATFORM_SETTINGS if "--settings" in sys.argv else {}
    started = time.perf_counter()  # until closed: closing checkpoints the WAL into the file
    with duckdb.connect(warehouse, config=config) as connection:
        connection.execute("BEGIN TRANSACTION")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS flights AS"
            " SELECT * FROM read_parquet(?, hive_partitioning = true) LIMIT 0",
            [files],
        )
        connection.execute("DELETE FROM flights")
        connection.execute(
            "INSERT INTO flights SELECT * FROM read_parquet(?, hive_partitioning = true)", [files]
        )
        connection.execute("COMMIT")
    print(f"seconds={time.perf_counter() - started:.6f}")


if __name__ == "__main__":
    main()
