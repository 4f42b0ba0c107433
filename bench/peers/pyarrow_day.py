"""Bare pyarrow: one day's CSV into one parquet file, streaming (`csv.open_csv`, one record batch
at a time into a `ParquetWriter`) or whole (`csv.read_csv`, then `parquet.write_table`).

    python bench/peers/pyarrow_day.py {streaming,whole} DAY.csv OUT.parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("how", choices=["streaming", "whole"])
    parser.add_argument("csv")
    parser.add_argument("parquet")
    arguments = parser.parse_args()
    Path(arguments.parquet).parent.mkdir(parents=True, exist_ok=True)
    if arguments.how == "whole":
        pq.write_table(pacsv.read_csv(arguments.csv), arguments.parquet, compression="zstd")
        return
    reader = pacsv.open_csv(arguments.csv)
    with pq.ParquetWriter(arguments.parquet, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)


if __name__ == "__main__":
    main()
