"""Bad input, one case a row: the exit code, the one line main.py prints last, and nothing
published. README's "Troubleshooting" lists the same messages with what to do about them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from platform_assets.settings import load_settings
from samples.weather_api import WeatherApi
from testkit.upstreams import JsonHandler, backdate, served, serving
from testkit.warehouse import warehouse_query

DAY = "2024-01-02"
CATALOG = """
sources:
  - name: orders
    read: {kind: files, path: "drops/{dt:%Y-%m-%d}.csv", format: csv}
    partitioning: {granularity: daily, start: 2024-01-01, end: 2024-02-01}
    schedule: {cron: "0 6 * * *"}
    key: [id]
    columns: {id: int64, amount: float64, region: string}
  - name: readings
    read:
      kind: http_api
      base_url_env: READINGS_URL
      path: /observations
      params: {start: "{start}", end: "{end}"}
      records: data
    partitioning: {granularity: daily, start: 2013-01-01, end: 2014-01-01}
"""
GOOD = "id,amount,region\n1,1.5,eu\n2,2.5,us\n"
SECRET = "s3cr3t-value-never-shown"
ALIAS_BOMB = "".join(
    [
        'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n',
        *(f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 9)}]\n" for n in range(1, 10)),
    ]
)
"""Nine levels of nine aliases, 600 bytes: expanded, 387,420,489 strings."""


def with_export(sql: str) -> Callable[[str], str]:
    """The catalog with an export of `orders` running `sql`."""
    export = f"exports:\n  - name: totals\n    depends_on: [orders]\n    sql: {json.dumps(sql)}\n"
    return lambda text: text + export


def with_database_query(query: str) -> Callable[[str], str]:
    """The catalog with a source `accounts` reading `query` from a client database."""
    source = (
        "  - name: accounts\n    read: {kind: database, url: {env: ACCOUNTS_URL}, query: "
        f"{json.dumps(query)}}}\n"
        "    partitioning: {granularity: daily, start: 2024-01-01, end: 2024-02-01}\n"
    )
    return lambda text: text + source


ACCOUNTS = {"ACCOUNTS_URL": f"postgresql+psycopg://reader:{SECRET}@127.0.0.1:1/crm"}


@dataclass(frozen=True)
class Case:
    drop: bytes | None = GOOD.encode()  # the day's file (None: no file at all)
    arguments: tuple[str, ...] = ("push", "--source", "orders", "--partition", DAY)
    catalog: Callable[[str], str] = field(default=lambda text: text)
    exit_code: int = 1
    message: str = ""
    env: dict[str, str] = field(default_factory=dict)


CASES = {
    "malformed CSV row": Case(
        drop=b"id,amount,region\n1,1.5,eu\n2,2.5,us,surplus\n",
        message=r"^main\.py: failed: source orders partition 2024-01-02: file://.*/drops/"
        r"2024-01-02\.csv: line 3: expected 3 columns, got 4$",
    ),
    "wrong delimiter": Case(
        drop=b"id;amount;region\n1;1.5;eu\n",
        message=r"line 1: one column 'id;amount;region': the delimiter looks like ';', not ','"
        r" \(read.delimiter\)$",
    ),
    "empty file": Case(
        drop=b"", message=r"2024-01-02\.csv: line 1: empty file, expected a header$"
    ),
    "missing file for a day": Case(drop=None, message=r"/drops/2024-01-02\.csv: file not found$"),
    "non-UTF-8 bytes": Case(
        drop="id,amount,region\n1,1.5,Zürich\n".encode("latin-1"),
        message=r"2024-01-02\.csv: line 2: column region: not UTF-8 \(re-encode the file\)$",
    ),
    "schema drift": Case(
        drop=b"id,amount,region,channel\n1,1.5,eu,web\n",
        message=r"2024-01-02\.csv: upstream added column\(s\) channel, which the frozen schema"
        r" does not have \(schema_contract: evolve would add them\)$",
    ),
    "a type change": Case(
        drop=b"id,amount,region\n1,one euro,eu\n",
        message=r"2024-01-02\.csv: line 2: column amount: 'one euro' is not a valid double$",
    ),
    "nulls in a declared key": Case(
        drop=b"id,amount,region\n1,1.5,eu\n,2.5,us\n",
        message=r"2024-01-02\.csv: 1 row\(s\) with no id, a key column$",
    ),
    "header only": Case(
        drop=b"id,amount,region\n",
        message=r"partition 2024-01-02: no rows \(set empty_ok: true if that can be right\)$",
    ),
    "unknown source": Case(
        arguments=("push", "--source", "nope", "--partition", DAY),
        exit_code=2,
        message=r"error: unknown source 'nope' \(known: orders, readings\)",
    ),
    "bad partition key": Case(
        arguments=("push", "--source", "orders", "--partition", "2024-13-01"),
        exit_code=2,
        message=r"error: source orders: '2024-13-01' is not a date YYYY-MM-DD \(month must be in",
    ),
    "a range ending before it starts": Case(
        arguments=("push", "--source", "orders", "--partition", DAY, "--to", "2024-01-01"),
        exit_code=2,
        message=r"error: source orders: the range ends \(2024-01-01\) before it starts"
        r" \(2024-01-02\)$",
    ),
    "a partition outside the source's": Case(
        arguments=("push", "--source", "orders", "--partition", "2025-01-01"),
        exit_code=2,
        message=r"2025-01-01 is outside source orders's partitions \(2024-01-01 to 2024-01-31\)$",
    ),
    "a catalog with a bad cron": Case(
        catalog=lambda text: text.replace('"0 6 * * *"', '"0 6 * *"'),
        exit_code=2,
        message=r"catalog\.yaml: source 'orders': key 'schedule\.cron': '0 6 \* \*' is not a"
        r" five-field cron expression$",
    ),
    "an unknown key in the catalog": Case(
        catalog=lambda text: text.replace("key: [id]", "keys: [id]"),
        exit_code=2,
        message=r"catalog\.yaml: source 'orders': key 'keys': unknown key"
        r" \(did you mean 'key'\?\)$",
    ),
    "a hostile identifier": Case(
        catalog=lambda text: text.replace(
            "region: string}", 'region: string, "x\\"; DROP TABLE orders; --": string}'
        ),
        exit_code=2,
        message=r"source 'orders': key 'columns': column name 'x\"; DROP TABLE orders; --' must be"
        r" lower-case letters, digits and _$",
    ),
    "a catalog of YAML aliases that expand to billions of values": Case(
        catalog=lambda text: ALIAS_BOMB + text,
        exit_code=2,
        message=r"catalog\.yaml: its aliases expand to more than 100,000 values \(from line \d+\)$",
    ),
    "a control character in the catalog": Case(
        catalog=lambda text: text.replace("name: orders", "name: ord\x00ers"),
        exit_code=2,
        message=r"catalog\.yaml: not valid YAML: unacceptable character #x0000: special characters"
        r" are not allowed$",
    ),
    "a list as a mapping key": Case(
        catalog=lambda text: text.replace("key: [id]", "[id]: key"),
        exit_code=2,
        message=r"catalog\.yaml: not valid YAML at line \d+, column \d+: a key must be a plain"
        r" value, not a list or mapping$",
    ),
    "an alias inside its own anchor": Case(
        catalog=lambda text: "loop: &loop [1, *loop]\n" + text,
        exit_code=2,
        message=r"catalog\.yaml: an alias inside its own anchor at line 1$",
    ),
    "a catalog file larger than a catalog may be": Case(
        catalog=lambda text: text + "#" * (2 * 1024 * 1024) + "\n",
        exit_code=2,
        message=r"catalog\.yaml: 2,097,\d+ bytes, more than a catalog may hold \(2,097,152\)$",
    ),
    "a catalog nested thousands deep": Case(
        catalog=lambda text: text + "deep: " + "[" * 5000 + "]" * 5000 + "\n",
        exit_code=2,
        message=r"catalog\.yaml: not valid YAML: nested too deeply$",
    ),
    "a long wrong value is quoted only in part": Case(
        catalog=lambda text: text.replace('"0 6 * * *"', "[" + ", ".join(["99"] * 5000) + "]"),
        exit_code=2,
        message=r"source 'orders': key 'schedule\.cron': .{0,120}\(\d{2},\d{3} characters\)\)$",
    ),
    "a header naming a column twice": Case(
        drop=b"id,id,amount,region\n1,1,1.5,eu\n",
        message=r"2024-01-02\.csv: column\(s\) id appear more than once upstream$",
    ),
    "a header name that is not an SQL identifier": Case(
        drop=b"id,amount,region,unit price\n1,1.5,eu,2\n",
        message=r"2024-01-02\.csv: column name\(s\) 'unit price' are not SQL identifiers \(letters,"
        r" digits and _, not starting with a digit\): rename them upstream$",
    ),
    "an export that reads a system file": Case(
        arguments=("pull", "--export", "totals", "--partition", DAY),
        catalog=with_export("SELECT dt, content FROM read_text('/etc/passwd'), orders"),
        exit_code=2,
        message=r"error: export totals: its sql reads READ_TEXT\('/etc/passwd'\), which is not a"
        r" warehouse table$",
    ),
    "an export that breaks out of the subquery it runs in": Case(
        arguments=("pull", "--export", "totals", "--partition", DAY),
        catalog=with_export("SELECT dt FROM orders) UNION (SELECT DATE '2024-01-02' AS dt"),
        exit_code=2,
        message=r"error: export totals: its sql not SQL the warehouse reads \(Invalid expression",
    ),
    "an export that calls a function reaching outside the warehouse": Case(
        arguments=("pull", "--export", "totals", "--partition", DAY),
        catalog=with_export("SELECT dt, getenv('HOME') AS home FROM orders"),
        exit_code=2,
        message=r"error: export totals: its sql calls getenv\(\), which reaches outside the"
        r" warehouse$",
    ),
    "an export that reads a table its sources do not hold": Case(
        arguments=("pull", "--export", "totals", "--partition", DAY),
        catalog=with_export("SELECT dt FROM orders JOIN duckdb_settings() ON true"),
        exit_code=2,
        message=r"error: export totals: its sql reads DUCKDB_SETTINGS\(\), which is not a"
        r" warehouse table$",
    ),
    "a cron that never fires": Case(
        catalog=lambda text: text.replace('"0 6 * * *"', '"0 0 31 2 *"'),
        exit_code=2,
        message=r"source 'orders': key 'schedule\.cron': '0 0 31 2 \*' never fires"
        r" \(no such day\)$",
    ),
    "a start too late for any calendar": Case(
        catalog=lambda text: text.replace(
            "start: 2024-01-01, end: 2024-02-01", "start: 9999-12-31"
        ),
        exit_code=2,
        message=r"source 'orders': key 'partitioning': start 9999-12-31 is after 2999-12-31, the"
        r" latest allowed$",
    ),
    "an end meant as forever": Case(
        catalog=lambda text: text.replace("end: 2024-02-01", "end: 9999-12-31"),
        exit_code=2,
        message=r"end 9999-12-31 is after 2999-12-31, the latest allowed \(leave end out for a"
        r" source that goes on\)$",
    ),
    "a start in year 1": Case(
        catalog=lambda text: text.replace("start: 2024-01-01", "start: 0001-01-01"),
        exit_code=2,
        message=r"start 0001-01-01 is before 1900-01-01, the earliest allowed$",
    ),
    "more partitions than a source may have": Case(
        catalog=lambda text: text.replace(
            "start: 2024-01-01, end: 2024-02-01", "start: 1950-01-01, end: 2250-01-01"
        ),
        exit_code=2,
        message=r"109,573 daily partitions from 1950-01-01 to 2250-01-01, more than 100,000: start"
        r" later, or choose a coarser granularity$",
    ),
    "a literal bearer token in the catalog's headers": Case(
        arguments=("push", "--source", "readings", "--partition", "2013-01-02"),
        catalog=lambda text: text.replace(
            "records: data", 'records: data\n      headers: {Authorization: "Bearer a1b2c3d4e5"}'
        ),
        exit_code=2,
        message=r"source 'readings': key 'read': headers\.Authorization holds a literal credential:"
        r" put it in a secret \('secrets:'\) and write \{secret\[name\]\} instead$",
    ),
    "a secret in the query of a URL an error names": Case(
        arguments=("push", "--source", "readings", "--partition", "2013-01-02"),
        catalog=lambda text: text.replace(
            'end: "{end}"}',
            'end: "{end}", api_key: "{secret[key]}"}\n      secrets: {key: {env: READINGS_KEY}}',
        ),
        env={"READINGS_KEY": SECRET},
        message=r"http://127\.0\.0\.1:\d+/observations\?start=2013-01-02&end=2013-01-03"
        r"&api_key=\*\*\*: not JSON \(text/html\)",
    ),
    "a database URL where the name of its variable belongs": Case(
        arguments=("push", "--source", "readings", "--partition", "2013-01-02"),
        catalog=lambda text: text.replace(
            "READINGS_URL", f"postgresql://reader:{SECRET}@db.example.com/crm"
        ),
        exit_code=2,
        message=r"the environment variable postgresql://reader:\*\*\*@db\.example\.com/crm$",
    ),
    "an environment variable the source names is unset": Case(
        arguments=("push", "--source", "readings", "--partition", "2013-01-02"),
        catalog=lambda text: text.replace("READINGS_URL", "UNSET_READINGS_URL"),
        exit_code=2,
        message=r"error: source readings partition 2013-01-02: the catalog needs the environment"
        r" variable UNSET_READINGS_URL$",
    ),
    "a database query that calls a sequence": Case(
        arguments=("push", "--source", "accounts", "--partition", DAY),
        catalog=with_database_query("SELECT nextval('account_ids') AS id"),
        env=ACCOUNTS,
        exit_code=2,
        message=r"error: source accounts partition 2024-01-02: postgresql\+psycopg://reader:\*\*\*"
        r"@127\.0\.0\.1:1/crm \(query\): its query calls nextval\(\), which reaches outside the"
        r" database$",
    ),
    "a database query that closes the parenthesis wrapping it": Case(
        arguments=("push", "--source", "accounts", "--partition", DAY),
        catalog=with_database_query("SELECT 1 AS a) AS query, (SELECT pg_read_file('/etc/passwd')"),
        env=ACCOUNTS,
        exit_code=2,
        message=r"\(query\): its query not SQL the database reads \(Invalid expression",
    ),
    "an API returning HTML instead of JSON": Case(
        arguments=("push", "--source", "readings", "--partition", "2013-01-02"),
        message=r"failed: source readings partition 2013-01-02: http://127\.0\.0\.1:\d+/observations"
        r"\?start=2013-01-02&end=2013-01-03: not JSON \(text/html\): '<html><body>Please sign in",
    ),
}


@pytest.fixture
def html_api():
    """An API whose next answer is a sign-in page instead of JSON."""
    api = WeatherApi()
    api.fail_next("html")
    with served(api) as url:
        yield api, url


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_exits_with_one_line_and_publishes_nothing(
    case, run_main, home, tmp_path, html_api
):
    _, url = html_api
    drops = home / "drops"
    drops.mkdir()
    (drops / "2024-01-01.csv").write_text(GOOD)
    backdate(drops / "2024-01-01.csv")
    if case.drop is not None:
        (drops / f"{DAY}.csv").write_bytes(case.drop)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    env = {"PLATFORM_CATALOG": str(catalog), "READINGS_URL": url, **case.env}
    good = run_main("push", "--source", "orders", "--partition", "2024-01-01", env=env)
    assert good.returncode == 0, good.stderr
    before = lake_files(home)
    manifests = "lake/_platform/raw/orders/manifests/"
    assert [name for name in before if name.startswith(manifests)] == [
        f"{manifests}dt=2024-01-01.json"
    ]

    catalog.write_text(case.catalog(CATALOG))
    result = run_main(*case.arguments, env=env)
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == case.exit_code, result.stderr
    assert re.search(case.message, last), last
    assert last.startswith(
        "main.py: failed: source " if case.exit_code == 1 else "main.py: error: "
    )
    assert lake_files(home) == before  # nothing published, the previous version intact
    assert SECRET not in result.stderr
    leaks = [
        path for path in home.rglob("*") if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaks == [], "no log or report the run left holds the secret"
    settings = load_settings({"PLATFORM_HOME": str(home)})
    assert warehouse_query(
        settings, 'SELECT CAST(dt AS VARCHAR), COUNT(*) FROM "{schema}".orders GROUP BY 1'
    ) == [("2024-01-01", 2)]


def lake_files(home: Path) -> dict[str, bytes]:
    """What the lake holds: every file (a run's lease file is gone once the run ends)."""
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in (home / "lake").rglob("*")
        if path.is_file()
    }


def test_an_alias_bomb_is_refused_at_once_in_little_memory(home, tmp_path):
    """The billion laughs, against main.py: exit 2 and its one line, its time and peak RSS."""
    import os
    import sys

    from testkit.main_process import MAIN
    from testkit.measured import run_measured

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(ALIAS_BOMB + CATALOG)
    env = {**os.environ, "PLATFORM_HOME": str(home), "PLATFORM_CATALOG": str(catalog)}
    run = run_measured([sys.executable, str(MAIN), "list"], env, tmp_path)
    print(
        f"\nalias bomb ({len(ALIAS_BOMB)} bytes): exit {run.returncode} in {run.seconds:.2f} s,"
        f" peak RSS {run.peak_rss_mib:.0f} MiB: {run.output.strip()}"
    )
    assert run.returncode == 2
    assert len(run.output.strip().splitlines()) == 1
    assert re.search(r"catalog\.yaml: its aliases expand to more than 100,000 values", run.output)
    assert run.peak_rss_mib < 300


class DeepRecords(JsonHandler):
    """An API whose one record has a field `deep` of `depth` nested arrays."""

    depth: ClassVar[int] = 1

    def do_GET(self) -> None:
        deep = "[" * self.depth + "1" + "]" * self.depth  # json.dumps would recurse as deep
        body = f'{{"data": [{{"id": 1, "deep": {deep}}}]}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(
    ("depth", "columns", "message"),
    [
        (33, "", r": column deep nests 33 levels deep, more than 32: declare it json to keep it"),
        (1_000, "", r"/observations\?start=2013-01-02&end=2013-01-03: the JSON nests too deep"),
        (200, "\n    columns: {id: int64, deep: json}", None),
    ],
)
def test_a_record_nested_too_deep_fails_in_one_line_unless_declared_json(
    depth, columns, message, run_main, tmp_path
):
    DeepRecords.depth = depth
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG.replace("records: data", f"records: data{columns}"))
    with serving(DeepRecords) as url:
        env = {"PLATFORM_CATALOG": str(catalog), "READINGS_URL": url}
        result = run_main("push", "--source", "readings", "--partition", "2013-01-02", env=env)
    if message is None:
        assert result.returncode == 0, result.stderr
        assert "rows_match_lake: passed (1 rows in 1 partitions)" in result.stdout
        return
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("main.py: failed: source readings partition 2013-01-02: "), last
    assert re.search(message, last), last
