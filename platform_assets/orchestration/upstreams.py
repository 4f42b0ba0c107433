"""Per source, an external asset for what it reads (landing files, an API, a client database), so
that lineage starts where the data does. Dagster never materializes it."""

import dagster as dg

from platform_assets.catalog import Source
from platform_assets.layers import Layer
from platform_assets.orchestration.about import folder_link, labels
from platform_assets.orchestration.keys import layer_key
from platform_assets.settings import Settings

UPSTREAM = "upstream"  # the key's first part: upstream/<source>


def upstream_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([UPSTREAM, source.name])


def upstream_spec(source: Source, settings: Settings) -> dg.AssetSpec:
    origin = source.read.origin
    metadata = {}
    kinds = set(origin.kinds)
    if origin.landing_prefix is not None:
        landing = settings.landing
        kinds.add("s3" if landing.scheme == "s3://" else "file")
        metadata["landing"] = folder_link(landing, landing.path(origin.landing_prefix))
    return dg.AssetSpec(
        upstream_key(source),
        description=f"Upstream of {layer_key(Layer.RAW, source.name).to_user_string()}:"
        f" {origin.summary}.",
        group_name=source.name,
        kinds=kinds,
        metadata=metadata,
        **labels(source),
    )
