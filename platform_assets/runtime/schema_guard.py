"""A declared column's type changed in the catalog is refused until `rebuild` migrates the lake
and the table: before any work, so that nothing is written in types the lake does not hold."""

from __future__ import annotations

from platform_assets.catalog import Source
from platform_assets.contracts import changed_types
from platform_assets.errors import ConfigurationError
from platform_assets.lake import Lake


def rebuild_command(source: Source) -> str:
    return f"python main.py rebuild --source {source.name}"


def refuse_type_changes(source: Source, lake: Lake) -> None:
    """A ConfigurationError naming each declared column whose type differs from the lake's."""
    changes = changed_types(source.declared_schema, lake.stored_schema(source.name))
    if changes:
        columns = "; ".join(f"column {name} from {old} to {new}" for name, old, new in changes)
        raise ConfigurationError(
            f"source {source.name}: the catalog changes the type of {columns}, but the lake holds"
            f" the old type; to migrate the lake and the table, run: {rebuild_command(source)}"
        )
