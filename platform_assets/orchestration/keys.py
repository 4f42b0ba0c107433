"""Dagster's keys for the platform's names: `<layer>/<name>` (layers.py) as an asset key, and a
selected check's key back as the name main.py knows it by."""

import dagster as dg

from platform_assets.layers import Layer, qualified_name


def layer_key(layer: Layer, name: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(qualified_name(layer, name))


def check_name(key: dg.AssetCheckKey) -> str:
    """'raw/schema_matches' for raw/<source>'s schema_matches."""
    return qualified_name(Layer(key.asset_key.path[0]), key.name)
