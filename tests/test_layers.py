"""The house's import rules hold: data and imports flow one way (sources → lake → warehouse →
checks → settings → runtime → orchestration), and main.py's runtime imports no Dagster but
dagster_pipes."""

import ast
from pathlib import Path

import pytest

from platform_assets.settings import PACKAGE_DIRECTORY

# each entry may import itself and what comes before it, never what comes after
LAYERS = [
    {
        "errors",
        "redaction",
        "partitions",
        "layers",
        "identifiers",
        "schemas",
        "nesting",
        "contracts",
        "write_modes",
        "backoff",
        "variables",
        "strict",
        "storage",
        "sql_statements",
    },
    {"sources"},
    {"catalog"},
    {"lake"},
    {"warehouse"},
    {"checks"},
    {"settings"},
    {"runtime"},
    {"orchestration", "definitions"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MODULES = sorted(
    path for path in PACKAGE_DIRECTORY.rglob("*.py") if "__pycache__" not in path.parts
)


def top_level(path: Path) -> str:
    return path.relative_to(PACKAGE_DIRECTORY).parts[0].removesuffix(".py")


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside functions, as a dotted name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_every_module_of_the_package_has_a_layer():
    assert {top_level(path) for path in MODULES} - {"__init__"} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE_DIRECTORY)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path):
    here = top_level(path)
    if here == "__init__":
        return
    upward = sorted(
        name
        for name in imports(path)
        if name.startswith("platform_assets.") and RANK[name.split(".")[1]] > RANK[here]
    )
    assert upward == []


def test_runtime_imports_no_dagster_but_dagster_pipes():
    offending = {
        str(path.relative_to(PACKAGE_DIRECTORY)): sorted(
            name for name in imports(path) if name == "dagster" or name.startswith("dagster.")
        )
        for path in MODULES
        if top_level(path) == "runtime"
    }
    assert {path: names for path, names in offending.items() if names} == {}
