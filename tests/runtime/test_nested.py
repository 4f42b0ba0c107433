"""Nested API records (objects, lists of objects, nulls, missing keys, a key that first appears
on day 2) through main.py into the lake and the warehouse: kept whole or flattened, under evolve
and freeze, locally and in aws mode; and the same records as JSON lines files, flattened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from platform_assets.layers import Layer
from platform_assets.settings import load_settings
from samples.weather_api import WeatherApi
from testkit.summary import SUMMARY_LINES
from testkit.upstreams import served
from testkit.warehouse import warehouse_query

JANUARY = ("--partition", "2024-01-01", "--to", "2024-01-31")
PER_DAY, PAGE = 5, 3  # two pages a day
CATALOG = """
sources:
  - name: orders
    read:
      kind: http_api
      base_url_env: ORDERS_API_URL
      path: /observations
      params: {{start: "{{start}}", end: "{{end}}"}}
      records: data
      pagination: {{style: page, param: page, size_param: per_page, size: {page}}}
    partitioning: {{granularity: daily, start: 2024-01-01, end: 2024-02-01}}
    key: [id]
    schema_contract: {contract}
    nested: {nested}
    columns: {columns}
"""
# under evolve the objects' columns are inferred and grow; `attributes` takes any shape
EVOLVING = "{id: int64, time_hour: string, attributes: json}"
FROZEN = (
    "{id: int64, time_hour: string, attributes: json,"
    ' user: "struct<name: string, tags: list<string>, address: struct<city: string, zip: string>>",'
    ' items: "list<struct<sku: string, qty: int64, price: float64, gift: bool>>"}'
)
FLATTEN = "{mode: flatten, max_depth: 1}"


def order(day: int, n: int) -> dict[str, Any]:
    """The n-th order of a January day: every shape an API sends, varied by n; `user.email`
    exists from the 2nd on, `user.coupon` has a value from the 3rd on."""
    number = day * 100 + n
    record: dict[str, Any] = {"id": number, "time_hour": f"2024-01-{day:02}T{8 + n:02}:00:00Z"}
    user: dict[str, Any] | None = {"name": f"user {number}", "tags": [f"t{n}", "vip"]}
    if n == 1:
        user = {**user, "tags": []}
    if n in (0, 1):
        user = {**user, "address": {"city": "Paris", "zip": f"7500{n}"}}
    if n == 2:
        user = {**user, "address": {"city": "Lyon"}}  # no zip
    if n == 3:
        user = None
    if user is not None and day >= 2 and n in (0, 2):
        user["email"] = f"u{number}@example.com"
    if user is not None:  # null in every record of the first two days
        user["coupon"] = f"C{number}" if day >= 3 and n == 0 else None
    record["user"] = user
    items = {
        0: [
            {"sku": "A", "qty": 1, "price": 9.5},
            {"sku": "B", "qty": 2, "price": 1.25, "gift": True},
        ],
        1: [],
        3: None,
        4: [{"sku": "C", "qty": 3, "price": None}],
    }
    if n in items:  # n == 2 has no items key
        record["items"] = items[n]
    attributes = {0: {"color": "red", "sizes": [1, 2]}, 1: [1, "two", None], 2: 42, 3: "plain"}
    if n in attributes:
        record["attributes"] = attributes[n]
    return record


@pytest.fixture
def orders_api() -> Iterator[tuple[WeatherApi, str]]:
    """The sample API's server and paging, serving the orders instead of the weather."""
    api = WeatherApi()
    api.records = [order(day, n) for day in range(1, 32) for n in range(PER_DAY)]
    with served(api) as url:
        yield api, url


def catalog(env: dict[str, str], url: str, tmp_path: Path, **values: str) -> dict[str, str]:
    path = tmp_path / "nested.yaml"
    path.write_text(CATALOG.format(page=PAGE, **values))
    return {**env, "PLATFORM_CATALOG": str(path), "ORDERS_API_URL": url}


def without_nulls(value: Any) -> Any:
    """A struct has every field, so a key a record lacks reads back null: the two are alike."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def document(value: Any) -> Any:
    """A JSON or SUPER value as the driver returns it (its text), parsed; SQL NULL is None."""
    return None if value is None else json.loads(value)


def kept(record: dict[str, Any]) -> tuple:
    user, items = record.get("user"), record.get("items")
    return (record["id"], without_nulls(user), without_nulls(items), record.get("attributes"))


def flat(record: dict[str, Any]) -> tuple:
    user = record.get("user") or {}
    return (
        record["id"],
        user.get("name"),
        without_nulls(user.get("tags")),
        without_nulls(user.get("address")),
        user.get("email"),
        user.get("coupon"),
        without_nulls(record.get("items")),
        record.get("attributes"),
    )


KEPT_SQL = 'SELECT id, "user", items, attributes FROM "{schema}".orders ORDER BY id'
FLAT_SQL = (
    "SELECT id, user__name, user__tags, user__address, user__email, user__coupon, items,"
    " attributes"
    ' FROM "{schema}".orders ORDER BY id'
)


def read_back(env: dict[str, str], nested: str) -> list[tuple]:
    """The warehouse's rows, their JSON documents parsed."""
    if nested == "keep":
        rows = warehouse_query(load_settings(env), KEPT_SQL)
        return [
            (i, *(without_nulls(document(v)) for v in rest[:2]), document(rest[2]))
            for i, *rest in rows
        ]
    rows = warehouse_query(load_settings(env), FLAT_SQL)
    return [
        (
            i,
            name,
            *(without_nulls(document(v)) for v in (tags, address)),
            email,
            coupon,
            without_nulls(document(items)),
            document(attributes),
        )
        for i, name, tags, address, email, coupon, items, attributes in rows
    ]


@pytest.mark.parametrize("nested", ["keep", FLATTEN], ids=["keep", "flatten"])
def test_a_month_of_nested_records_reads_back_from_the_warehouse_as_the_api_sent_it(
    either_env, tmp_path, run_main, orders_api, nested, request
):
    api, url = orders_api
    env = catalog(either_env, url, tmp_path, contract="evolve", nested=nested, columns=EVOLVING)
    result = run_main("push", "--source", "orders", *JANUARY, env=env)
    assert result.returncode == 0, result.stderr
    assert "check raw/schema_matches: passed" in result.stdout
    for day, key in ((2, "email"), (3, "coupon")):  # each where it first has a value
        grown = f"new field(s) user.{key}" if nested == "keep" else f"new column(s) user__{key}"
        start, end = f"2024-01-{day:02}", f"2024-01-{day + 1:02}"
        assert f"{grown} from {url}/observations?start={start}&end={end}&page=1" in result.stderr
    expected = [(kept if nested == "keep" else flat)(record) for record in api.records]
    rows = read_back(env, nested)
    assert len(rows) == len(api.records) == 31 * PER_DAY
    assert rows == expected
    again = run_main("push", "--source", "orders", "--partition", "2024-01-02", env=env)
    assert again.returncode == 0, again.stderr
    assert read_back(env, nested) == expected
    if either_env["PLATFORM_ENV"] == "aws":  # SUPER came through the statements Redshift takes
        sent = request.getfixturevalue("redshift").statements
        schema = either_env["PLATFORM_REDSHIFT_SCHEMA"]
        assert any("FORMAT AS PARQUET SERIALIZETOJSON MANIFEST" in sql for sql in sent)
        assert any(
            f'"{schema}"."orders"' in sql and 'JSON_PARSE("attributes")' in sql for sql in sent
        )
    stored = load_settings(env).lake.stored_schema("orders")
    SUMMARY_LINES.append(
        f"nested {either_env['PLATFORM_ENV']} {nested}: {len(rows)} rows equal to the API's,"
        f" lake columns {', '.join(stored.names)}"
    )


def test_under_freeze_a_key_appearing_inside_an_object_is_drift_and_its_day_publishes_nothing(
    either_env, tmp_path, run_main, orders_api
):
    api, url = orders_api
    env = catalog(either_env, url, tmp_path, contract="freeze", nested="keep", columns=FROZEN)
    first = run_main("push", "--source", "orders", "--partition", "2024-01-01", env=env)
    assert first.returncode == 0, first.stderr
    second = run_main("push", "--source", "orders", "--partition", "2024-01-02", env=env)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        f"main.py: failed: source orders partition 2024-01-02: {url}/observations"
        f"?start=2024-01-02&end=2024-01-03&page=1&per_page={PAGE}: upstream added field(s)"
        " user.email, which the frozen schema does not have (schema_contract: evolve would add"
        " them)"
    )
    settings = load_settings(env)
    source = settings.catalog.source("orders")
    january = source.periods("2024-01-01", "2024-01-02")
    assert [m is not None for m in settings.lake.manifests(Layer.RAW, "orders", january)] == [
        True,
        False,
    ]
    day_one = [kept(record) for record in api.records if record["time_hour"] < "2024-01-02"]
    assert read_back(env, "keep") == day_one


JSONL_CATALOG = """
sources:
  - name: orders
    read: {kind: files, path: "orders/{dt:%Y-%m-%d}.jsonl", format: jsonl}
    partitioning: {granularity: daily, start: 2024-01-01, end: 2024-02-01}
    key: [id]
    schema_contract: evolve
    nested: {mode: flatten, max_depth: 1}
    columns: {id: int64, time_hour: string}
"""


def test_json_lines_files_flattened_push_day_after_day_and_again(tmp_path, run_main):
    """Once the lake's schema is flattened, the next file is still read as upstream shapes it:
    the lake's `user__*` columns are not the file's, so they do not type its reading."""
    home, days = tmp_path / "orders-home", range(1, 6)
    records = [order(day, n) for day in days for n in range(PER_DAY)]
    for day in days:
        lines = (
            json.dumps({k: v for k, v in record.items() if k != "attributes"})
            for record in records
            if record["time_hour"].startswith(f"2024-01-{day:02}")
        )
        path = home / "orders" / f"2024-01-{day:02}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    (tmp_path / "jsonl.yaml").write_text(JSONL_CATALOG)
    env = {
        "PLATFORM_ENV": "local",
        "PLATFORM_HOME": str(home),
        "PLATFORM_CATALOG": str(tmp_path / "jsonl.yaml"),
    }
    sql = FLAT_SQL.replace(", attributes", "")
    expected = [flat(record)[:-1] for record in records]
    for first, last in (("2024-01-01", "2024-01-05"), ("2024-01-02", "2024-01-02")):
        result = run_main("push", "--source", "orders", "--partition", first, "--to", last, env=env)
        assert result.returncode == 0, result.stderr
        rows = warehouse_query(load_settings(env), sql)
        assert [
            (i, name, *(without_nulls(document(v)) for v in (tags, address)), email, coupon,
             without_nulls(document(items)))
            for i, name, tags, address, email, coupon, items in rows
        ] == expected  # fmt: skip
