"""After a range is published: the files its partitions' new manifests no longer list go."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from platform_assets.catalog import Partitioned
from platform_assets.errors import RunError
from platform_assets.lake import Lake
from platform_assets.partitions import Period

log = logging.getLogger("platform")


def remove_replaced(
    lake: Lake, target: Partitioned, published: Sequence[Period], quietly: bool = False
) -> None:
    """Delete what the published partitions' new manifests no longer list. After a failure this
    is done `quietly`: what it leaves behind is never read and goes at the next run over those
    partitions, and the failure that stopped the run is what the run must say."""
    if not published:
        return
    owner = f"{target.kind_label} {target.name}"
    try:
        removed = lake.remove_stale(target.lake_layer, target.name, published)
    except RunError as error:
        where = f"{owner} partitions {published[0].key}..{published[-1].key}"
        if not quietly:
            raise RunError(
                f"{where}: published, but the files they replaced were not removed: {error}"
            ) from None
        log.warning("%s: the files they replaced were not removed (%s)", where, error)
        return
    if removed:
        log.info("%s: %s replaced files removed", owner, f"{removed:,}")
