"""Catalogs for a test: the seed catalog with one edit."""

from __future__ import annotations

from pathlib import Path

from platform_assets.settings import PACKAGE_DIRECTORY


def edited_seed_catalog(path: Path, old: str, new: str) -> str:
    """The seed catalog with its one `old` replaced by `new`, written to `path`."""
    seed = (PACKAGE_DIRECTORY / "catalog.yaml").read_text()
    assert seed.count(old) == 1, old
    path.write_text(seed.replace(old, new))
    return str(path)


def catalog_error(path: Path) -> str:
    """The error loading the catalog at `path` gives: one line, starting with the file's path."""
    import pytest

    from platform_assets.catalog import CatalogError, load_catalog
    from platform_assets.checks import CHECK_NAMES

    with pytest.raises(CatalogError) as raised:
        load_catalog(path, CHECK_NAMES)
    text = str(raised.value)
    assert text.startswith(str(path)), text
    assert "\n" not in text, text
    return text
