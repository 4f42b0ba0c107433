"""Reading the catalog file: safe YAML, then the model, each problem one line naming the file,
the source and the key."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Hashable
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
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a key must be a plain value, not a list or mapping",
                key_node.start_mark,
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_CatalogLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


MAX_CATALOG_BYTES = 2 * 1024 * 1024
MAX_CATALOG_VALUES = 100_000
"""Values (mappings, lists, scalars) the catalog may hold once its aliases are expanded: a few
anchors are a convenience, an alias bomb a few KB long would expand to billions."""
_QUOTED_CHARACTERS = 80


def load_catalog(path: Path, check_names: Collection[str] | None = None) -> Catalog:
    """Read and validate the catalog; each problem is a CatalogError naming file, source, key.

    `check_names` are the checks a source's `checks:` may name (the checks' registry, which
    the settings pass: it lies above the catalog); without them the names go unchecked."""
    loader = _loader(path)
    try:
        raw = loader.construct_document(_bounded(path, _root(path, loader)))
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    except RecursionError:
        raise CatalogError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    try:
        return Catalog.model_validate(raw, context={CHECK_NAMES_CONTEXT: check_names})
    except ValidationError as error:
        # unknown keys first: a misspelt key also shows up as a missing one
        details = sorted(error.errors(), key=lambda detail: detail["type"] != "extra_forbidden")
        raise CatalogError("; ".join(_describe(path, raw, detail) for detail in details)) from None


def declaration_lines(path: Path) -> dict[str, int]:
    """The line (from 1) of the catalog file where each source and export is declared, by name."""
    lines: dict[str, int] = {}
    loader = _loader(path)
    try:
        root = _root(path, loader)
    finally:
        loader.dispose()
    for section_key, section in root.value if isinstance(root, yaml.MappingNode) else ():
        if section_key.value not in ("sources", "exports"):
            continue
        if not isinstance(section, yaml.SequenceNode):
            continue
        for item in section.value:
            for key, value in item.value if isinstance(item, yaml.MappingNode) else ():
                if key.value == "name" and isinstance(value, yaml.ScalarNode):
                    lines[value.value] = item.start_mark.line + 1
    return lines


def _loader(path: Path) -> _CatalogLoader:
    text = _read(path)
    try:
        return _CatalogLoader(text)
    except yaml.YAMLError as error:  # the reader refuses control characters at once
        raise _yaml_error(path, error) from None


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CATALOG_BYTES:
            raise CatalogError(
                f"{path}: {size:,} bytes, more than a catalog may hold ({MAX_CATALOG_BYTES:,})"
            )
        return path.read_text()
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the catalog ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise CatalogError(f"{path}: not UTF-8 text (byte {error.start})") from None


def _root(path: Path, loader: _CatalogLoader) -> yaml.Node | None:
    """The document's node tree, aliases unexpanded (PyYAML's composer recurses per level)."""
    try:
        return loader.get_single_node()
    except RecursionError:
        raise CatalogError(f"{path}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None


def _yaml_error(path: Path, error: yaml.YAMLError) -> CatalogError:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        return CatalogError(f"{path}: not valid YAML at {where}: {error.problem}")
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return CatalogError(f"{path}: not valid YAML: {_quoted(first)}")


def _bounded(path: Path, root: yaml.Node | None) -> yaml.Node | None:
    """`root`, if it holds at most MAX_CATALOG_VALUES values with its aliases expanded and no
    alias inside its own anchor. Counted once per node (an alias is its anchor's node again)."""
    sizes: dict[int, int] = {}
    pending: list[tuple[yaml.Node, bool]] = [(root, False)] if root is not None else []
    open_nodes: set[int] = set()
    while pending:
        node, children_done = pending.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_CATALOG_VALUES:
                raise CatalogError(
                    f"{path}: its aliases expand to more than {MAX_CATALOG_VALUES:,} values"
                    f" (from line {node.start_mark.line + 1})"
                )
            continue
        if id(node) in open_nodes:
            raise CatalogError(
                f"{path}: an alias inside its own anchor at line {node.start_mark.line + 1}"
            )
        open_nodes.add(id(node))
        pending.append((node, True))
        pending.extend((child, False) for child in children if id(child) not in sizes)
    return root


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _quoted(text: str) -> str:
    """At most _QUOTED_CHARACTERS of a value a message quotes."""
    if len(text) <= _QUOTED_CHARACTERS:
        return text
    return f"{text[:_QUOTED_CHARACTERS]}… ({len(text):,} characters)"


def _shortened(message: str) -> str:
    """A validator's own message, which may quote a long value: its start and its end (the
    cause), at most twice _QUOTED_CHARACTERS of each."""
    most = 2 * _QUOTED_CHARACTERS
    if len(message) <= 2 * most:
        return message
    return f"{message[:most]} … ({len(message) - 2 * most:,} characters) … {message[-most:]}"


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
    message = _shortened(detail["msg"].removeprefix("Value error, "))
    if detail["type"] == "extra_forbidden":
        message = f"unknown key{_suggestion(detail)}"
    elif detail["type"] == "missing":
        message = "missing required key"
    elif detail["type"] == "union_tag_invalid":
        message = (
            f"unknown kind {detail['ctx']['tag']!r} (expected {detail['ctx']['expected_tags']})"
        )
    elif "input" in detail and detail["type"] not in ("value_error", "model_type", "dict_type"):
        message += f" (got {_quoted(repr(detail['input']))})"
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
