"""A declared column's type changed in the catalog: push, load and check refuse it with nothing
written, and `main.py rebuild` migrates the lake and the table."""

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from platform_assets.layers import Layer
from platform_assets.settings import Settings, load_settings
from platform_assets.warehouse.redshift import RedshiftWarehouse
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import landed
from testkit.warehouse import warehouse_query

CATALOG = """
sources:
  - name: orders
    read: {{kind: files, path: "{drops}/{{dt:%Y-%m-%d}}.csv", format: csv}}
    partitioning: {{granularity: daily, start: 2024-01-01, end: 2024-01-04}}
    key: [id]
    columns: {{id: int64, amount: {amount}}}
"""
NUMBERS = {
    "2024-01-01": "id,amount\n1,15\n2,-3\n",
    "2024-01-02": "id,amount\n3,0\n4,7000000000\n",
    "2024-01-03": "id,amount\n5,42\n",
}
WORDS = {"2024-01-01": "id,amount\n1,15\n", "2024-01-02": "id,amount\n2,16\n3,abc\n"}
SELECT = 'SELECT id, amount, dt FROM "{schema}".orders ORDER BY id'


def with_drops(env: dict[str, str], tmp_path: Path, days: dict[str, str]) -> str:
    """The days' CSV files, locally or in the landing bucket (aws mode)."""
    return landed(env, tmp_path, {f"{day}.csv": text for day, text in days.items()})


def declaring(env: dict[str, str], tmp_path: Path, drops: str, amount: str) -> dict[str, str]:
    path = tmp_path / f"catalog-{amount}.yaml"
    path.write_text(CATALOG.format(drops=drops, amount=amount))
    return {**env, "PLATFORM_CATALOG": str(path)}


@dataclass(frozen=True)
class Pushed:
    """The days' drops pushed through a catalog that declares `amount`'s type."""

    drops: str
    env: dict[str, str]
    days: tuple[str, ...]
    settings: Settings


def pushed_declaring(
    run_main: Callable[..., subprocess.CompletedProcess[str]],
    env: dict[str, str],
    tmp_path: Path,
    drops: dict[str, str],
    amount: str,
) -> Pushed:
    landed_drops = with_drops(env, tmp_path, drops)
    declared = declaring(env, tmp_path, landed_drops, amount)
    days = ("--partition", min(drops), "--to", max(drops))
    first = run_main("push", "--source", "orders", *days, env=declared)
    assert first.returncode == 0, first.stderr
    return Pushed(landed_drops, declared, days, load_settings(declared))


def lake_hashes(settings: Settings) -> dict[str, str]:
    """Every file of the source in the lake by its hash: its data files and what the platform
    keeps of it under _platform/ (manifests, schema, Iceberg metadata; a run's lease is gone
    once it ends); the runs' logs and reports may share the lake's prefix (aws mode)."""
    store = settings.lake.store
    table = settings.lake.layout(Layer.RAW, "orders")
    return {
        path: hashlib.sha256(store.read_bytes(path)).hexdigest()
        for folder in (table.data, table.area)
        for path in store.list_files(folder, recursive=True)
    }


def lake_columns(settings: Settings) -> tuple[set[pa.DataType], list[tuple]]:
    """The types the lake's files hold for `amount`, and their rows, partition by partition."""
    lake, types, rows = settings.lake, set(), []
    for period in settings.catalog.source("orders").periods("2024-01-01", "2024-01-03"):
        manifest = lake.manifest(Layer.RAW, "orders", period)
        if manifest is None:
            continue
        for batch in lake.batches(manifest):
            types.add(batch.schema.field("amount").type)
            rows += zip(batch["id"].to_pylist(), batch["amount"].to_pylist(), strict=True)
    return types, sorted(rows)


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_a_changed_type_is_refused_until_rebuild_migrates_lake_and_table(
    either_env, tmp_path, run_main
):
    first = pushed_declaring(run_main, either_env, tmp_path, NUMBERS, "int64")
    drops, days, settings = first.drops, first.days, first.settings
    hashes, rows = lake_hashes(settings), warehouse_query(settings, SELECT)
    assert [(key, amount) for key, amount, _ in rows] == [
        (1, 15), (2, -3), (3, 0), (4, 7_000_000_000), (5, 42)
    ]  # fmt: skip

    after = declaring(either_env, tmp_path, drops, "string")
    for command in (("push", *days), ("load", *days), ("check", *days)):
        refused = run_main(command[0], "--source", "orders", *command[1:], env=after)
        assert refused.returncode == 2, refused.stderr
        assert last_line(refused) == (
            "main.py: error: source orders: the catalog changes the type of column amount from"
            " int64 to string, but the lake holds the old type; to migrate the lake and the"
            " table, run: python main.py rebuild --source orders"
        )
    assert lake_hashes(settings) == hashes
    assert warehouse_query(settings, SELECT) == rows

    rebuilt = run_main("rebuild", "--source", "orders", env=after)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuild orders 2024-01-01..2024-01-03 (3 partitions)" in rebuilt.stdout
    assert "check raw/schema_matches: passed" in rebuilt.stdout
    assert "check warehouse/rows_match_lake: passed" in rebuilt.stdout
    as_text = [(key, str(amount), day) for key, amount, day in rows]
    migrated = load_settings(after)
    assert warehouse_query(migrated, SELECT) == as_text
    types, lake_rows = lake_columns(migrated)
    assert types == {pa.string()}
    assert lake_rows == [(key, amount) for key, amount, _ in as_text]
    assert migrated.lake.stored_schema("orders").field("amount").type == pa.string()

    checked = run_main("check", "--source", "orders", *days, env=after)
    assert checked.returncode == 0, checked.stderr
    assert "FAILED" not in checked.stdout
    again = run_main("rebuild", "--source", "orders", env=after)
    assert again.returncode == 0, again.stderr
    assert warehouse_query(migrated, SELECT) == as_text
    assert lake_columns(migrated) == (types, lake_rows)
    pushed = run_main("push", "--source", "orders", *days, env=after)
    assert pushed.returncode == 0, pushed.stderr
    assert warehouse_query(migrated, SELECT) == as_text
    SUMMARY_LINES.append(
        f"type change ({either_env.get('PLATFORM_ENV')}): 3 pushes and checks refused,"
        f" rebuild: {len(as_text)} rows in 3 partitions int64 → string, twice the same"
    )
    SUMMARY_LINES.extend(f"  {line}" for line in rebuilt.stdout.strip().splitlines())


def test_a_value_that_does_not_cast_fails_rebuild_with_the_lake_as_before(
    either_env, tmp_path, run_main
):
    first = pushed_declaring(run_main, either_env, tmp_path, WORDS, "string")
    drops, settings = first.drops, first.settings
    hashes, rows = lake_hashes(settings), warehouse_query(settings, SELECT)
    lake_before = lake_columns(settings)
    assert lake_before == ({pa.string()}, [(1, "15"), (2, "16"), (3, "abc")])

    after = declaring(either_env, tmp_path, drops, "int64")
    failed = run_main("rebuild", "--source", "orders", env=after)
    assert failed.returncode == 1, failed.stderr
    line = last_line(failed)
    assert line.startswith("main.py: failed: source orders partition 2024-01-02: "), line
    assert "column amount is string, the schema says int64" in line
    assert "'abc'" in line and line.endswith("nothing was rebuilt"), line
    assert lake_hashes(settings) == hashes
    assert lake_columns(settings) == lake_before
    assert warehouse_query(settings, SELECT) == rows
    SUMMARY_LINES.append(f"type change ({either_env.get('PLATFORM_ENV')}): {line}")


def alter_table(settings: Settings, sql: str) -> None:
    """A statement against the warehouse's table from outside the platform; `{schema}` as in
    warehouse_query."""
    if settings.warehouse_name == "duckdb":
        with duckdb.connect(str(settings.home / "warehouse.duckdb")) as db:
            db.execute(sql.format(schema="main"))
        return
    warehouse = settings.warehouse
    assert isinstance(warehouse, RedshiftWarehouse), settings.warehouse_name
    connection = warehouse.connect()
    try:
        connection.cursor().execute(sql.format(schema=warehouse.schema_name))
        connection.commit()
    finally:
        connection.close()


def test_a_table_whose_type_differs_from_the_lake_fails_load_until_rebuild(
    either_env, tmp_path, run_main
):
    first = pushed_declaring(run_main, either_env, tmp_path, NUMBERS, "int64")
    env, days, settings = first.env, first.days, first.settings
    rows = warehouse_query(settings, SELECT)
    alter_table(settings, 'ALTER TABLE "{schema}".orders ALTER COLUMN amount TYPE VARCHAR')
    hashes = lake_hashes(settings)

    failed = run_main("load", "--source", "orders", *days, env=env)
    assert failed.returncode == 1, failed.stderr
    line = last_line(failed)
    assert line.startswith(
        "main.py: failed: source orders partitions 2024-01-01..2024-01-03: table "
    ), line
    assert "does not match the lake: amount " in line and "(the lake's files: " in line, line
    assert line.endswith("run: python main.py rebuild --source orders"), line
    assert lake_hashes(settings) == hashes

    rebuilt = run_main("rebuild", "--source", "orders", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert warehouse_query(settings, SELECT) == rows
    SUMMARY_LINES.append(f"type change ({either_env.get('PLATFORM_ENV')}): {line}")
