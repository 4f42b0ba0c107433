"""P5, main.py's cold start, which every Batch job pays: process start to `--help` done, to `list`
done (settings and catalog loaded), and to one partition published in the lake (its first bytes
written, its manifest, its Iceberg commit), against the bare interpreter, the import of
dagster_pipes and a bare pyarrow script writing the same day's parquet. The push runs again
with Iceberg off, and with the Batch container's packages alone (`.venv-runtime`: no pandas,
which pyarrow imports wherever it is installed), when that virtualenv exists.

    .venv/bin/python -m bench.cold_start [--runs 21]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import PEERS, PROJECT, Variant, interleave, markdown_table, run_case
from bench.setup import landed_home, push_flights
from testkit.main_process import MAIN

RUNTIME_PYTHON = PROJECT / ".venv-runtime" / "bin" / "python"  # `make .venv-runtime/.installed`
DAY = "2013-01-05"


def _always(command: Sequence[str]) -> Callable[[int], Sequence[str]]:
    """A variant's command, the same at every run."""
    return lambda _: command


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    home = landed_home(work / "home")
    env = {"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"}
    push = push_flights(DAY, DAY, load=False)
    day_csv = next((home / "landing").rglob(f"*{DAY}.csv"))
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import dagster_pipes'": [sys.executable, "-c", "import dagster_pipes"],
        "python main.py --help": [sys.executable, str(MAIN), "--help"],
        "python main.py list": [sys.executable, str(MAIN), "list"],
        "python main.py push, one partition, lake only": push,
        "bare pyarrow: the day's CSV into one parquet file": [
            sys.executable,
            str(PEERS / "pyarrow_day.py"),
            "streaming",
            str(day_csv),
            str(work / "bare" / "day.parquet"),
        ],
    }
    variants = [Variant(name, _always(command), env=env) for name, command in commands.items()]
    push_variant, bare = variants[4], variants[5]
    off = Variant(
        f"{push_variant.name}, Iceberg off", _always(push), {**env, "PLATFORM_ICEBERG": "off"}
    )
    variants.append(off)
    if RUNTIME_PYTHON.exists():
        runtime = [str(RUNTIME_PYTHON), *push[1:]]
        variants.append(
            Variant(f"{push_variant.name}, container's packages", _always(runtime), env)
        )
    interleave(variants, runs)
    baseline = variants[0].seconds
    rows = [
        [v.name, f"{v.seconds * 1000:.0f}", v.seconds_range, f"{v.seconds / baseline:.1f}",
         f"{v.seconds / bare.seconds:.1f}"]
        for v in variants
    ]  # fmt: skip
    header = ("command", "median ms", "min-max s", "x baseline", "x bare pyarrow")
    table = markdown_table(header, rows)
    figures = {
        "help_seconds": variants[2].seconds,
        "first_partition_seconds": push_variant.seconds,
        "first_partition_over_bare": push_variant.seconds / bare.seconds,
        "first_partition_iceberg_off_over_bare": off.seconds / bare.seconds,
    }
    if RUNTIME_PYTHON.exists():
        figures["first_partition_runtime_over_bare"] = variants[-1].seconds / bare.seconds
    return figures, table


if __name__ == "__main__":
    run_case(measure, __doc__, runs=21)
