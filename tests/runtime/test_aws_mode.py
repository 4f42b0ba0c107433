"""main.py and Dagster in aws mode: the lake on a moto S3 server, Redshift as PostgreSQL."""

import datetime as dt

import dagster as dg
import pytest

from platform_assets.layers import Layer
from platform_assets.orchestration.exports import export_asset
from platform_assets.orchestration.runner import PIPES_CLIENT
from platform_assets.settings import PROJECT_DIRECTORY, load_settings
from testkit.main_process import backfill_flights

YEAR = ("2013-01-01", "2013-12-31")


def test_the_year_backfills_through_dagster_in_aws_mode_and_again_unchanged(
    aws_env, tmp_path, flights_per_day, redshift
):
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    settings = load_settings(aws_env)
    sent = len(redshift.statements)
    for attempt in (1, 2):
        result = backfill_flights(aws_env, dagster_home, *YEAR)
        assert result.returncode == 0, result.stderr[-3000:]
        loaded = settings.warehouse.partition_rows(
            "flights", dt.date(2013, 1, 1), dt.date(2014, 1, 1)
        )
        assert loaded == flights_per_day
        assert sum(loaded.values()) == 336_776
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            assert len(instance.get_runs()) == attempt
            checks = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey(["warehouse", "flights"]), "rows_match_lake"), limit=1
            )
            assert checks[0].status.value == "SUCCEEDED"
    statements = redshift.statements[sent:]
    stages = [sql for sql in statements if sql.startswith("CREATE TEMP TABLE ")]
    assert len(stages) == 2  # one load per backfill of 365 days
    copies = [sql for sql in statements if sql.startswith("COPY ")]
    assert len(copies) == 2 * 365  # the files hold no dt: one COPY per partition of each load
    manifest = settings.lake.manifest(
        Layer.RAW, "flights", settings.catalog.source("flights").period("2013-07-04")
    )
    assert manifest.urls[0].startswith(
        aws_env["PLATFORM_LAKE_URI"] + "/raw/flights/dt=2013-07-04/part-"
    )


def export_rows(settings, name: str, first: str, last: str) -> list[dict]:
    export = settings.catalog.export(name)
    rows = []
    for manifest in settings.lake.manifests(Layer.EXPORTS, name, export.periods(first, last)):
        rows += settings.lake.read(manifest).to_pylist()
    return sorted(rows, key=lambda row: (row["dt"], row["carrier"], row["origin"]))


def materialize_export(settings, first: str, last: str) -> dg.ExecuteInProcessResult:
    """The export asset, run by Dagster (main.py pull through Pipes) over a range in one run."""
    export = settings.catalog.export("carrier_daily_delays")
    job = dg.Definitions(
        assets=[export_asset(export, settings)],
        jobs=[dg.define_asset_job("export", selection=[export_asset(export, settings).key])],
        resources={PIPES_CLIENT: dg.PipesSubprocessClient(cwd=str(PROJECT_DIRECTORY))},
    ).resolve_job_def("export")
    return job.execute_in_process(
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        raise_on_error=False,
    )


def test_the_export_asset_gives_identical_rows_locally_and_in_aws_mode(aws_env, run_main, home):
    local_env = {"PLATFORM_ENV": "local", "PLATFORM_HOME": str(home)}
    for env in (local_env, aws_env):
        pushed = run_main(
            "push",
            "--source",
            "flights",
            "--partition",
            "2013-01-01",
            "--to",
            "2013-01-31",
            env=env,
        )
        assert pushed.returncode == 0, pushed.stderr
        result = materialize_export(load_settings(env), "2013-01-01", "2013-01-31")
        assert result.success
        events = result.get_asset_materialization_events()
        assert len(events) == 31  # one per partition of the range, from one run
        counts = [event.materialization.metadata["dagster/row_count"].value for event in events]
        assert sum(counts) == 975  # each partition its own rows
    local = export_rows(
        load_settings(local_env), "carrier_daily_delays", "2013-01-01", "2013-01-31"
    )
    remote = export_rows(load_settings(aws_env), "carrier_daily_delays", "2013-01-01", "2013-01-31")
    assert len(local) == 975
    assert remote == local
    assert sum(row["departures"] for row in local) == 27_004
    assert {row["dt"] for row in local} == {dt.date(2013, 1, d) for d in range(1, 32)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    table: flights\n", '    table: "flights; drop table users"\n'),
            "key 'table': String should match pattern",
        ),
        (("    table: flights\n", "    table: fli ghts\n"), "key 'table': String should match"),
        (("    key: [carrier,", '    key: ["carrier\\"",'), 'key column(s) carrier" not among'),
        (("      carrier: string\n", '      "carrier\'s": string\n'), "must be lower-case"),
    ],
)
def test_a_hostile_identifier_in_the_catalog_is_refused_before_any_sql(
    aws_env, run_main, redshift, tmp_path, change, message
):
    seed = load_settings({}).catalog_path.read_text()
    old, new = change
    assert old in seed
    catalog = tmp_path / "hostile.yaml"
    catalog.write_text(seed.replace(old, new))
    sent = len(redshift.statements)
    result = run_main(
        "push",
        "--source",
        "flights",
        "--partition",
        "2013-01-01",
        env={**aws_env, "PLATFORM_CATALOG": str(catalog)},
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert redshift.statements[sent:] == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"PLATFORM_REDSHIFT_SCHEMA": 'analytics"; drop'}, "is not a valid SQL identifier"),
        ({"PLATFORM_LAKE_URI": ""}, "PLATFORM_ENV=aws needs PLATFORM_LAKE_URI"),
        ({"PLATFORM_LAKE_URI": "lake-bucket/x"}, "is not an s3://bucket/prefix URI"),
        ({"PLATFORM_REDSHIFT_IAM_ROLE": "admin"}, "is not an IAM role ARN"),
        (
            {"PLATFORM_REDSHIFT_SECRET_ARN": "", "PLATFORM_REDSHIFT_PASSWORD": ""},
            "needs PLATFORM_REDSHIFT_SECRET_ARN",
        ),
    ],
)
def test_bad_aws_settings_exit_2_with_one_line_and_no_sql(
    aws_env, run_main, redshift, override, message
):
    sent = len(redshift.statements)
    result = run_main(
        "push", "--source", "flights", "--partition", "2013-01-01", env={**aws_env, **override}
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert redshift.statements[sent:] == []


def test_a_wrong_secret_fails_with_one_line(aws_env, run_main):
    arn = aws_env["PLATFORM_REDSHIFT_SECRET_ARN"].replace("redshift-", "missing-")
    result = run_main(
        "push",
        "--source",
        "flights",
        "--partition",
        "2013-01-01",
        env={**aws_env, "PLATFORM_REDSHIFT_SECRET_ARN": arn},
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"main.py: failed: cannot read the Redshift password from {arn}")
    )
