"""Incremental sources: which cursor window a partition reads, kept in the lake."""

from __future__ import annotations

from platform_assets.catalog import Source
from platform_assets.lake import Lake
from platform_assets.partitions import Period
from platform_assets.sources.kind import Upstream
from platform_assets.sources.window import Window


def window_for(source: Source, period: Period, lake: Lake, upstream: Upstream) -> Window | None:
    """A partition's window: the one it read before (a rerun replays it exactly), or, at its
    first run, from the end of the newest recorded window to the newest row upstream now."""
    if not source.read.incremental:
        return None
    windows = lake.cursor_windows(source.name)
    if period.key in windows:
        return Window.from_json(windows[period.key])
    ends = [Window.from_json(recorded).through for recorded in windows.values()]
    after = max((end for end in ends if end is not None), default=None)
    return Window(after, source.read.newest_cursor(period, upstream))


def record_window(source: Source, period: Period, window: Window, lake: Lake) -> None:
    """Remember the window once its rows are published (a crash before leaves none)."""
    windows = lake.cursor_windows(source.name)
    windows[period.key] = window.to_json()
    lake.store_cursor_windows(source.name, windows)
