"""`dagster dev` serves the code location: both assets, partitions and checks, over GraphQL."""

from pathlib import Path

from testkit.dagster_dev import dagster_dev, graphql

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


def test_dagster_dev_serves_both_assets_with_partitions_and_checks(tmp_path: Path):
    with dagster_dev(tmp_path, {"PLATFORM_HOME": str(tmp_path)}) as port:
        nodes = graphql(port, QUERY)["assetNodes"]

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
