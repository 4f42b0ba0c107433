"""warehouse/<source> versions_match_lake: a merge table holds the lake's latest live version of
each key, a history table every version the lake captured."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from platform_assets.catalog import Source
from platform_assets.checks.check import SHOWN, Check, CheckSubject, Metadata, Verdict
from platform_assets.lake import Lake, Manifest
from platform_assets.layers import Layer
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.write_modes import VALID_FROM, TableWrite, WriteMode

Version = tuple[Any, ...]  # the key's values, then the ordering column's


class VersionsMatchLake(Check):
    layer = Layer.WAREHOUSE
    name = "versions_match_lake"
    description = (
        "The table holds the lake's latest version per key (merge) or every version (history)."
    )

    def applies_to(self, source: Source) -> bool:
        return source.write.mode is not WriteMode.REPLACE

    def measure(self, subject: CheckSubject) -> Metadata:
        source, periods, lake = subject.source, subject.periods, subject.lake
        write = source.table_write
        start, end = periods[0].start, periods[-1].end
        until = end if write.mode is WriteMode.HISTORY else None
        manifests = published_since(source, lake, start, until)
        columns = [*write.key, write.order_by, PARTITION_COLUMN]
        if write.deleted is not None:
            columns.append(write.deleted)
        versions = lake.read(manifests, columns) if manifests else None
        table = source.table_name
        if write.mode is WriteMode.MERGE:
            expected = _latest_live(versions, write, start, end)
            held = subject.warehouse.key_versions(table, [*write.key, write.order_by], start, end)
            unexpected = Counter(map(_plain, held)) - Counter(expected)
        else:
            expected = _every_version(versions, write)
            dated = subject.warehouse.key_versions(
                table, [*write.key, VALID_FROM, PARTITION_COLUMN], dt.date.min, dt.date.max
            )
            held = [row[:-1] for row in dated]
            in_range = [row[:-1] for row in dated if start <= row[-1] < end]
            unexpected = Counter(map(_plain, in_range)) - Counter(expected)
        missing = sorted(set(expected) - set(map(_plain, held)), key=repr)
        return {
            "write_mode": str(write.mode),
            "lake_versions": len(expected),
            "missing_versions": len(missing),
            "unexpected_rows": sum(unexpected.values()),
            "examples": [f"missing {v}" for v in missing[:SHOWN]]
            + [f"unexpected {v}" for v in sorted(unexpected, key=repr)[:SHOWN]],
        }

    def judge(self, metadata: Metadata) -> Verdict:
        missing, unexpected = metadata["missing_versions"], metadata["unexpected_rows"]
        if missing or unexpected:
            return Verdict(
                False,
                f"{missing:,} of the lake's versions missing, {unexpected:,} rows not"
                f" the lake's ({metadata['examples'][0]})",
            )
        what = "latest versions" if metadata["write_mode"] == WriteMode.MERGE else "versions"
        return Verdict(True, f"{metadata['lake_versions']:,} {what} as the lake holds them")


def published_since(
    source: Source, lake: Lake, since: dt.date, until: dt.date | None = None
) -> list[Manifest]:
    """The manifests of the source's published partitions from `since` (up to `until`): the
    versions a merge applies again, and those this check compares."""
    days = lake.published_days(Layer.RAW, source.name)
    chosen = [day for day in days if day >= since and (until is None or day < until)]
    periods = [source.period(day.isoformat()) for day in chosen]
    return [manifest for manifest in lake.manifests(Layer.RAW, source.name, periods) if manifest]


def _latest_live(
    versions: pa.Table | None, write: TableWrite, start: dt.date, end: dt.date
) -> list[Version]:
    """Each key's latest version, where it lies in [start, end) and is not a deletion."""
    if versions is None:
        return []
    import pyarrow.compute as pc

    newest_first = versions.sort_by(
        [(write.order_by, "descending"), (PARTITION_COLUMN, "descending")]
    )
    newest_first = newest_first.append_column(
        "position", pa.array(range(newest_first.num_rows), pa.int64())
    )
    firsts = newest_first.group_by(list(write.key), use_threads=False).aggregate(
        [("position", "min")]
    )
    latest = newest_first.take(firsts["position_min"])
    day = latest[PARTITION_COLUMN]
    keep = pc.and_(pc.greater_equal(day, start), pc.less(day, end))
    if write.deleted is not None:
        marker = latest[write.deleted]
        deleted = (
            pc.fill_null(marker, False) if pa.types.is_boolean(marker.type) else pc.is_valid(marker)
        )
        keep = pc.and_(keep, pc.invert(deleted))
    return _tuples(latest.filter(keep), [*write.key, write.order_by])


def _every_version(versions: pa.Table | None, write: TableWrite) -> list[Version]:
    if versions is None:
        return []
    columns = [*write.key, write.order_by]
    return _tuples(versions.group_by(columns, use_threads=False).aggregate([]), columns)


def _tuples(table: pa.Table, columns: Sequence[str]) -> list[Version]:
    values = [table[name].to_pylist() for name in columns]
    return [_plain(row) for row in zip(*values, strict=True)]


def _plain(values: Sequence[Any]) -> Version:
    return tuple(_value(value) for value in values)


def _value(value: Any) -> Any:
    """Values as the lake and every driver agree on them: instants as naive UTC."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
