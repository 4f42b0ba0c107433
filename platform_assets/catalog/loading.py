"""Reading the catalog file: safe YAML, then the model, each problem one line naming the file,
the source and the key."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from platform_assets.catalog.model import CHECK_NAMES_CONTEXT, Catalog, Partitioning, Source
from platform_assets.errors import ConfigurationError
from platform_assets.sources.registry import read_specs


class CatalogError(ConfigurationError):
    """The catalog file cannot be used; the message names the file, the source and the key."""


class _CatalogLoader(yaml.SafeLoader):
    """Safe YAML with no implicit timestamps (pydantic parses dates) and no duplicate keys."""


_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _CatalogLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_CatalogLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_catalog(path: Path, check_names: Collection[str] | None = None) -> Catalog:
    """Read and validate the catalog; each problem is a CatalogError naming file, source, key.

    `check_names` are the checks a source's `checks:` may name (the checks' registry, which
    the settings pass: it lies above the catalog); without them the names go unchecked."""
    try:
        raw = yaml.load(path.read_text(), Loader=_CatalogLoader)
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the catalog ({error.strerror})") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise CatalogError(f"{path}: not valid YAML at {where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {error}") from None
    try:
        return Catalog.model_validate(raw, context={CHECK_NAMES_CONTEXT: check_names})
    except ValidationError as error:
        # unknown keys first: a misspelt key also shows up as a missing one
        details = sorted(error.errors(), key=lambda detail: detail["type"] != "extra_forbidden")
        raise CatalogError("; ".join(_describe(path, raw, detail) for detail in details)) from None


def declaration_lines(path: Path) -> dict[str, int]:
    """The line (from 1) of the catalog file where each source and export is declared, by name."""
    lines: dict[str, int] = {}
    root = yaml.compose(path.read_text(), Loader=_CatalogLoader)
    for section_key, section in root.value if isinstance(root, yaml.MappingNode) else ():
        if section_key.value not in ("sources", "exports"):
            continue
        for item in section.value:
            for key, value in item.value:
                if key.value == "name":
                    lines[value.value] = item.start_mark.line + 1
    return lines


def _describe(path: Path, raw: Any, detail: Any) -> str:
    location = list(detail["loc"])
    where = str(path)
    if location[:1] == ["sources"] and len(location) > 1 and isinstance(location[1], int):
        index = location[1]
        name = _source_name(raw, index)
        where += f": source {name!r}" if name else f": source #{index + 1}"
        location = location[2:]
    # pydantic names the union member it tried after its parent ('read', 'files', ...): drop it
    location = [
        part for i, part in enumerate(location) if not (i > 0 and location[i - 1] == "read")
    ]
    key = ".".join(str(part) for part in location)
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        message = f"unknown key{_suggestion(detail)}"
    elif detail["type"] == "missing":
        message = "missing required key"
    elif detail["type"] == "union_tag_invalid":
        message = (
            f"unknown kind {detail['ctx']['tag']!r} (expected {detail['ctx']['expected_tags']})"
        )
    elif "input" in detail and detail["type"] not in ("value_error", "model_type", "dict_type"):
        message += f" (got {detail['input']!r})"
    return f"{where}: key {key!r}: {message}" if key else f"{where}: {message}"


def _source_name(raw: Any, index: int) -> str | None:
    try:
        name = raw["sources"][index]["name"]
    except (TypeError, KeyError, IndexError):
        return None
    return name if isinstance(name, str) else None


def _suggestion(detail: Any) -> str:
    misspelt = str(detail["loc"][-1])
    candidates = [
        *Source.model_fields,
        *(name for spec in read_specs() for name in spec.model_fields),
        *Partitioning.model_fields,
    ]
    close = difflib.get_close_matches(misspelt, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
