"""The http_api kind against real HTTP servers on loopback: the weather API and a paging one."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
import pytest

from platform_assets.partitions import Period
from platform_assets.sources.http_api.reader import ApiError, read_api
from platform_assets.sources.http_api.spec import HttpApiRead
from samples.weather_api import WeatherApi
from testkit.upstreams import JsonHandler, Recorder, served, serving, serving_two_hosts

JANUARY_2ND = Period(dt.date(2013, 1, 2), dt.date(2013, 1, 3))
TOKEN = "test-token-not-a-secret"


def weather_spec(**changes: object) -> HttpApiRead:
    spec = {
        "kind": "http_api",
        "base_url_env": "WEATHER_API_URL",
        "path": "/observations",
        "params": {"start": "{start}", "end": "{end}"},
        "headers": {"Authorization": "Bearer {secret[token]}"},
        "secrets": {"token": {"env": "WEATHER_API_TOKEN"}},
        "records": "data",
        "pagination": {"style": "page", "param": "page", "size_param": "per_page", "size": 10},
        **changes,
    }
    return HttpApiRead.model_validate(spec)


@pytest.fixture  # one per test: faults a failed test left queued never reach the next
def weather() -> Iterator[tuple[WeatherApi, str]]:
    api = WeatherApi(token=TOKEN)
    with served(api) as url:
        yield api, url


def expected_rows(api: WeatherApi, period: Period) -> list[tuple[str, str]]:
    start, end = period.start.isoformat(), period.end.isoformat()
    return sorted(
        (r["origin"], r["time_hour"]) for r in api.records if start <= r["time_hour"][:10] < end
    )


def as_table(batches: list[pa.RecordBatch]) -> pa.Table:
    """Pages as one table (a page whose values are all null has a null-typed column)."""
    tables = [pa.Table.from_batches([batch.replace_schema_metadata(None)]) for batch in batches]
    return pa.concat_tables(tables, promote_options="permissive")


def rows_read(spec: HttpApiRead, period: Period, url: str) -> list[tuple[str, str]]:
    table = as_table(list(read_api(spec, period, url, {"token": TOKEN})))
    return sorted(zip(table["origin"].to_pylist(), table["time_hour"].to_pylist(), strict=True))


def test_pages_hold_exactly_the_days_records(weather):
    api, url = weather
    before = api.requests
    rows = rows_read(weather_spec(), JANUARY_2ND, url)
    assert rows == expected_rows(api, JANUARY_2ND)
    assert len(rows) == 72  # 3 airports x 24 hours
    assert api.requests - before == 8  # pages of 10: 7 full, then one of 2


def test_429_500_503_and_a_dropped_connection_are_retried_to_the_same_rows(weather):
    api, url = weather
    api.fail_next("429", "500", "drop", "503")
    started = time.monotonic()
    rows = rows_read(weather_spec(), JANUARY_2ND, url)
    assert rows == expected_rows(api, JANUARY_2ND)
    assert time.monotonic() - started >= 3  # Retry-After: 1 was honoured three times


def test_a_401_fails_at_once_without_retrying(weather):
    api, url = weather
    before = api.requests
    spec = weather_spec()
    with pytest.raises(ApiError, match=r"/observations\?.*: HTTP 401 Unauthorized$"):
        list(read_api(spec, JANUARY_2ND, url, {"token": "wrong"}))
    assert api.requests - before == 1


def test_a_page_that_is_not_json_fails_naming_what_came_instead(weather):
    api, url = weather
    api.fail_next("html")
    with pytest.raises(ApiError, match=r"not JSON \(text/html\): '<html><body>Please sign in"):
        rows_read(weather_spec(), JANUARY_2ND, url)


def test_retries_stop_at_max_seconds(weather):
    api, url = weather
    api.fail_next("503", "503")  # the second Retry-After: 1 would end past 1.5 s
    started = time.monotonic()
    with pytest.raises(ApiError, match=r"a retry 1s away would pass max_seconds \(1.5s\)"):
        rows_read(weather_spec(max_seconds=1.5), JANUARY_2ND, url)
    assert time.monotonic() - started < 1.5


def test_the_rate_limit_spaces_requests(weather):
    _, url = weather
    started = time.monotonic()
    rows_read(weather_spec(rate_limit_per_second=10), JANUARY_2ND, url)
    assert time.monotonic() - started >= 0.7  # 8 requests, at least 0.1 s apart


ITEMS = [{"id": number, "day": f"2024-03-{1 + number % 3:02d}"} for number in range(25)]


class PagingApi(JsonHandler):
    """25 items, 10 a page: /cursor names the next page in the body, /link in a Link header."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        first = int(query.get("after", query.get("from", "0")))
        page = ITEMS[first : first + 10]
        following = first + 10 if first + 10 < len(ITEMS) else None
        headers = {}
        if url.path == "/cursor":
            body: dict[str, object] = {"result": {"items": page}, "meta": {"next": following}}
        else:
            body = {"items": page}
            if following is not None:
                following_url = f"http://{self.headers['Host']}/link?from={following}"
                headers["Link"] = f'<{following_url}>; rel="next"'
        self.answer(200, body, headers)


@pytest.fixture(scope="module")
def paging() -> Iterator[str]:
    with serving(PagingApi) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "records", "pagination"),
    [
        (
            "/cursor",
            "result.items",
            {"style": "cursor", "param": "after", "next_path": "meta.next"},
        ),
        ("/link", "items", {"style": "link"}),
    ],
)
def test_cursor_and_link_pagination_reach_every_page(paging, path, records, pagination):
    spec = HttpApiRead.model_validate(
        {
            "kind": "http_api",
            "base_url_env": "PAGING_URL",
            "path": path,
            "records": records,
            "pagination": pagination,
            "date_column": "day",
        }
    )
    march_2nd = Period(dt.date(2024, 3, 2), dt.date(2024, 3, 3))
    batches = list(read_api(spec, march_2nd, paging, {}))
    assert len(batches) == 3
    ids = as_table(batches)["id"].to_pylist()
    assert ids == [item["id"] for item in ITEMS if item["day"] == "2024-03-02"]


def test_records_that_are_not_where_the_catalog_says_fail_naming_the_path(paging):
    spec = HttpApiRead.model_validate(
        {"kind": "http_api", "base_url_env": "PAGING_URL", "path": "/link", "records": "data"}
    )
    with pytest.raises(ApiError, match=r"/link: no 'data' in the response"):
        list(read_api(spec, JANUARY_2ND, paging, {}))


def test_a_field_of_many_shapes_fails_naming_it_unless_declared_json(weather):
    api, url = weather
    shapes = [{"a": [1, None]}, "text", 3, None, [{"b": True}]]
    api.records = [
        {"origin": "EWR", "time_hour": f"2013-01-02T0{hour}:00:00Z", "extra": shape}
        for hour, shape in enumerate(shapes)
    ]
    spec, secrets = weather_spec(), {"token": TOKEN}
    with pytest.raises(ApiError) as raised:
        list(read_api(spec, JANUARY_2ND, url, secrets))
    assert str(raised.value).startswith(
        f"{url}/observations?start=2013-01-02&end=2013-01-03&page=1&per_page=10:"
        " field extra has values of more than one shape ("
    )
    assert str(raised.value).endswith("); declare it json to keep it as a document")
    schema = pa.schema([("origin", pa.string()), ("extra", pa.json_())])
    (batch,) = read_api(spec, JANUARY_2ND, url, secrets, schema)
    assert batch.column("extra").type == pa.json_()
    texts = batch.column("extra").storage.to_pylist()
    assert [None if text is None else json.loads(text) for text in texts] == shapes


@pytest.fixture
def two_hosts() -> Iterator[tuple[str, str]]:
    with serving_two_hosts() as hosts:
        yield hosts


def credentialed(path: str, **pagination: object) -> HttpApiRead:
    return HttpApiRead.model_validate(
        {
            "kind": "http_api",
            "base_url_env": "FIRST_URL",
            "path": path,
            "params": {"to": "{secret[other]}"},
            "headers": {"Authorization": "Bearer {secret[token]}", "X-Api-Key": "{secret[key]}"},
            "secrets": {name: {"env": name.upper()} for name in ("token", "key", "other")},
            "records": "items",
            "pagination": pagination,
        }
    )


def test_a_next_page_link_to_another_host_fails_and_sends_it_nothing(two_hosts):
    first, second = two_hosts
    spec = credentialed("/link", style="link")
    secrets = {"token": TOKEN, "key": "key-not-a-secret", "other": second}
    with pytest.raises(ApiError) as failure:
        list(read_api(spec, JANUARY_2ND, first, secrets))
    port = second.rsplit(":", 1)[1]
    assert f"the next page's link leaves http://127.0.0.1:{first.rsplit(':', 1)[1]} for" in str(
        failure.value
    )
    assert f"http://127.0.0.1:{port}, a host the catalog does not allow" in str(failure.value)
    assert Recorder.seen == [], "the second host was asked nothing"


def test_a_host_the_catalog_allows_gets_the_next_page_request(two_hosts):
    first, second = two_hosts
    port = second.rsplit(":", 1)[1]
    spec = credentialed("/link", style="link", follow_hosts=[f"127.0.0.1:{port}"])
    secrets = {"token": TOKEN, "key": "key-not-a-secret", "other": second}
    batches = list(read_api(spec, JANUARY_2ND, first, secrets))
    assert sum(batch.num_rows for batch in batches) == 1
    assert [seen["Authorization"] for seen in Recorder.seen] == [f"Bearer {TOKEN}"]


def test_a_redirect_to_another_host_arrives_without_the_catalogs_headers(two_hosts):
    first, second = two_hosts
    spec = credentialed("/moved")
    secrets = {"token": TOKEN, "key": "key-not-a-secret", "other": second}
    list(read_api(spec, JANUARY_2ND, first, secrets))
    [seen] = Recorder.seen
    assert "Authorization" not in seen and "X-Api-Key" not in seen, seen


def test_follow_hosts_is_only_for_link_pagination():
    with pytest.raises(ValueError, match="follow_hosts is for link pagination"):
        credentialed("/p", style="page", param="page", follow_hosts=["api.example.com"])
