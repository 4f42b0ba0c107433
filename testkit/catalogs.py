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
