"""A child process's wall time and its own peak RSS. Linux carries a process's peak RSS across
exec(), and a child starts out with its parent's (fork and vfork alike): a small launcher forks
the measured command, so that the caller's memory does not count, and reports the command's own
ru_maxrss."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
os.write(int(os.environ["MEASURED_RSS_FD"]), str(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    output: str
    """stdout and stderr together."""
    seconds: float
    peak_rss_mib: float


def run_measured(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measured:
    """`command` (its first item an executable's path) run to the end with exactly `env`."""
    read_end, write_end = os.pipe()
    environment = {**env, "MEASURED_RSS_FD": str(write_end)}
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command],
        env=environment,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(write_end,),
        check=False,
    )
    seconds = time.perf_counter() - started
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reported:
        peak_kib = int(reported.read() or 0)
    output = child.stdout.decode(errors="replace")
    return Measured(child.returncode, output, seconds, peak_kib / 1024)
