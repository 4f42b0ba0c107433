"""`make run`'s launcher on a real failing `dagster asset materialize`: the output in the log,
and main.py's own line last on the terminal, with the command's non-zero exit."""

import os
import subprocess
import sys

from platform_assets.settings import PROJECT_DIRECTORY
from testkit.main_process import local_dagster_environment, materialize_flights


def test_a_failing_materialize_ends_with_main_pys_line_and_names_the_full_log(tmp_path):
    home = tmp_path / "home"  # no landing folder: the day's drop is missing
    home.mkdir()
    log = home / "logs" / "make-run.log"
    env = {
        **os.environ,
        "PLATFORM_HOME": str(home),
        **local_dagster_environment(tmp_path / "dagster"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.logged_run",
            "--log",
            str(log),
            "--",
            *materialize_flights("2013-01-05"),
        ],
        cwd=PROJECT_DIRECTORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    *_, full_log, last = result.stderr.splitlines()
    assert full_log == f"dagster failed (exit {result.returncode}); full log: {log}"
    assert last.startswith("main.py: failed: source flights partition 2013-01-05: ")
    assert "flights_2013-01-05.csv: file not found" in last
    assert len(result.stderr.splitlines()) == 2
    output = log.read_text()
    assert "Stack Trace:" in output and last in output  # the whole story is in the log
