"""main.py's cold start: process start to `--help` done, and to `list` done (settings and catalog
loaded), against the bare interpreter and the import of dagster_pipes, side by side.

    .venv/bin/python bench/cold_start.py [--runs 21]

Prints the median and the ratio to the bare interpreter for each; the runs interleave so that a
noisy neighbour slows every command alike.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

MAIN = Path(__file__).resolve().parent.parent / "main.py"
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import dagster_pipes'": [sys.executable, "-c", "import dagster_pipes"],
    "python main.py --help": [sys.executable, str(MAIN), "--help"],
    "python main.py list": [sys.executable, str(MAIN), "list"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            seconds[name].append(time.perf_counter() - started)
    baseline = statistics.median(seconds["python -c pass (baseline)"])
    print(f"{'command':<36} {'median ms':>10} {'x baseline':>11}   ({runs} runs each)")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:<36} {median * 1000:>10.1f} {median / baseline:>11.1f}")


if __name__ == "__main__":
    main()
