"""Progress of a command over a range: n/N partitions, rows so far, time elapsed and left.

A progress line goes to the log every tenth of the partitions or every 15 s, whichever comes
first, and at the last (so to the run's log file, to Dagster through Pipes, and to stderr when it
is not a terminal). On a terminal, a bar redrawn in place on stderr stands for those lines and for
the per-partition ones, which the run's log file still keeps.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from platform_assets.runtime.pipes import PER_PARTITION_FLAG

log = logging.getLogger("platform")

PROGRESS = {"progress": True}  # `extra` of a throttled progress line
EVERY_SECONDS = 15.0
STEPS = 10  # a line each tenth of the partitions
_BAR_WIDTH = 24
_CLEAR_LINE = "\r\033[K"
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def report_due(done: int, total: int, now: float, last_done: int, last_at: float) -> bool:
    """Whether `done` of `total` partitions at `now` is worth a line, the last being at
    `last_done` and `last_at`: a tenth more of the partitions, 15 s later, or the last one."""
    return (
        done >= total
        or done * STEPS // total > last_done * STEPS // total
        or now - last_at >= EVERY_SECONDS
    )


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, second = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {second:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class Progress:
    """A command's advance over `total` partitions (`push flights`), fed as each one ends.

    `clock` is the time source (seconds, monotonic); `bar` where to draw the bar, by default
    stderr when it is a terminal. Threads may advance it side by side.
    """

    def __init__(
        self,
        label: str,
        total: int,
        clock: Callable[[], float] = time.monotonic,
        bar: TextIO | None = None,
    ) -> None:
        self.label, self.total = label, total
        self.done = self.rows = 0
        self._clock = clock
        self._bar = bar if bar is not None else terminal()
        self._started = self._last_at = clock()
        self._last_done = 0
        self._lock = threading.Lock()

    def advance(self, rows: int, partitions: int = 1) -> None:
        with self._lock:
            self.done += partitions
            self.rows += rows
            now = self._clock()
            line = self.line(now)
            if self._bar is not None:
                self._draw(line)
            if report_due(self.done, self.total, now, self._last_done, self._last_at):
                self._last_done, self._last_at = self.done, now
                log.info(line, extra=PROGRESS)

    def line(self, now: float) -> str:
        elapsed = now - self._started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        return (
            f"{self.label}: {self.done}/{self.total} partitions"
            f" ({100 * self.done // self.total}%), {self.rows:,} rows,"
            f" {duration(elapsed)} elapsed, ~{duration(left)} left"
        )

    def _draw(self, line: str) -> None:
        assert self._bar is not None
        filled = _BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        ending = "\n" if self.done >= self.total else ""
        self._bar.write(f"{_CLEAR_LINE}[{bar}] {line}{ending}")
        self._bar.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """A bar cut short by a failure ends its line, so that the error starts its own."""
        if self._bar is not None and 0 < self.done < self.total:
            self._bar.write("\n")
            self._bar.flush()


def terminal() -> TextIO | None:
    """stderr when it is a terminal."""
    return sys.stderr if sys.stderr.isatty() else None


def stderr_handler() -> logging.Handler:
    """The platform's log lines on stderr; on a terminal, without those the bar stands for, and
    each clearing the bar it interrupts (the next partition draws it again below)."""
    handler = logging.StreamHandler(sys.stderr)
    if terminal() is None:
        handler.setFormatter(logging.Formatter(_FORMAT))
    else:
        handler.addFilter(_not_in_the_bar)
        handler.setFormatter(logging.Formatter(_CLEAR_LINE + _FORMAT))
    return handler


def _not_in_the_bar(record: logging.LogRecord) -> bool:
    if getattr(record, "progress", False):
        return False
    return not (getattr(record, PER_PARTITION_FLAG, False) and record.levelno <= logging.INFO)
