"""Run reports: combining the chunks of a range, their JSON form, and how they print."""

import datetime as dt
import json

import pytest

from platform_assets.catalog import Severity
from platform_assets.checks import CheckOutcome, check_named, combine_outcomes
from platform_assets.lake import Manifest
from platform_assets.lake.manifest import ManifestEntry
from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, Period, period_at, periods_between
from platform_assets.runtime.protocol import report_from_json, report_to_json
from platform_assets.runtime.report import Materialization, PartitionResult, RunReport, combine

SCHEMA_MATCHES = check_named("raw/schema_matches")
ROWS_MATCH_LAKE = check_named("warehouse/rows_match_lake")
UNIQUE_KEY = check_named("warehouse/unique_key")
RAW_URL = "s3://lake/raw/flights/"


def days(first: str, last: str) -> list[Period]:
    return periods_between(
        Granularity.DAILY, dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    )


def partitions(periods: list[Period], rows: int = 10) -> tuple[PartitionResult, ...]:
    return tuple(PartitionResult(period.key, rows, rows * 100, 1) for period in periods)


def chunk(
    first: str,
    last: str,
    *,
    seconds: float = 1.0,
    fingerprint: str = "abc123abc123",
    mismatches: list[str] | None = None,
    duplicates: int = 0,
    run_id: str = "run-1",
) -> RunReport:
    """One chunk of a push and load of flights, as a Batch job of a fanned-out range reports."""
    periods = days(first, last)
    mismatches = mismatches or []
    return RunReport(
        command="push",
        name="flights",
        periods=periods,
        materializations=[
            Materialization(Layer.RAW, RAW_URL, partitions(periods), fingerprint, seconds * 0.6),
            Materialization(
                Layer.WAREHOUSE, "flights", partitions(periods), fingerprint, seconds * 0.4
            ),
        ],
        checks=[
            CheckOutcome(
                SCHEMA_MATCHES,
                {
                    "expected_fingerprint": fingerprint,
                    "files_checked": len(periods),
                    "problem_count": 0,
                    "problems": [],
                },
            ),
            CheckOutcome(
                ROWS_MATCH_LAKE,
                {
                    "partitions_compared": len(periods),
                    "warehouse_rows": 10 * len(periods),
                    "lake_rows": 10 * len(periods),
                    "mismatched_partitions": len(mismatches),
                    "mismatches": mismatches,
                },
            ),
            CheckOutcome(UNIQUE_KEY, {"key": "carrier, flight", "duplicate_keys": duplicates}),
        ],
        seconds=seconds,
        run_id=run_id,
    )


# combine


def test_combined_partitions_are_joined_in_order_whatever_order_the_chunks_came_in():
    combined = combine(
        [
            chunk("2013-01-04", "2013-01-06", run_id="run-b"),
            chunk("2013-01-01", "2013-01-03", run_id="run-a"),
        ]
    )
    assert combined.periods == days("2013-01-01", "2013-01-06")
    assert [item.layer for item in combined.materializations] == [Layer.RAW, Layer.WAREHOUSE]
    raw = combined.materializations[0]
    assert [partition.key for partition in raw.partitions] == [
        period.key for period in days("2013-01-01", "2013-01-06")
    ]
    assert raw.location == RAW_URL
    assert (raw.rows, raw.bytes, raw.files) == (60, 6000, 6)
    assert (combined.command, combined.name, combined.run_id) == ("push", "flights", "run-b")


def test_combined_seconds_are_the_longest_chunks_not_the_sum():
    combined = combine(
        [chunk("2013-01-01", "2013-01-02", seconds=3.0), chunk("2013-01-03", "2013-01-04")]
    )
    assert combined.seconds == 3.0
    assert [item.seconds for item in combined.materializations] == pytest.approx([1.8, 1.2])


def without_schema_check(report: RunReport) -> RunReport:
    """The chunk as it reports when Dagster selected no raw/schema_matches check."""
    report.checks = [outcome for outcome in report.checks if outcome.check is not SCHEMA_MATCHES]
    return report


def test_combined_fingerprints_are_each_distinct_one_sorted():
    same = combine([chunk("2013-01-01", "2013-01-01"), chunk("2013-01-02", "2013-01-02")])
    assert same.materializations[0].schema_fingerprint == "abc123abc123"
    evolved = combine(
        [
            without_schema_check(chunk("2013-01-01", "2013-01-01", fingerprint="ffff00000000")),
            without_schema_check(chunk("2013-01-02", "2013-01-02", fingerprint="0000ffff0000")),
            without_schema_check(chunk("2013-01-03", "2013-01-03", fingerprint="ffff00000000")),
        ],
    )
    assert [item.schema_fingerprint for item in evolved.materializations] == [
        "0000ffff0000,ffff00000000",
        "0000ffff0000,ffff00000000",
    ]


def test_chunks_that_wrote_different_schemas_combine_with_their_schema_check():
    combined = combine(
        [
            chunk("2013-01-01", "2013-01-01", fingerprint="ffff00000000"),
            chunk("2013-01-02", "2013-01-02", fingerprint="0000ffff0000"),
        ]
    )
    assert combined.materializations[0].schema_fingerprint == "0000ffff0000,ffff00000000"


def test_a_layer_only_some_chunks_materialized_is_still_combined():
    load_only = chunk("2013-01-03", "2013-01-04")
    load_only.materializations = load_only.materializations[1:]
    combined = combine([load_only, chunk("2013-01-01", "2013-01-02")])
    assert [item.layer for item in combined.materializations] == [Layer.WAREHOUSE, Layer.RAW]
    assert len(combined.materializations[0].partitions) == 4
    assert len(combined.materializations[1].partitions) == 2


def test_combined_checks_add_their_counts_and_judge_the_whole_range():
    combined = combine(
        [
            chunk("2013-01-01", "2013-01-02", duplicates=2),
            chunk("2013-01-03", "2013-01-05", duplicates=3),
        ]
    )
    assert [outcome.check for outcome in combined.checks] == [
        SCHEMA_MATCHES,
        ROWS_MATCH_LAKE,
        UNIQUE_KEY,
    ]
    schema, rows, unique = combined.checks
    assert schema.metadata["files_checked"] == 5
    assert rows.metadata == {
        "partitions_compared": 5,
        "warehouse_rows": 50,
        "lake_rows": 50,
        "mismatched_partitions": 0,
        "mismatches": [],
    }
    assert rows.passed
    assert rows.summary == "50 rows in 5 partitions"
    assert unique.metadata == {"key": "carrier, flight", "duplicate_keys": 5}
    assert not unique.passed
    assert unique.summary == "5 (carrier, flight) values repeat within a partition"
    assert not combined.passed


def test_combined_problem_lists_keep_the_first_twenty_in_order():
    first = [f"2013-01-{day:02d}: warehouse 0, lake 10" for day in range(1, 16)]
    second = [f"2013-02-{day:02d}: warehouse 0, lake 10" for day in range(1, 11)]
    combined = combine(
        [
            chunk("2013-01-01", "2013-01-31", mismatches=first),
            chunk("2013-02-01", "2013-02-28", mismatches=second),
        ]
    )
    rows = combined.checks[1]
    assert rows.metadata["mismatched_partitions"] == 25
    assert rows.metadata["mismatches"] == [*first, *second[:5]]
    assert rows.summary == "2013-01-01: warehouse 0, lake 10"


def test_combine_outcomes_keeps_equal_values_that_are_not_counts():
    outcome = combine_outcomes(
        [
            CheckOutcome(UNIQUE_KEY, {"key": "k", "duplicate_keys": 1, "sampled": True, "f": 0.5}),
            CheckOutcome(UNIQUE_KEY, {"key": "k", "duplicate_keys": 1, "sampled": True, "f": 0.5}),
        ]
    )
    # True + True would be 2: a bool is not a count
    assert outcome.metadata == {"key": "k", "duplicate_keys": 2, "sampled": True, "f": 0.5}
    assert outcome.check is UNIQUE_KEY


def test_combine_outcomes_keeps_keys_only_some_chunks_have():
    outcome = combine_outcomes(
        [
            CheckOutcome(UNIQUE_KEY, {"key": "k", "duplicate_keys": 1}),
            CheckOutcome(UNIQUE_KEY, {"key": "k", "duplicate_keys": 1, "note": "late"}),
        ]
    )
    assert outcome.metadata == {"key": "k", "duplicate_keys": 2, "note": "late"}


@pytest.mark.parametrize(
    ("first", "second", "key"),
    [
        ({"key": "carrier"}, {"key": "carrier, flight"}, "key"),
        ({"expected_fingerprint": "aaa"}, {"expected_fingerprint": "bbb"}, "expected_fingerprint"),
        ({"sampled": True}, {"sampled": False}, "sampled"),
        ({"ratio": 0.5}, {"ratio": 0.25}, "ratio"),
    ],
    ids=["string", "fingerprint", "bool", "float"],
)
def test_a_value_that_is_not_a_count_and_differs_between_chunks_is_an_error(first, second, key):
    with pytest.raises(ValueError) as raised:
        combine_outcomes([CheckOutcome(UNIQUE_KEY, first), CheckOutcome(UNIQUE_KEY, second)])
    assert str(raised.value) == f"check unique_key: {key} differs between chunks"


def test_combining_one_report_gives_the_same_report():
    report = chunk("2013-01-01", "2013-01-03", duplicates=1)
    assert combine([report]) == report


# the report as JSON


def test_a_report_survives_json_unchanged():
    report = combine(
        [
            chunk("2013-01-01", "2013-01-02", mismatches=["2013-01-02: warehouse 0, lake 10"]),
            chunk("2013-01-03", "2013-01-03", seconds=2.5, duplicates=4),
        ]
    )
    data = json.loads(json.dumps(report_to_json(report)))
    again = report_from_json(data)
    assert again == report
    assert [outcome.check for outcome in again.checks] == [
        SCHEMA_MATCHES,
        ROWS_MATCH_LAKE,
        UNIQUE_KEY,
    ]
    assert [outcome.verdict for outcome in again.checks] == [
        outcome.verdict for outcome in report.checks
    ]


def test_the_report_json_is_plain_lists_and_dicts():
    report = RunReport(
        command="pull",
        name="carrier_daily_delays",
        periods=[period_at(Granularity.MONTHLY, dt.date(2013, 2, 1))],
        materializations=[
            Materialization(
                Layer.EXPORTS,
                "s3://lake/exports/carrier_daily_delays/",
                (PartitionResult("2013-02-01", 7, 700, 2),),
                "0123456789ab",
                0.5,
            )
        ],
        checks=[],
        seconds=1.25,
        run_id="run-7",
    )
    assert report_to_json(report) == {
        "command": "pull",
        "name": "carrier_daily_delays",
        "run_id": "run-7",
        "seconds": 1.25,
        "periods": [["2013-02-01", "2013-03-01"]],
        "materializations": [
            {
                "layer": "exports",
                "location": "s3://lake/exports/carrier_daily_delays/",
                "schema_fingerprint": "0123456789ab",
                "seconds": 0.5,
                "partitions": [["2013-02-01", 7, 700, 2]],
            }
        ],
        "checks": [],
    }


def test_a_report_without_a_run_id_reads_as_an_empty_one():
    data = report_to_json(chunk("2013-01-01", "2013-01-01"))
    del data["run_id"]
    assert report_from_json(data).run_id == ""


def test_a_report_naming_an_unknown_check_is_refused():
    data = report_to_json(chunk("2013-01-01", "2013-01-01"))
    data["checks"][0]["name"] = "no_such_check"
    with pytest.raises(KeyError, match="no check 'raw/no_such_check'"):
        report_from_json(data)


# how a report prints


def test_a_partition_result_counts_what_the_manifest_lists():
    manifest = Manifest(
        (
            ManifestEntry("s3://lake/a.parquet", 1000, 7),
            ManifestEntry("s3://lake/b.parquet", 24, 3),
        ),
        dt.date(2013, 1, 2),
    )
    result = PartitionResult.published(period_at(Granularity.DAILY, dt.date(2013, 1, 2)), manifest)
    assert result == PartitionResult("2013-01-02", 10, 1024, 2)


def test_report_lines_for_a_range():
    report = chunk("2013-01-01", "2013-01-31", seconds=12.345, duplicates=1234)
    report.materializations[0] = Materialization(
        Layer.RAW, RAW_URL, partitions(report.periods, rows=40_000), "abc123abc123", 1.0
    )
    assert report.lines() == [
        "push flights 2013-01-01..2013-01-31 (31 partitions): done in 12.35s",
        "  raw         1,240,000 rows    31 files   124,000,000 bytes  schema abc123abc123"
        "  s3://lake/raw/flights/",
        "  warehouse         310 rows    31 files        31,000 bytes  schema abc123abc123"
        "  flights",
        "  check raw/schema_matches: passed (31 files match abc123abc123)",
        "  check warehouse/rows_match_lake: passed (310 rows in 31 partitions)",
        "  check warehouse/unique_key: FAILED (1,234 (carrier, flight) values repeat within a"
        " partition)",
    ]


def test_report_lines_for_one_partition_name_it_alone():
    report = RunReport("load", "flights", days("2013-03-01", "2013-03-01"), seconds=0.5)
    assert report.lines() == ["load flights 2013-03-01: done in 0.50s"]
    assert report.passed  # no checks: nothing failed


def warned(report: RunReport) -> RunReport:
    """The report as a source whose catalog sets `unique_key: warn` has it."""
    report.checks = [
        CheckOutcome(outcome.check, outcome.metadata, Severity.WARN)
        if outcome.check is UNIQUE_KEY
        else outcome
        for outcome in report.checks
    ]
    return report


def test_a_checks_severity_survives_json_and_combining_and_older_reports_read_as_error():
    report = combine(
        [warned(chunk("2013-01-01", "2013-01-01")), warned(chunk("2013-01-02", "2013-01-02"))]
    )
    again = report_from_json(json.loads(json.dumps(report_to_json(report))))
    assert [outcome.severity for outcome in again.checks] == [
        Severity.ERROR,
        Severity.ERROR,
        Severity.WARN,
    ]
    data = report_to_json(report)
    for check in data["checks"]:
        del check["severity"]
    assert {outcome.severity for outcome in report_from_json(data).checks} == {Severity.ERROR}


def test_a_failed_warning_prints_as_one_and_does_not_fail_the_run():
    report = warned(chunk("2013-01-01", "2013-01-01", duplicates=3))
    assert report.lines()[-1] == (
        "  check warehouse/unique_key: failed, severity warn (3 (carrier, flight) values repeat"
        " within a partition)"
    )
    assert [outcome.fails_run for outcome in report.checks] == [False, False, False]
    assert not report.passed
