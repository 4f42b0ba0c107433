"""Where the lake keeps what: a table's folder holds only its data files, so that engines which
list folders (pandas, pyarrow, polars, DuckDB, Spark) read it as it stands; everything else the
platform keeps lives apart, under `_platform/`, in a tree of the same shape:

    <layer>/<name>/dt=YYYY-MM-DD/part-<run>-NNNNN.parquet     the data, no `dt` column inside
    _platform/<layer>/<name>/manifests/dt=YYYY-MM-DD.json     each partition's published files
    _platform/<layer>/<name>/schema.json, cursor.json         a source's schema, cursor windows
    _platform/<layer>/<name>/leases/block-NNNNN               held while a run writes
    _platform/<layer>/<name>/staging/<run>/                   an export's unloaded files
    _platform/<layer>/<name>/iceberg/                         the Iceberg table's metadata
    _platform/<layer>/<name>/iceberg-pending/<run>.json       ranges published, not yet committed
    _platform/<layer>/<name>/retired/<run>/dt=…/part-….parquet  files a rerun replaced, which the
                                                              snapshot before it still reads
    .incoming/                                                a local lake's files being written
"""

from __future__ import annotations

import datetime as dt
import posixpath
from dataclasses import dataclass

from platform_assets.layers import Layer, qualified_name
from platform_assets.partitions import Period
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.storage import Store

PLATFORM_AREA = "_platform"


@dataclass(frozen=True)
class TableLayout:
    """The paths of one lake table (`<layer>/<name>`) in a store."""

    store: Store
    layer: Layer
    name: str

    def __post_init__(self) -> None:
        if not self.layer.in_lake:
            raise ValueError(f"{self.layer} is not a layer of the lake")

    @property
    def data(self) -> str:
        return self.store.path(qualified_name(self.layer, self.name))

    @property
    def area(self) -> str:
        return self.store.path(posixpath.join(PLATFORM_AREA, qualified_name(self.layer, self.name)))

    def partition(self, period: Period) -> str:
        return posixpath.join(self.data, f"{PARTITION_COLUMN}={period.key}")

    def manifest(self, period: Period) -> str:
        return self.manifest_of_day(period.start)

    def manifest_of_day(self, day: dt.date) -> str:
        """The manifest of the partition that starts on `day` (a period's key is its first day)."""
        return posixpath.join(self.manifests, f"{PARTITION_COLUMN}={day.isoformat()}.json")

    @property
    def manifests(self) -> str:
        return posixpath.join(self.area, "manifests")

    def beside(self, name: str) -> str:
        return posixpath.join(self.area, name)


def root_url(store: Store) -> str:
    """The URL every manifest's file paths are relative to."""
    return store.url(store.root.rstrip("/") + "/")
