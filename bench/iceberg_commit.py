"""P7, the Iceberg commit's share of a push: the year of flights pushed again (every partition
replaced, lake only) with the Iceberg table kept (PLATFORM_ICEBERG=on, the default) and without
it (off), side by side, in a local folder and on a moto S3 server with Glue, whose requests are
counted per run: the commit's own are the difference, for the year and for one month.

    .venv/bin/python -m bench.iceberg_commit [--runs 5]
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.harness import CountingMoto, Variant, interleave, markdown_table, run_case
from bench.setup import fresh_home, landed_home, push_flights, upload_landing
from testkit.aws import aws_mode_env, create_glue_database

LANDING_BUCKET = "landing"
RANGES = {"year": ("2013-01-01", "2013-12-31"), "January": ("2013-01-01", "2013-01-31")}


def local_variants(work: Path, landed: Path) -> list[Variant]:
    variants = []
    for setting in ("on", "off"):
        home = fresh_home(work / f"local-{setting}", landed)
        variants.append(
            Variant(
                f"push, Iceberg {setting}, local folder",
                lambda _: push_flights(*RANGES["year"], load=False),
                env={"PLATFORM_HOME": str(home), "PLATFORM_ICEBERG": setting},
            )
        )
    return variants


def _pushing(first: str, last: str) -> Callable[[int], list[str]]:
    return lambda _: push_flights(first, last, load=False)


def s3_requests(moto: CountingMoto, work: Path, runs: int) -> dict[str, dict[str, Counter[str]]]:
    """For each range and setting, the median run's requests to its bucket and to Glue."""
    measured: dict[str, dict[str, Counter[str]]] = {}
    for name, (first, last) in RANGES.items():
        for setting in ("on", "off"):
            bucket = f"lake-{name.lower()}-{setting}"
            moto.client().create_bucket(Bucket=bucket)
            env = {
                **aws_mode_env(
                    moto.endpoint,
                    work / f"s3-{bucket}",
                    f"s3://{bucket}/lake",
                    f"s3://{LANDING_BUCKET}/drops",
                ),
                "PLATFORM_ICEBERG": setting,
            }
            create_glue_database(env)
            variant = Variant(bucket, _pushing(first, last), env=env)
            interleave([variant], 0)  # the first push: the table is created, nothing replaced
            samples: list[Counter[str]] = []
            for number in range(runs):
                with moto.counting(bucket) as s3, moto.counting("") as glue:
                    variant.run(number)
                samples.append(Counter({**s3, "GLUE": sum(glue.values())}))
            samples.sort(key=lambda counts: sum(counts.values()))
            measured.setdefault(name, {})[setting] = samples[len(samples) // 2]
    return measured


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    landed = landed_home(work / "landed")
    local = local_variants(work, landed)
    interleave(local, runs)
    on, off = local
    with CountingMoto() as moto:
        upload_landing(moto, landed, LANDING_BUCKET)
        requests = s3_requests(moto, work, max(1, min(runs, 3)))
    shutil.rmtree(work / "landed", ignore_errors=True)
    share = on.seconds / off.seconds
    table = [
        [
            variant.name,
            f"{variant.seconds:.2f}",
            variant.seconds_range,
            f"{variant.peak_rss_mib:.0f}",
        ]
        for variant in local
    ]
    lines = [
        markdown_table(("variant (the year again)", "median s", "range s", "peak RSS MiB"), table),
        "",
        f"Iceberg on over off, locally: **{share:.2f} x** (goal <= 1.10 x)",
        "",
    ]
    request_rows = []
    extra: dict[str, int] = {}
    for name, settings in requests.items():
        difference = settings["on"] - settings["off"]
        extra[name] = sum(difference.values()) - difference["COPY"]
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(difference.items()) if n)
        request_rows.append(
            [name, sum(settings["off"].values()), sum(settings["on"].values()), kinds]
        )
    lines.append(
        markdown_table(
            ("range pushed again, moto S3", "requests, Iceberg off", "on", "the commit's, by kind"),
            request_rows,
        )
    )
    figures = {
        "iceberg_on_over_off": share,
        "iceberg_commit_requests_year": float(extra["year"]),
        "iceberg_commit_requests_month": float(extra["January"]),
    }
    return figures, "\n".join(lines)


if __name__ == "__main__":
    run_case(measure, __doc__ or "", runs=5)
    sys.exit(0)
