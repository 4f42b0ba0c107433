"""Incremental database sources: which cursor window a partition reads, kept in the lake."""

from __future__ import annotations

from platform_assets.catalog import DatabaseRead, Source
from platform_assets.lake import Lake
from platform_assets.partitions import Period
from platform_assets.sources import Upstream
from platform_assets.sources.window import Window


def window_for(source: Source, period: Period, lake: Lake, upstream: Upstream) -> Window | None:
    """A partition's window: the one it read before (a rerun replays it exactly), or, at its
    first run, from the end of the newest recorded window to the newest row upstream now."""
    read = source.read
    if not isinstance(read, DatabaseRead) or read.cursor_column is None:
        return None
    windows = lake.cursor_windows(source.name)
    if period.key in windows:
        return Window.from_json(windows[period.key])
    from platform_assets.sources.database import newest_cursor  # SQLAlchemy: ~0.25 s

    ends = [Window.from_json(recorded).through for recorded in windows.values()]
    after = max((end for end in ends if end is not None), default=None)
    return Window(after, newest_cursor(read, period, upstream.secret(read.url)))


def record_window(source: Source, period: Period, window: Window, lake: Lake) -> None:
    """Remember the window once its rows are published (a crash before leaves none)."""
    windows = lake.cursor_windows(source.name)
    windows[period.key] = window.to_json()
    lake.store_cursor_windows(source.name, windows)
