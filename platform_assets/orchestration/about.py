"""What an asset says about itself in Dagster: its columns, its table, where it lies in the lake,
the catalog line that declares it, its owners and tags."""

import functools
import urllib.parse
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.metadata import (  # dagster exports none of them (1.13.27)
    CodeReferencesMetadataSet,
    TableMetadataSet,
)
from dagster._core.definitions.metadata.metadata_set import UriMetadataSet

from platform_assets.catalog import Export, Source, declaration_lines
from platform_assets.layers import Layer
from platform_assets.schemas import PARTITION_COLUMN
from platform_assets.settings import Settings
from platform_assets.storage import Store
from platform_assets.write_modes import IS_CURRENT, VALID_FROM, VALID_TO, WriteMode

_declaration_lines = functools.cache(declaration_lines)
_S3_CONSOLE = "https://s3.console.aws.amazon.com/s3/buckets"


def labels(item: Source | Export) -> dict[str, Any]:
    """An AssetSpec's owners and tags, as the catalog gives them."""
    return {"owners": list(item.owners), "tags": dict(item.tags)}


def columns(source: Source, layer: Layer) -> dict[str, Any]:
    """The declared columns with the catalog's type names, then what the platform adds (`dt`,
    and a history table's validity); nothing when the source declares none."""
    if source.columns is None:
        return {}
    types = {**source.columns, PARTITION_COLUMN: "date32"}
    if layer is Layer.WAREHOUSE and source.write.mode is WriteMode.HISTORY:
        order_type = types[str(source.write.order_by)]
        types |= {VALID_FROM: order_type, VALID_TO: order_type, IS_CURRENT: "bool"}
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in types.items()])
    return dict(TableMetadataSet(column_schema=schema))


def qualified_table(settings: Settings, source: Source) -> str:
    """The warehouse table as `<schema>.<table>`."""
    schema = settings.warehouse.schema_name  # opening a warehouse connects to nothing
    return f"{schema}.{source.table_name}"


def table_name(table: str) -> dict[str, Any]:
    return dict(TableMetadataSet(table_name=table))


def lake_location(settings: Settings, layer: Layer, name: str) -> dict[str, Any]:
    """`dagster/uri` and a link to the asset's folder in the lake."""
    url = settings.lake.dataset_url(layer, name)
    store = settings.lake.store
    return {**UriMetadataSet(uri=url), "lake": folder_link(store, store.path_of_url(url))}


def folder_link(store: Store, path: str) -> dg.MetadataValue:
    """A folder of a store as the UI links it: the S3 console's page of the prefix (a browser
    cannot open s3:// URLs), a path on this machine."""
    if store.scheme != "s3://":
        return dg.MetadataValue.path(path)
    bucket, _, prefix = path.partition("/")
    query = urllib.parse.urlencode({"prefix": f"{prefix.rstrip('/')}/"})
    return dg.MetadataValue.url(f"{_S3_CONSOLE}/{bucket}?{query}")


def declared_at(settings: Settings, item: Source | Export) -> dict[str, Any]:
    """A code reference to the catalog line that declares the source or export."""
    path: Path = settings.catalog_path
    reference = dg.LocalFileCodeReference(
        file_path=str(path),
        line_number=_declaration_lines(path).get(item.name),
        label=f"{path.name}: {item.kind_label} {item.name}",
    )
    return dict(
        CodeReferencesMetadataSet(
            code_references=dg.CodeReferencesMetadataValue(code_references=[reference])
        )
    )
