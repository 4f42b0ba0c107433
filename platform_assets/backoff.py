"""Waiting between attempts at something another process holds (a lease, DuckDB's file lock)."""

from __future__ import annotations

import random
from collections.abc import Iterator


def pauses(first: float = 0.05, longest: float = 2.0) -> Iterator[float]:
    """Seconds to wait before each next attempt: doubling from `first` up to `longest`, each
    jittered between half and one and a half times, so that waiting runs do not retry in step."""
    delay = first
    while True:
        yield delay * (0.5 + random.random())
        delay = min(delay * 2, longest)
