"""`make run`'s quiet launcher: a command's whole output (Dagster's event lines, tracebacks) into
a log file, and on the terminal only what a user needs:

    python -m samples.logged_run --log PATH -- COMMAND ARGS...

On success it prints main.py's run reports found in the output and `full log: PATH`; on failure
`full log: PATH`, then main.py's own one line (`main.py: failed: …` / `main.py: error: …`) last,
and exits with the command's code.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

MAIN_LINE = re.compile(r"main\.py: (failed|error): .*")
REPORT_HEAD = re.compile(r"(push|load|check|pull|rebuild) \S+ \S+.*: done in [\d.]+s")


def main_line(output: Sequence[str]) -> str | None:
    """main.py's last one-line failure in the output: a line of its own, else within Dagster's
    lines (a step failure's description quotes it)."""
    own = [line for line in output if MAIN_LINE.fullmatch(line)]
    if own:
        return own[-1]
    quoted = [match.group(0) for line in output if (match := MAIN_LINE.search(line))]
    return quoted[-1] if quoted else None


def reports(output: Sequence[str]) -> list[str]:
    """The run reports main.py printed: each head line and its indented lines."""
    lines: list[str] = []
    inside = False
    for line in output:
        if REPORT_HEAD.fullmatch(line):
            inside = True
            lines.append(line)
        elif inside and line.startswith("  "):
            lines.append(line)
        else:
            inside = False
    return lines


def run_logged(command: Sequence[str], log: Path) -> int:
    """Run `command` with its output into `log`; print the summary; return its exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    output = log.read_text(errors="replace").splitlines()
    if code == 0:
        print("\n".join([*reports(output), f"full log: {log}"]))
        return 0
    print(f"{Path(command[0]).name} failed (exit {code}); full log: {log}", file=sys.stderr)
    last = main_line(output) or next((line for line in reversed(output) if line.strip()), "")
    print(last, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.logged_run", description=__doc__)
    parser.add_argument("--log", type=Path, required=True, help="the file the output goes to")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no command given")
    return run_logged(command, arguments.log)


if __name__ == "__main__":
    sys.exit(main())
