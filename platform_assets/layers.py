"""The layers data passes through, and the one naming rule they share: `<layer>/<name>` is an
asset's key in Dagster, its folder in the lake, and (with a check's name) a check's name."""

from __future__ import annotations

from enum import StrEnum


class Layer(StrEnum):
    RAW = "raw"  # the lake: what sources delivered
    WAREHOUSE = "warehouse"  # a table per source
    EXPORTS = "exports"  # the lake: what pulls from the warehouse produced

    @property
    def in_lake(self) -> bool:
        return self is not Layer.WAREHOUSE


SOURCE_LAYERS = (Layer.RAW, Layer.WAREHOUSE)


def qualified_name(layer: Layer, name: str) -> str:
    """'raw/flights': the asset's key as Dagster's user string and the lake's folder for it."""
    return f"{layer}/{name}"
