"""Bare pyarrow: the landing CSVs into hive-partitioned parquet with `dataset.write_dataset`.

    python bench/peers/pyarrow_write.py LANDING_DIR LAKE_DIR [--endpoint http://moto]
(on S3, both directories are bucket/prefix paths)
"""

from __future__ import annotations

import argparse

import pyarrow.dataset as ds
from read_landing import filesystem, read_landing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("landing")
    parser.add_argument("lake")
    parser.add_argument("--endpoint")
    arguments = parser.parse_args()
    fs = filesystem(arguments.endpoint)
    table = read_landing(arguments.landing, fs)
    ds.write_dataset(
        table,
        arguments.lake,
        format="parquet",
        partitioning=["dt"],
        partitioning_flavor="hive",
        existing_data_behavior="delete_matching",
        filesystem=fs,
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        max_partitions=4096,
    )


if __name__ == "__main__":
    main()
