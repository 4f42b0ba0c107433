"""`main.py check` exits 1 when a check of error severity fails, 0 when only warnings fail;
the catalog's `checks:` sets each check's severity per source."""

from pathlib import Path

import duckdb
import pytest

from testkit.catalogs import edited_seed_catalog

DAYS = ("--partition", "2013-01-01", "--to", "2013-01-03")
KEY = "    key: [carrier, flight, origin, time_hour]\n"


def warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"))


def duplicate_a_key(home: Path) -> None:
    """Give one row of 2013-01-02 another row's key, behind the platform's back (same row count)."""
    with warehouse(home) as db:
        rows = db.execute(
            "SELECT carrier, flight, origin, time_hour FROM flights WHERE dt = DATE '2013-01-02'"
            " ORDER BY time_hour, carrier, flight, origin LIMIT 2"
        ).fetchall()
        kept, changed = rows
        db.execute(
            "UPDATE flights SET carrier = ?, flight = ?, origin = ?, time_hour = ?"
            " WHERE carrier = ? AND flight = ? AND origin = ? AND time_hour = ?"
            " AND dt = DATE '2013-01-02'",
            [*kept, *changed],
        )


def test_a_day_deleted_behind_the_platforms_back_fails_check_with_exit_1(run_main, home):
    assert run_main("push", "--source", "flights", *DAYS).returncode == 0
    with warehouse(home) as db:
        db.execute("DELETE FROM flights WHERE dt = DATE '2013-01-02'")
    result = run_main("check", "--source", "flights", *DAYS)
    assert result.returncode == 1, result.stderr
    assert "  check warehouse/rows_match_lake: FAILED (" in result.stdout  # the report first
    assert result.stderr.strip().splitlines()[-1] == (
        "main.py: failed: source flights partitions 2013-01-01..2013-01-03:"
        " check(s) warehouse/rows_match_lake failed (severity error)"
    )


@pytest.mark.parametrize(
    ("setting", "exit_code", "verdict"),
    [
        ("", 1, "FAILED"),
        ("    checks:\n      unique_key: warn\n", 0, "failed, severity warn"),
        ("    checks:\n      unique_key: {severity: warn}\n", 0, "failed, severity warn"),
    ],
    ids=["default-error", "warn", "warn-long-form"],
)
def test_a_duplicate_key_fails_check_as_its_severity_says(
    run_main, home, tmp_path, setting, exit_code, verdict
):
    catalog = edited_seed_catalog(tmp_path / "catalog.yaml", KEY, KEY + setting)
    env = {"PLATFORM_CATALOG": catalog}
    assert run_main("push", "--source", "flights", *DAYS, env=env).returncode == 0
    duplicate_a_key(home)
    result = run_main("check", "--source", "flights", *DAYS, env=env)
    assert result.returncode == exit_code, result.stderr
    assert f"  check warehouse/unique_key: {verdict} (1 (carrier" in result.stdout
    assert "  check warehouse/rows_match_lake: passed" in result.stdout
    failed_line = "main.py: failed: source flights partitions 2013-01-01..2013-01-03: check(s)"
    assert (failed_line in result.stderr) == (exit_code == 1)


def test_push_and_load_exit_0_when_a_check_fails_dagster_shows_the_verdict(run_main, tmp_path):
    narrow_key = "    key: [carrier, origin]\n"  # repeats within a day
    env = {"PLATFORM_CATALOG": edited_seed_catalog(tmp_path / "catalog.yaml", KEY, narrow_key)}
    for command in ("push", "load"):
        result = run_main(command, "--source", "flights", *DAYS, env=env)
        assert result.returncode == 0, result.stderr
        assert "  check warehouse/unique_key: FAILED (" in result.stdout
    assert run_main("check", "--source", "flights", *DAYS, env=env).returncode == 1
