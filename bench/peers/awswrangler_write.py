"""awswrangler: the landing CSVs into S3 with `s3.to_parquet(dataset=True, partition_cols=["dt"],
mode="overwrite_partitions")`, given an explicit boto3 session (without one it is 5-7x slower).

    .venv-bench/bin/python bench/peers/awswrangler_write.py LANDING s3://BUCKET/KEY --endpoint URL
"""

from __future__ import annotations

import argparse

import awswrangler as wr
import boto3
from read_landing import filesystem, read_landing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("landing")
    parser.add_argument("lake")
    parser.add_argument("--endpoint", required=True)
    arguments = parser.parse_args()
    wr.config.s3_endpoint_url = arguments.endpoint
    frame = read_landing(arguments.landing, filesystem(arguments.endpoint)).to_pandas()
    wr.s3.to_parquet(
        frame,
        arguments.lake,
        dataset=True,
        partition_cols=["dt"],
        mode="overwrite_partitions",
        compression="zstd",
        boto3_session=boto3.Session(region_name="us-east-1"),
    )


if __name__ == "__main__":
    main()
