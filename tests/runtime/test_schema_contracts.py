"""freeze and evolve end to end: an upstream column appears between two days."""

from platform_assets.settings import load_settings
from testkit.upstreams import landed
from testkit.warehouse import warehouse_query

CATALOG = """
sources:
  - name: orders
    read: {{kind: files, path: "{drops}/{{dt:%Y-%m-%d}}.csv", format: csv}}
    partitioning: {{granularity: daily, start: 2024-01-01, end: 2024-02-01}}
    key: [id]
    columns: {{id: int64, amount: float64}}
    schema_contract: {contract}
"""
DAYS = {
    "2024-01-01": "id,amount\n1,1.5\n2,2.5\n",
    "2024-01-02": "id,amount,region\n3,3.5,eu\n4,4.5,us\n",
}


def catalog(env: dict[str, str], tmp_path, contract: str) -> dict[str, str]:
    path = tmp_path / f"{contract}.yaml"
    files = {f"{day}.csv": text for day, text in DAYS.items()}
    path.write_text(CATALOG.format(drops=landed(env, tmp_path, files), contract=contract))
    return {**env, "PLATFORM_CATALOG": str(path)}


def test_under_freeze_a_new_upstream_column_fails_naming_it(either_env, tmp_path, run_main):
    frozen = catalog(either_env, tmp_path, "freeze")
    days = ("--partition", "2024-01-01", "--to", "2024-01-02")
    result = run_main("push", "--source", "orders", *days, env=frozen)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "2024-01-02.csv: upstream added column(s) region, which the frozen schema does not have"
            " (schema_contract: evolve would add them); 1 of 2 partitions published (2024-01-01),"
            " none loaded; to resume: python main.py push --source orders --partition 2024-01-02,"
            " then python main.py load --source orders --partition 2024-01-01"
        )
    )


def test_under_evolve_the_table_gains_the_column_and_older_rows_read_null(
    either_env, tmp_path, run_main
):
    evolving = catalog(either_env, tmp_path, "evolve")
    first = run_main("push", "--source", "orders", "--partition", "2024-01-01", env=evolving)
    assert first.returncode == 0, first.stderr
    second = run_main("push", "--source", "orders", "--partition", "2024-01-02", env=evolving)
    assert second.returncode == 0, second.stderr
    assert "new column(s) region" in second.stderr
    # reloading both days (files with and without the column) in one range
    both = run_main(
        "push",
        "--source",
        "orders",
        "--partition",
        "2024-01-01",
        "--to",
        "2024-01-02",
        env=evolving,
    )
    assert both.returncode == 0, both.stderr
    assert "check raw/schema_matches: passed" in both.stdout
    settings = load_settings(evolving)
    assert settings.lake.stored_schema("orders").names == ["id", "amount", "region"]
    rows = table_rows(settings)
    assert rows == [(1, 1.5, None), (2, 2.5, None), (3, 3.5, "eu"), (4, 4.5, "us")]


def table_rows(settings) -> list[tuple]:
    return warehouse_query(settings, 'SELECT id, amount, region FROM "{schema}".orders ORDER BY id')
