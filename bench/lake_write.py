"""P1, lake write: the year of flights (336,776 rows, 365 daily CSVs) into hive-partitioned
parquet, by the platform's push (lake only) and by bare pyarrow, in a local folder and on a moto
S3 server, and by awswrangler on S3.

    .venv/bin/python -m bench.lake_write [--runs 5]

Every timed run rewrites a lake that an untimed warm-up run filled, i.e. a backfill run again.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from bench.harness import (
    PEERS,
    WRITES,
    CountingMoto,
    Variant,
    interleave,
    markdown_table,
    run_case,
)
from bench.setup import BENCH_PYTHON, DAYS, ROWS, landed_home, push_flights, upload_landing
from testkit.aws import aws_mode_env, create_glue_database

LANDING_BUCKET = "landing"


def local_variants(work: Path, home: Path) -> list[Variant]:
    platform = Variant(
        "platform push, local folder",
        lambda _: push_flights("2013-01-01", "2013-12-31", load=False),
        env={"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"},
    )
    platform.facts["lake"] = home / "lake" / "raw" / "flights"
    pyarrow = Variant(
        "pyarrow write_dataset, local folder",
        lambda _: [
            sys.executable,
            str(PEERS / "pyarrow_write.py"),
            str(home / "landing" / "flights"),
            str(work / "pyarrow-lake"),
        ],
    )
    pyarrow.facts["lake"] = work / "pyarrow-lake"
    return [platform, pyarrow]


def s3_variants(moto: CountingMoto, home: Path) -> list[Variant]:
    client = moto.client()
    for bucket in ("platform", "pyarrow", "awswrangler"):
        client.create_bucket(Bucket=bucket)
    landing = f"{LANDING_BUCKET}/drops"
    env = aws_mode_env(moto.endpoint, home, "s3://platform/lake", f"s3://{landing}")
    create_glue_database(env)
    platform = Variant(
        "platform push, moto S3",
        lambda _: push_flights("2013-01-01", "2013-12-31", load=False),
        env=env,
    )
    pyarrow = Variant(
        "pyarrow write_dataset, moto S3",
        lambda _: [
            sys.executable,
            str(PEERS / "pyarrow_write.py"),
            f"{landing}/landing/flights",
            "pyarrow/lake",
            "--endpoint",
            moto.endpoint,
        ],
    )
    wrangler = Variant(
        "awswrangler to_parquet, moto S3",
        lambda _: [
            str(BENCH_PYTHON),
            str(PEERS / "awswrangler_write.py"),
            f"{landing}/landing/flights",
            "s3://awswrangler/lake",
            "--endpoint",
            moto.endpoint,
        ],
        env={"AWS_ENDPOINT_URL": moto.endpoint},
    )
    for variant, bucket in zip(
        (platform, pyarrow, wrangler), ("platform", "pyarrow", "awswrangler"), strict=True
    ):
        variant.facts["bucket"] = bucket
    return [platform, pyarrow, wrangler]


def measure_s3(moto: CountingMoto, variants: list[Variant], runs: int) -> None:
    """Like `interleave`, and counts each timed run's requests on its bucket."""
    for variant in variants:
        variant.facts["requests"] = []
    interleave(variants, 0)  # the warm-up runs: each lake holds the year before timing starts
    for number in range(runs):
        for variant in variants:
            with moto.counting(variant.facts["bucket"]) as requests:
                variant.run(number)
            variant.facts["requests"].append(Counter(requests))
            print(f"  {variant.name}: {variant.samples[-1].seconds:.2f} s", file=sys.stderr)


def local_output(directory: Path) -> tuple[int, int]:
    files = [path for path in directory.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def s3_output(moto: CountingMoto, bucket: str) -> tuple[int, int]:
    paginator = moto.client().get_paginator("list_objects_v2")
    sizes = [
        item["Size"]
        for page in paginator.paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    return len(sizes), sum(sizes)


def requests_per_partition(variant: Variant, kinds: tuple[str, ...] | None) -> float | None:
    """The median run's requests of these kinds (all if None), per partition published."""
    if "requests" not in variant.facts:
        return None
    counts = sorted(
        sum(n for kind, n in run.items() if kinds is None or kind in kinds)
        for run in variant.facts["requests"]
    )
    return counts[len(counts) // 2] / DAYS


def rows(variants: list[Variant], outputs: list[tuple[int, int]]) -> list[list[object]]:
    baseline = variants[1]  # bare pyarrow on the same storage
    table: list[list[object]] = []
    for variant, (objects, size) in zip(variants, outputs, strict=True):
        writes = requests_per_partition(variant, WRITES)
        leases = requests_per_partition(variant, ("LEASE",))
        total = requests_per_partition(variant, None)
        table.append(
            [
                variant.name,
                f"{variant.seconds:.2f}",
                variant.seconds_range,
                f"{variant.seconds / baseline.seconds:.2f}",
                f"{ROWS / variant.seconds:,.0f}",
                f"{size / 2**20 / variant.seconds:.1f}",
                f"{objects:,}",
                f"{size / 2**20:.1f}",
                f"{variant.peak_rss_mib:.0f}",
                "-" if writes is None else f"{writes:.3f}",
                "-" if leases is None else f"{leases:.3f}",
                "-" if total is None else f"{total:.3f}",
            ]
        )
    return table


HEADER = (
    "variant",
    "median s",
    "min-max s",
    "x pyarrow",
    "rows/s",
    "MiB/s",
    "objects",
    "MiB",
    "peak RSS MiB",
    "writes+lists / partition",
    "lease requests / partition",
    "all requests / partition",
)


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    home = landed_home(work / "home")
    local = local_variants(work, home)
    interleave(local, runs)
    outputs = [local_output(variant.facts["lake"]) for variant in local]
    table = rows(local, outputs)
    with CountingMoto() as moto:
        upload_landing(moto, home, LANDING_BUCKET)
        remote = s3_variants(moto, home)
        measure_s3(moto, remote, runs)
        outputs = [s3_output(moto, variant.facts["bucket"]) for variant in remote]
        table += rows(remote, outputs)
    platform_local, pyarrow_local = local
    platform_s3, pyarrow_s3, wrangler = remote
    figures = {
        "local_over_pyarrow": platform_local.seconds / pyarrow_local.seconds,
        "s3_over_pyarrow": platform_s3.seconds / pyarrow_s3.seconds,
        "throughput_over_awswrangler": wrangler.seconds / platform_s3.seconds,
        "publish_requests_per_partition": requests_per_partition(platform_s3, WRITES) or 0.0,
        "lease_requests_per_partition": requests_per_partition(platform_s3, ("LEASE",)) or 0.0,
        "all_requests_per_partition": requests_per_partition(platform_s3, None) or 0.0,
        "peak_rss_mib": max(platform_local.peak_rss_mib, platform_s3.peak_rss_mib),
    }
    return figures, markdown_table(HEADER, table)


if __name__ == "__main__":
    run_case(measure, __doc__)
