"""`dagster dev` serves the code location: both assets, partitions and checks, over GraphQL."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from platform_assets.settings import PROJECT_DIRECTORY
from testkit.main_process import DAGSTER

QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    partitionDefinition { type description }
    partitionKeys
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def test_dagster_dev_serves_both_assets_with_partitions_and_checks(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "PLATFORM_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [
            DAGSTER,
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_DIRECTORY,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so that all of it can be stopped
    )
    try:
        deadline = time.monotonic() + 120
        nodes = None
        while nodes is None:
            assert server.poll() is None, "dagster dev exited"
            assert time.monotonic() < deadline, "dagster dev did not serve the assets in 120 s"
            try:
                nodes = graphql(port, QUERY)["assetNodes"] or None
            except OSError:
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)

    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    raw, warehouse = by_key["raw/flights"], by_key["warehouse/flights"]
    for node in (raw, warehouse):
        assert node["groupName"] == "flights"
        assert node["partitionDefinition"]["type"] == "TIME_WINDOW"
        assert node["partitionKeys"][0] == "2013-01-01"
        assert node["partitionKeys"][-1] == "2013-12-31"
        assert len(node["partitionKeys"]) == 365
    assert raw["dependencyKeys"] == [{"path": ["upstream", "flights"]}]  # lineage from the source
    assert warehouse["dependencyKeys"] == [{"path": ["raw", "flights"]}]
    export = by_key["exports/carrier_daily_delays"]
    assert export["dependencyKeys"] == [{"path": ["warehouse", "flights"]}]
    assert len(export["partitionKeys"]) == 365
    assert sorted(check["name"] for check in raw["assetChecksOrError"]["checks"]) == [
        "run_succeeded",
        "schema_matches",
    ]
    assert sorted(check["name"] for check in warehouse["assetChecksOrError"]["checks"]) == [
        "freshness_check",
        "rows_match_lake",
        "run_succeeded",
        "unique_key",
    ]
