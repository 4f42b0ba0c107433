"""Incremental sources: which cursor window a partition reads (kept in the lake), and which of
the rows read are new to the lake, so that each row version lands exactly once.

A row version is its key and cursor values. A partition's first run reads from the newest
recorded window's end less the lookback; the versions of that overlap the lake already holds
are not published again. A rerun keeps every row the partition published before and adds only
the versions of its window that no partition holds yet: the lake is the record of what was
captured, while the live table may have moved a row on past the window (its old version gone).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.contracts import origin_of, with_origin
from platform_assets.errors import RunError
from platform_assets.lake import Lake, Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Period
from platform_assets.runtime.pipes import PER_PARTITION
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.sources.kind import Upstream
from platform_assets.sources.window import Window

log = logging.getLogger("platform")


@dataclass
class Increment:
    """One partition's incremental read: its window, the row versions the lake's partitions hold
    within the window's range, and the partition's published version if this is a rerun."""

    window: Window
    identity: tuple[str, ...]
    held: frozenset[tuple[Any, ...]]
    published: Manifest | None
    directory_url: str
    kept_rows: int = 0
    skipped: int = 0

    def kept(self, lake: Lake) -> Iterator[pa.RecordBatch]:
        """The rows the partition published before (none at a first run)."""
        if self.published is None:
            return
        for batch in lake.scan(self.published):
            self.kept_rows += batch.num_rows
            yield with_origin(batch.drop_columns([PARTITION_COLUMN]), self.directory_url)

    def unheld(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The rows read whose version no partition holds yet; the others are counted."""
        for batch in batches:
            versions = _versions(batch, self.identity)
            new = batch.filter(pa.array([version not in self.held for version in versions]))
            self.skipped += batch.num_rows - new.num_rows
            yield new


def increment_for(
    source: Source, period: Period, lake: Lake, upstream: Upstream
) -> Increment | None:
    """A partition's increment: at a rerun its recorded window, at its first run one from the
    newest recorded window's end (less the lookback) to the newest cursor upstream now."""
    cursor = source.read.cursor
    if cursor is None:
        return None
    windows = {
        key: Window.from_json(recorded)
        for key, recorded in lake.cursor_windows(source.name).items()
    }
    window = windows.get(period.key)
    if window is None:
        ends = [recorded.through for recorded in windows.values() if recorded.through is not None]
        window = cursor.window(max(ends, default=None), source.read.newest_cursor(period, upstream))
    overlapping = [source.period(key) for key, other in windows.items() if other.overlaps(window)]
    identity = (*source.key, cursor.column)
    held = frozenset(
        version
        for manifest in lake.manifests(Layer.RAW, source.name, overlapping)
        if manifest is not None
        for batch in lake.scan(manifest, identity)
        for version in _versions(batch, identity)
    )
    published = lake.manifest(Layer.RAW, source.name, period) if period.key in windows else None
    directory = lake.partition_directory(Layer.RAW, source.name, period)
    return Increment(window, identity, held, published, lake.store.url(directory))


def _versions(batch: pa.RecordBatch, identity: tuple[str, ...]) -> list[tuple[Any, ...]]:
    missing = [name for name in identity if name not in batch.schema.names]
    if missing:
        raise RunError(
            f"{origin_of(batch)}: no column {', '.join(missing)}; an incremental source's rows"
            " carry its key and cursor column"
        )
    return list(zip(*(batch.column(name).to_pylist() for name in identity), strict=True))


def record_window(source: Source, period: Period, window: Window, lake: Lake) -> None:
    """Remember the window once its rows are published (a crash before leaves none)."""
    windows = lake.cursor_windows(source.name)
    windows[period.key] = window.to_json()
    lake.store_cursor_windows(source.name, windows)


def log_increment(source: Source, period: Period, increment: Increment) -> None:
    window = increment.window
    log.info(
        "source %s partition %s: cursor %s read in (%s, %s]; %s rows kept as published before;"
        " %s rows read that the lake already held not published again",
        source.name,
        period.key,
        increment.identity[-1],
        window.reads_after,
        window.through,
        f"{increment.kept_rows:,}",
        f"{increment.skipped:,}",
        extra=PER_PARTITION,
    )
