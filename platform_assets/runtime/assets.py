"""The names main.py reports under: each source's two assets, each export's, and the checks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from platform_assets.catalog import Source


class Layer(StrEnum):
    RAW = "raw"
    WAREHOUSE = "warehouse"
    EXPORTS = "exports"


SOURCE_LAYERS = (Layer.RAW, Layer.WAREHOUSE)


def asset_key(layer: Layer, name: str) -> str:
    """The asset key as Dagster's user string, e.g. 'raw/flights'."""
    return f"{layer}/{name}"


@dataclass(frozen=True)
class CheckSpec:
    layer: Layer
    name: str
    description: str
    needs_key: bool = False

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}/{self.name}"


CHECKS = (
    CheckSpec(
        Layer.RAW, "schema_matches", "Every lake file of the partitions has the source's schema."
    ),
    CheckSpec(Layer.WAREHOUSE, "rows_match_lake", "Rows per partition equal the lake manifests'."),
    CheckSpec(
        Layer.WAREHOUSE,
        "unique_key",
        "No two rows of a partition share the catalog's key.",
        needs_key=True,
    ),
)


def checks_for(source: Source, layers: tuple[Layer, ...] = SOURCE_LAYERS) -> list[CheckSpec]:
    return [
        check for check in CHECKS if check.layer in layers and (source.key or not check.needs_key)
    ]
