"""After a range is published: the Iceberg table takes its partitions' new files in one
snapshot, then the files its partitions' new manifests no longer list go."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyarrow as pa

from platform_assets.catalog import Partitioned
from platform_assets.errors import RunError
from platform_assets.lake import Lake
from platform_assets.partitions import Period

log = logging.getLogger("platform")


def settle_published(
    lake: Lake,
    target: Partitioned,
    run_id: str,
    published: Sequence[Period],
    schema: pa.Schema | None,
    quietly: bool = False,
) -> None:
    """Commit the published partitions to the table format (`schema`: the lake table's), then
    delete what their new manifests no longer list. After a failure this is done `quietly`: a
    commit not made is made by the next run over the table, what is left behind is never read
    and goes at the next run over those partitions, and the failure that stopped the run is
    what the run must say."""
    if not published:
        return
    owner = f"{target.kind_label} {target.name}"
    where = f"{owner} partitions {published[0].key}..{published[-1].key}"
    try:
        if schema is not None:
            lake.commit_table(target.lake_layer, target.name, run_id, published, schema)
        removed = lake.remove_stale(target.lake_layer, target.name, published)
    except RunError as error:
        if not quietly:
            raise RunError(f"{where}: published, but not settled: {error}") from None
        log.warning("%s: published, but not settled (%s)", where, error)
        return
    if removed:
        log.info("%s: %s replaced files removed", owner, f"{removed:,}")
