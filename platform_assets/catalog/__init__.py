"""The source catalog: the YAML file declaring every source and export (catalog.yaml), its model
(model.py) and its loader (loading.py)."""

from platform_assets.catalog.loading import CatalogError, declaration_lines, load_catalog
from platform_assets.catalog.model import (
    Catalog,
    Export,
    Partitioned,
    Partitioning,
    Schedule,
    Severity,
    Source,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Export",
    "Partitioned",
    "Partitioning",
    "Schedule",
    "Severity",
    "Source",
    "declaration_lines",
    "load_catalog",
]
