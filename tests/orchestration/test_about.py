"""What the assets say about themselves, the upstreams lineage starts at, exports that refresh
when their sources load, and the sources' freshness checks, as Dagster evaluates them."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.utils import is_valid_owner
from dagster._core.errors import DagsterInvalidDefinitionError
from dagster._core.test_utils import freeze_time
from dagster._utils.tags import normalize_tags

from platform_assets.catalog import load_catalog
from platform_assets.catalog.schedule import Schedule
from platform_assets.definitions import defs, freshness, settings
from platform_assets.layers import Layer
from platform_assets.orchestration.about import columns, lake_location
from testkit.catalogs import catalog_error, edited_seed_catalog

UPSTREAM, RAW = dg.AssetKey(["upstream", "flights"]), dg.AssetKey(["raw", "flights"])
WAREHOUSE = dg.AssetKey(["warehouse", "flights"])
EXPORT = dg.AssetKey(["exports", "carrier_daily_delays"])
FRESHNESS = dg.AssetCheckKey(WAREHOUSE, "freshness_check")


def _spec(key: dg.AssetKey) -> dg.AssetSpec:
    return defs.resolve_asset_graph().assets_def_for_key(key).specs_by_key[key]


def test_raw_and_warehouse_list_the_catalogs_columns_and_say_where_they_are():
    raw, warehouse, export = _spec(RAW), _spec(WAREHOUSE), _spec(EXPORT)
    for spec in (raw, warehouse):
        schema = spec.metadata["dagster/column_schema"]
        typed = {column.name: column.type for column in schema.columns}
        assert list(typed)[:3] == ["year", "month", "day"]
        assert typed["time_hour"] == "timestamp[s, tz=UTC]"
        assert typed["dt"] == "date32"
        assert len(typed) == 20
    assert warehouse.metadata["dagster/table_name"] == "main.flights"
    assert raw.description.startswith("Raw parquet in the lake: ")
    assert warehouse.description.startswith("Warehouse table main.flights")
    assert (raw.kinds, warehouse.kinds) == ({"parquet"}, {"duckdb"})
    for spec, folder in ((raw, "raw/flights/"), (export, "exports/carrier_daily_delays/")):
        lake = settings.lake.store.root
        assert spec.metadata["dagster/uri"] == f"file://{lake}/{folder}"
        assert spec.metadata["lake"] == dg.MetadataValue.path(f"{lake}/{folder}")
    assert "dagster/column_schema" not in export.metadata  # an export declares no columns


def test_owners_tags_and_the_catalog_line_come_from_the_catalog():
    raw, export = _spec(RAW), _spec(EXPORT)
    assert (raw.owners, raw.tags.get("domain")) == (["team:data"], "flights")
    assert (export.owners, export.tags.get("domain")) == (["team:analytics"], "flights")
    lines = settings.catalog_path.read_text().splitlines()
    for spec, declared in ((raw, "- name: flights"), (export, "- name: carrier_daily_delays")):
        catalog, code = spec.metadata["dagster/code_references"].code_references
        assert catalog.file_path == str(settings.catalog_path)
        assert lines[catalog.line_number - 1].strip() == declared
        assert code.file_path.endswith(".py")  # the Python that runs it


def test_nested_columns_keep_the_type_names_the_catalog_writes(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    edited_seed_catalog(
        path,
        "      carrier: string\n      name: string\n",
        '      carrier: string\n      name: "struct<full: string, aliases: list<string>>"\n'
        "      extra: json\n",
    )
    source = load_catalog(path).source("airlines")
    schema = columns(source, Layer.WAREHOUSE)["dagster/column_schema"]
    assert [(column.name, column.type) for column in schema.columns] == [
        ("carrier", "string"),
        ("name", "struct<full: string, aliases: list<string>>"),
        ("extra", "json"),
        ("dt", "date32"),
    ]


@pytest.mark.parametrize(
    ("owner", "valid"),
    [("team:data", True), ("alice@example.com", True), ("team:", False), ("alice", False)],
)
def test_the_catalog_takes_the_owners_dagster_takes(tmp_path: Path, owner: str, valid: bool):
    assert is_valid_owner(owner) is valid
    path = tmp_path / "catalog.yaml"
    edited_seed_catalog(
        path,
        "owners: [team:data]\n    tags: {domain: flights}",
        f"owners: [{owner!r}]\n    tags: {{domain: flights}}",
    )
    if valid:
        assert load_catalog(path).source("flights").owners == (owner,)
    else:
        assert "source 'flights': key 'owners.0': owner" in catalog_error(path)


@pytest.mark.parametrize(
    ("key", "value", "valid"),
    [
        ("domain", "flights", True),
        ("team/area", "ops-1.2", True),
        ("domain", "two words", False),
        ("bad key", "x", False),
        ("a/b/c", "x", False),
    ],
)
def test_the_catalog_takes_the_tags_dagster_takes(
    tmp_path: Path, key: str, value: str, valid: bool
):
    try:
        normalize_tags({key: value}, strict=True, allow_private_system_tags=False)
        assert valid
    except DagsterInvalidDefinitionError:
        assert not valid
    path = tmp_path / "catalog.yaml"
    edited_seed_catalog(path, "tags: {domain: weather}", f"tags: {{{key!r}: {value!r}}}")
    if valid:
        assert load_catalog(path).source("weather").tags == {key: value}
    else:
        assert "source 'weather': key 'tags': tag" in catalog_error(path)


def test_each_upstream_is_an_external_asset_naming_no_secret():
    graph = defs.resolve_asset_graph()
    assert graph.get(RAW).parent_keys == {UPSTREAM}
    for name in ("flights", "weather", "airlines"):
        node = graph.get(dg.AssetKey(["upstream", name]))
        assert not node.is_executable
        assert node.group_name == name
    flights, weather, airlines = (
        _spec(dg.AssetKey(["upstream", name])) for name in ("flights", "weather", "airlines")
    )
    assert flights.kinds == {"csv", "file"}
    assert "landing/flights/{dt:%Y}" in flights.description
    assert flights.metadata["landing"] == dg.MetadataValue.path(
        settings.landing.path("landing/flights/")
    )
    assert weather.kinds == {"api"}
    assert "$WEATHER_API_URL/observations" in weather.description
    assert airlines.kinds == {"sql"}
    assert "$CLIENT_DATABASE_URL" in airlines.description
    for spec in (weather, airlines):
        assert "token" not in str(spec).lower() and "sqlite" not in str(spec)


def test_an_export_partition_is_requested_once_its_sources_partition_loads():
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.total_requested == 0
        instance.report_runless_asset_event(
            dg.AssetMaterialization(WAREHOUSE, partition="2013-01-05")
        )
        loaded = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=first.cursor
        )
        assert loaded.get_requested_partitions(EXPORT) == {"2013-01-05"}
        assert loaded.total_requested == 1
        again = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=loaded.cursor
        )
        assert again.total_requested == 0
    sensor = defs.resolve_sensor_def("exports_refresh")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def _freshness(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    warehouse = defs.resolve_asset_graph().assets_def_for_key(WAREHOUSE)
    result = dg.materialize(
        [warehouse, *freshness], instance=instance, selection=dg.AssetSelection.checks(FRESHNESS)
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_freshness_fails_once_the_schedules_tick_plus_grace_passes_without_the_partition():
    assert load_catalog(settings.catalog_path).source("flights").schedule.deadline_cron == (
        "0 7 * * *"  # the seed's 0 6 * * * and the default grace of 60 minutes
    )
    with dg.instance_for_test() as instance:
        with freeze_time(dt.datetime(2013, 3, 2, 7, 30, tzinfo=dt.UTC)):
            missing = _freshness(instance)
            instance.report_runless_asset_event(
                dg.AssetMaterialization(WAREHOUSE, partition="2013-03-01")
            )
            loaded = _freshness(instance)
        with freeze_time(dt.datetime(2013, 3, 3, 6, 59, tzinfo=dt.UTC)):  # within the grace
            within_grace = _freshness(instance)
    assert not missing.passed and "2013-03-01" in str(missing.description)
    assert loaded.passed
    assert within_grace.passed
    assert defs.resolve_sensor_def("freshness_checks").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )


def test_a_grace_that_no_cron_can_say_is_the_catalogs_error(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    edited_seed_catalog(
        path,
        '      cron: "30 6 * * *"\n      grace_minutes: 90  # the API is slow to publish a day\n',
        '      cron: "0 23 2 * *"\n      grace_minutes: 120\n',
    )
    assert catalog_error(path).endswith(
        "source 'weather': key 'schedule': grace moves the cron past midnight,"
        " which a day of the month cannot"
    )


@pytest.mark.parametrize(
    ("cron", "deadline"),
    [
        ("0 */6 * * *", "0 1,7,13,19 * * *"),
        ("30 23 * * 1", "30 0 * * 2"),
        ("0 6 * * 1-5", "0 7 * * 1-5"),
        ("*/15 * * * *", None),  # no grace can move it: no freshness check, the catalog still loads
        ("30 23 1 * *", None),
    ],
)
def test_the_default_grace_moves_what_it_can_and_refuses_no_catalog(cron, deadline):
    assert Schedule(cron=cron).deadline_cron == deadline


def test_on_s3_the_lake_link_opens_the_consoles_page_of_the_prefix(aws_settings):
    link = lake_location(aws_settings, Layer.RAW, "flights")["lake"]
    bucket, _, prefix = aws_settings.lake.store.path_of_url(
        aws_settings.lake.dataset_url(Layer.RAW, "flights")
    ).partition("/")
    assert link == dg.MetadataValue.url(
        f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?prefix="
        + prefix.rstrip("/").replace("/", "%2F")
        + "%2F"
    )
