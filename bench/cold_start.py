"""P5, main.py's cold start, which every Batch job pays: process start to `--help` done, to `list`
done (settings and catalog loaded), and to one partition published in the lake (its first bytes
written and its manifest), against the bare interpreter and the import of dagster_pipes.

    .venv/bin/python -m bench.cold_start [--runs 21]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import Variant, interleave, markdown_table, run_case
from bench.setup import landed_home, push_flights
from testkit.main_process import MAIN


def _always(command: Sequence[str]) -> Callable[[int], Sequence[str]]:
    """A variant's command, the same at every run."""
    return lambda _: command


def measure(runs: int, work: Path) -> tuple[dict[str, float], str]:
    home = landed_home(work / "home")
    env = {"PLATFORM_HOME": str(home), "PLATFORM_ENV": "local"}
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import dagster_pipes'": [sys.executable, "-c", "import dagster_pipes"],
        "python main.py --help": [sys.executable, str(MAIN), "--help"],
        "python main.py list": [sys.executable, str(MAIN), "list"],
        "python main.py push, one partition, lake only": push_flights(
            "2013-01-05", "2013-01-05", load=False
        ),
    }
    variants = [Variant(name, _always(command), env=env) for name, command in commands.items()]
    interleave(variants, runs)
    baseline = variants[0].seconds
    rows = [
        [v.name, f"{v.seconds * 1000:.0f}", v.seconds_range, f"{v.seconds / baseline:.1f}"]
        for v in variants
    ]
    table = markdown_table(("command", "median ms", "min-max s", "x baseline"), rows)
    figures = {"help_seconds": variants[2].seconds, "first_partition_seconds": variants[4].seconds}
    return figures, table


if __name__ == "__main__":
    run_case(measure, __doc__, runs=21)
