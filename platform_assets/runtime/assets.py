"""The names main.py reports under: each source's two assets, each export's, and the checks."""

from __future__ import annotations

from dataclasses import dataclass

from platform_assets.catalog import Source
from platform_assets.layers import SOURCE_LAYERS, Layer, qualified_name


@dataclass(frozen=True)
class CheckSpec:
    layer: Layer
    name: str
    description: str
    needs_key: bool = False

    @property
    def qualified_name(self) -> str:
        return qualified_name(self.layer, self.name)


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
