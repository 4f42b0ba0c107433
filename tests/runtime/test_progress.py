"""The progress rule: a line every tenth of the partitions or every 15 s, and at the last."""

import io
import logging
import os
import pty
import re
import subprocess
import sys

import pytest

from platform_assets.runtime.progress import Progress, duration, report_due
from testkit.main_process import MAIN, main_environment

JANUARY = ("push", "--source", "flights", "--partition", "2013-01-01", "--to", "2013-01-31")
LINE = re.compile(
    r"INFO push flights: (\d+)/31 partitions \(\d+%\), [\d,]+ rows,"
    r" [\d.]+ s elapsed, ~[\d.]+ s left$"
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if getattr(record, "progress", 0)]


def run(total: int, seconds_each: float, caplog: pytest.LogCaptureFixture) -> list[int]:
    """The partitions after which a line was logged, each partition taking `seconds_each`."""
    clock = FakeClock()
    progress = Progress("push flights", total, clock=clock)
    reported = []
    with caplog.at_level(logging.INFO, logger="platform"):
        for _ in range(total):
            clock.now += seconds_each
            before = len(lines_of(caplog))
            progress.advance(rows=10)
            if len(lines_of(caplog)) > before:
                reported.append(progress.done)
    return reported


@pytest.mark.parametrize(
    ("done", "now", "last_done", "last_at", "due"),
    [
        (36, 1.0, 0, 0.0, False),  # under a tenth of 365, under 15 s
        (37, 1.0, 0, 0.0, True),  # a tenth
        (73, 2.0, 37, 1.0, True),  # the second tenth
        (72, 2.0, 37, 1.0, False),
        (40, 16.0, 37, 1.0, True),  # 15 s since the last line
        (40, 15.9, 37, 1.0, False),
        (365, 2.0, 364, 2.0, True),  # the last, always
    ],
)
def test_report_due(done, now, last_done, last_at, due):
    assert report_due(done, 365, now, last_done, last_at) is due


def test_a_fast_range_reports_each_tenth_and_the_last(caplog):
    assert run(365, 0.01, caplog) == [37, 73, 110, 146, 183, 219, 256, 292, 329, 365]


def test_a_slow_range_reports_every_15_seconds_too(caplog):
    reported = run(1000, 1.0, caplog)
    assert reported[:8] == [15, 30, 45, 60, 75, 90, 100, 115]
    assert reported[-1] == 1000


def test_a_range_of_a_few_partitions_reports_each(caplog):
    assert run(3, 0.5, caplog) == [1, 2, 3]


def test_the_line_says_n_of_n_rows_elapsed_and_left(caplog):
    clock = FakeClock()
    progress = Progress("push flights", 4, clock=clock)
    clock.now = 2.0
    with caplog.at_level(logging.INFO, logger="platform"):
        progress.advance(rows=1_234)
    assert lines_of(caplog) == [
        "push flights: 1/4 partitions (25%), 1,234 rows, 2.0 s elapsed, ~6.0 s left"
    ]


def test_durations_read_as_seconds_minutes_or_hours():
    assert [duration(s) for s in (4.14, 75, 3725)] == ["4.1 s", "1 min 15 s", "1 h 02 min"]


def test_the_bar_is_redrawn_in_place_and_ends_its_line():
    clock, terminal = FakeClock(), io.StringIO()
    with Progress("load flights", 2, clock=clock, bar=terminal) as progress:
        progress.advance(rows=5)
        assert terminal.getvalue().endswith(
            "[############............] load flights: 1/2"
            " partitions (50%), 5 rows, 0.0 s elapsed, ~0.0 s left"
        )
        progress.advance(rows=5)
    drawn = terminal.getvalue()
    assert drawn.count("\r") == 2
    assert drawn.endswith(
        "[########################] load flights: 2/2 partitions (100%), 10 rows,"
        " 0.0 s elapsed, ~0.0 s left\n"
    )


def test_a_bar_cut_short_ends_its_line_for_the_error():
    terminal = io.StringIO()
    with pytest.raises(RuntimeError), Progress("push flights", 3, bar=terminal) as progress:
        progress.advance(rows=1)
        raise RuntimeError("partition 2 failed")
    assert terminal.getvalue().endswith("left\n")


def test_main_logs_progress_lines_when_stderr_is_not_a_terminal(run_main):
    result = run_main(*JANUARY)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if " push flights: " in line]
    done = [int(match[1]) for line in lines if (match := LINE.search(line))]
    assert len(done) == len(lines)
    # every tenth of 31 (15 s more on a slow machine can add a line), the last one always
    assert {4, 7, 10, 13, 16, 19, 22, 25, 28, 31} <= set(done)
    assert done == sorted(done)
    assert "push flights: 31/31 partitions (100%), 27,004 rows, " in lines[-1]
    assert "partition 2013-01-05: 720 rows, 1 files" in result.stderr  # still there


def test_main_draws_a_bar_on_a_terminal_and_its_log_keeps_every_line(home):
    terminal, terminal_end = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(MAIN), *JANUARY, "--no-load"],
        env=main_environment({"PLATFORM_HOME": str(home)}),
        stdout=subprocess.DEVNULL,
        stderr=terminal_end,
    )
    os.close(terminal_end)
    drawn = _read_to_the_end(terminal)
    assert process.wait(timeout=300) == 0, drawn
    bars = re.findall(r"\r\x1b\[K\[[#.]{24}\] push flights: (\d+)/31 partitions", drawn)
    assert [int(done) for done in bars] == list(range(1, 32))  # one redraw per partition
    assert "partition 2013-01-05: 720 rows" not in drawn  # the bar stands for them
    [log] = (home / "logs").rglob("push-flights-*.log")
    kept = log.read_text()
    assert "partition 2013-01-05: 720 rows" in kept
    assert "push flights: 31/31 partitions (100%)" in kept


def _read_to_the_end(terminal: int) -> str:
    """What the process wrote to the terminal until it closed it."""
    chunks = []
    try:
        while chunk := os.read(terminal, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the other end closed
        pass
    finally:
        os.close(terminal)
    return b"".join(chunks).decode()
