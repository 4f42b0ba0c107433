"""Adding a source kind is one module and one registry line: a toy kind, written into a copy of
the package with nothing else edited, reads partitions into the lake and the warehouse through
main.py, passes its checks, and appears in Dagster's definitions."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from platform_assets.settings import PACKAGE_DIRECTORY, PROJECT_DIRECTORY

KIND_MODULE = '''\
"""The `counter` kind: `rows` numbered rows for each day of a partition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pyarrow as pa
from pydantic import Field

from platform_assets.contracts import with_origin
from platform_assets.partitions import Period
from platform_assets.sources.kind import ReadSpec, Upstream
from platform_assets.sources.window import Window


class CounterRead(ReadSpec):
    kind: Literal["counter"]
    rows: int = Field(ge=1, description="Rows per day.")

    parallel_partitions = True  # nothing is shared between partitions

    def batches(
        self,
        period: Period,
        schema: pa.Schema | None,
        upstream: Upstream,
        window: Window | None = None,
    ) -> Iterator[pa.RecordBatch]:
        for day in period.days():
            numbers = pa.array(range(self.rows), pa.int64())
            days = pa.array([day] * self.rows, pa.date32())
            batch = pa.RecordBatch.from_arrays([numbers, days], names=["n", "day"])
            yield with_origin(batch, f"counter {day}")
'''
REGISTRY_LINE = '    "platform_assets.sources.counter:CounterRead",\n'
CATALOG = """\
sources:
  - name: numbers
    read: {kind: counter, rows: 7}
    partitioning: {granularity: weekly, start: 2024-01-01}
    key: [n, day]
    columns: {n: int64, day: date32}
"""


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project's package and main.py, with the kind's module and its registry line added."""
    root = tmp_path / "project"
    shutil.copytree(PACKAGE_DIRECTORY, root / "platform_assets", ignore=_caches)
    shutil.copy(PROJECT_DIRECTORY / "main.py", root / "main.py")
    (root / "platform_assets/sources/counter.py").write_text(KIND_MODULE)
    registry = root / "platform_assets/sources/registry.py"
    text = registry.read_text()
    assert text.count("KINDS = (\n") == 1
    registry.write_text(text.replace("KINDS = (\n", "KINDS = (\n" + REGISTRY_LINE))
    return root


def _caches(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def test_the_copy_differs_by_one_module_and_one_line(copy: Path):
    comparison = filecmp.dircmp(PACKAGE_DIRECTORY, copy / "platform_assets", ignore=["__pycache__"])
    assert _differences(comparison) == (["sources/counter.py"], ["sources/registry.py"])
    original = (PACKAGE_DIRECTORY / "sources/registry.py").read_text().splitlines(keepends=True)
    edited = (copy / "platform_assets/sources/registry.py").read_text().splitlines(keepends=True)
    assert [line for line in edited if line not in original] == [REGISTRY_LINE]
    assert len(edited) == len(original) + 1


def _differences(comparison: filecmp.dircmp, prefix: str = "") -> tuple[list[str], list[str]]:
    added = [prefix + name for name in comparison.right_only]
    changed = [prefix + name for name in comparison.diff_files]
    assert comparison.left_only == []
    for name, below in comparison.subdirs.items():
        more_added, more_changed = _differences(below, f"{prefix}{name}/")
        added += more_added
        changed += more_changed
    return sorted(added), sorted(changed)


def test_a_toy_kind_reads_partitions_into_the_lake_and_the_warehouse(copy: Path, tmp_path: Path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    home = tmp_path / "home"
    env = {"PLATFORM_HOME": str(home), "PLATFORM_CATALOG": str(catalog), "PATH": ""}

    def main(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", *arguments],
            cwd=copy,  # the copy's package, not the installed one
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    weeks = ("--partition", "2024-01-01", "--to", "2024-01-15")
    pushed = main("push", "--source", "numbers", *weeks)
    assert pushed.returncode == 0, pushed.stderr
    assert "check raw/schema_matches: passed" in pushed.stdout
    assert "check warehouse/unique_key: passed" in pushed.stdout
    status = main("status", "--source", "numbers", *weeks)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[1:] == [
        f"{week:<12} {49:>12} {49:>15}" for week in ("2024-01-01", "2024-01-08", "2024-01-15")
    ] + [f"{'total':<12} {147:>12,} {147:>15,}"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as warehouse:
        rows = warehouse.execute(
            "SELECT dt, count(*), count(DISTINCT day), max(n) FROM numbers GROUP BY dt ORDER BY dt"
        ).fetchall()
    assert [(str(day), count, days, top) for day, count, days, top in rows] == [
        ("2024-01-01", 49, 7, 6),
        ("2024-01-08", 49, 7, 6),
        ("2024-01-15", 49, 7, 6),
    ]
    listed = main("list")
    assert listed.stdout.splitlines()[1].split()[:2] == ["numbers", "counter"]


def test_dagster_generates_the_toy_kinds_assets_and_checks(copy: Path, tmp_path: Path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    script = (
        "from platform_assets.definitions import defs\n"
        "graph = defs.resolve_asset_graph()\n"
        "print(sorted(key.to_user_string() for key in graph.get_all_asset_keys()))\n"
        "print(sorted(key.name for key in graph.asset_check_keys))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=copy,
        env={"PLATFORM_HOME": str(tmp_path), "PLATFORM_CATALOG": str(catalog), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assets, checks = result.stdout.splitlines()[-2:]
    assert assets == "['raw/numbers', 'upstream/numbers', 'warehouse/numbers']"
    # main.py's three, and each asset's run_succeeded (the toy has no schedule: no freshness)
    assert (
        checks
        == "['rows_match_lake', 'run_succeeded', 'run_succeeded', 'schema_matches', 'unique_key']"
    )
