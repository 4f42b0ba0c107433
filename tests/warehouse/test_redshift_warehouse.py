"""The Redshift warehouse against PostgreSQL reached through redshift_connector itself.

Every statement it sends is captured by the stand-in and must parse as Redshift SQL.
"""

import datetime as dt

import pyarrow as pa
import pytest

from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Lake, Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, Period, periods_between
from platform_assets.schemas import lake_schema
from platform_assets.settings import Settings
from platform_assets.warehouse.redshift import RedshiftWarehouse
from platform_assets.warehouse.sql import literal
from testkit.redshift_standin import assert_valid_redshift

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("amount", pa.decimal128(10, 2)),
        ("at", pa.timestamp("s", tz="UTC")),
    ]
)
DAYS = periods_between(Granularity.DAILY, dt.date(2024, 1, 1), dt.date(2024, 1, 5))


def publish(lake: Lake, period: Period, ids: list[int], run_id: str = "r1") -> Manifest:
    rows = {
        "id": ids,
        "name": [f"n{i}" for i in ids],
        "amount": [None] * len(ids),
        "at": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * len(ids),
    }
    with lake.writer(Layer.RAW, "orders", period, SCHEMA, run_id) as writer:
        writer.write(pa.RecordBatch.from_pydict(rows, SCHEMA))
        return writer.commit()


def load(settings: Settings, manifests: list[Manifest], periods: list[Period]) -> int:
    return settings.warehouse.load(
        "orders", lake_schema(SCHEMA), manifests, periods[0].start, periods[-1].end
    )


def table_contents(settings: Settings) -> list[tuple]:
    schema = settings.warehouse.schema_name
    connection = settings.warehouse.connect()
    cursor = connection.cursor()
    cursor.execute(f'SELECT id, name, dt FROM "{schema}"."orders" ORDER BY dt, id')
    rows = [tuple(row) for row in cursor.fetchall()]
    connection.close()
    return rows


def test_a_range_loads_with_one_copy_per_partition_and_reloads_without_duplicates(
    aws_settings, redshift
):
    lake = aws_settings.lake
    manifests = [publish(lake, period, [i * 10, i * 10 + 1]) for i, period in enumerate(DAYS)]
    sent = len(redshift.statements)
    assert load(aws_settings, manifests, DAYS) == 10
    statements = redshift.statements[sent:]
    # the files hold no dt (it is their folder's): one COPY per partition, then its day set on
    # the rows it staged (one UPDATE statement, parsed once, run with each day)
    copies = [number for number, sql in enumerate(statements) if sql.startswith("COPY ")]
    assert len(copies) == len(DAYS)
    stage = statements[copies[0]].split()[1]
    assert statements[copies[0] + 1] == f'UPDATE {stage} SET "dt" = $1 WHERE "dt" IS NULL'
    assert load(aws_settings, manifests, DAYS) == 10
    rows = aws_settings.warehouse.partition_rows("orders", DAYS[0].start, DAYS[-1].end)
    assert rows == {period.start: 2 for period in DAYS}
    assert aws_settings.warehouse.duplicate_keys("orders", ["id"], DAYS[0].start, DAYS[-1].end) == 0
    assert_valid_redshift(redshift.statements[sent:])
    create = next(sql for sql in statements if sql.startswith("CREATE TABLE"))
    assert 'SORTKEY ("dt")' in create
    assert '"amount" DECIMAL(10, 2)' in create
    assert '"at" TIMESTAMPTZ' in create
    assert '"dt" DATE' in create
    # the range manifest was staging only
    assert not [p for p in lake.store.list_files(lake.store.path("_staging"), True)]


def test_a_failure_between_delete_and_insert_leaves_the_table_exactly_as_it_was(
    aws_settings, redshift
):
    lake = aws_settings.lake
    load(aws_settings, [publish(lake, period, [1, 2, 3]) for period in DAYS], DAYS)
    before = table_contents(aws_settings)
    schema = aws_settings.warehouse.schema_name
    redshift.fail_statement(rf'^INSERT INTO "{schema}"\."orders"', "insert failed")
    sent = len(redshift.statements)
    manifests = [publish(lake, period, [7], "r2") for period in DAYS]
    with pytest.raises(RunError, match="division by zero"):
        load(aws_settings, manifests, DAYS)
    statements = redshift.statements[sent:]
    kinds = [sql.split()[0].upper() for sql in statements]
    assert kinds.index("DELETE") < kinds.index("INSERT")  # the failure came after the DELETE
    assert "rollback" in [sql.lower() for sql in statements]
    assert table_contents(aws_settings) == before
    assert len(before) == 15


def test_a_table_with_other_columns_is_refused(aws_settings):
    schema = aws_settings.warehouse.schema_name
    connection = aws_settings.warehouse.connect()
    connection.cursor().execute(f'CREATE TABLE "{schema}"."orders" (id INTEGER, dt DATE)')
    connection.commit()
    connection.close()
    with pytest.raises(
        RunError, match=r"does not match the lake: id integer \(the lake's files: bigint\)"
    ):
        load(aws_settings, [publish(aws_settings.lake, DAYS[0], [1])], DAYS[:1])


@pytest.mark.parametrize(
    "hostile", ['orders"; DROP TABLE x; --', "orders; drop", "order s", "o'rders"]
)
def test_hostile_identifiers_are_refused_before_any_sql(aws_settings, redshift, hostile):
    sent = len(redshift.statements)
    with pytest.raises(ConfigurationError, match="is not a valid SQL identifier"):
        aws_settings.warehouse.partition_rows(hostile, DAYS[0].start, DAYS[0].end)
    with pytest.raises(ConfigurationError, match="is not a valid SQL identifier"):
        RedshiftWarehouse(lambda: None, hostile, "arn", aws_settings.lake.store)
    assert redshift.statements[sent:] == []


def test_export_unloads_the_range_once_and_each_partition_is_published(aws_settings, redshift):
    lake = aws_settings.lake
    load(aws_settings, [publish(lake, p, [1, 2, 3 + i]) for i, p in enumerate(DAYS)], DAYS)
    staging = lake.staging_directory(Layer.EXPORTS, "totals", "run9")
    sent = len(redshift.statements)
    aws_settings.warehouse.export(
        "SELECT dt, count(*) AS n, sum(id) AS ids FROM orders GROUP BY dt",
        DAYS[1].start,
        DAYS[3].end,
        lake.store.url(staging),
    )
    unloads = [sql for sql in redshift.statements[sent:] if sql.startswith("UNLOAD")]
    assert len(unloads) == 1
    assert_valid_redshift(redshift.statements[sent:])
    staged = lake.staged_files(staging)
    assert sorted(staged) == [period.start for period in DAYS[1:4]]
    manifest = lake.publish_staged(Layer.EXPORTS, "totals", DAYS[2], staged[DAYS[2].start], "run9")
    assert lake.read(manifest).to_pylist() == [{"dt": DAYS[2].start, "n": 3, "ids": 8}]


def test_literals_double_quotes_and_for_redshift_backslashes():
    text = "it's C:\\new"  # a quote, a backslash
    assert literal(text) == "'it''s C:\\new'"  # standard SQL (DuckDB): backslashes as they are
    assert literal(text, backslash_escapes=True) == "'it''s C:\\\\new'"


def test_an_export_query_with_quotes_and_backslashes_reaches_unload_exactly(aws_settings, redshift):
    """UNLOAD takes its query as a string literal, in which Redshift reads a backslash as an
    escape: undoubled, `\\J` would arrive as `J`."""
    lake = aws_settings.lake
    load(aws_settings, [publish(lake, DAYS[0], [1, 2])], DAYS[:1])
    staging = lake.staging_directory(Layer.EXPORTS, "labels", "run7")
    sent = len(redshift.statements)
    query = "SELECT dt, count(*) AS n, 'O''Hare\\JFK' AS label FROM orders GROUP BY dt"
    aws_settings.warehouse.export(query, DAYS[0].start, DAYS[0].end, lake.store.url(staging))
    [unload] = [sql for sql in redshift.statements[sent:] if sql.startswith("UNLOAD")]
    assert "''O''''Hare\\\\JFK''" in unload  # in UNLOAD's literal: all doubled
    assert_valid_redshift(redshift.statements[sent:])
    staged = lake.staged_files(staging)
    manifest = lake.publish_staged(Layer.EXPORTS, "labels", DAYS[0], staged[DAYS[0].start], "run7")
    assert lake.read(manifest).to_pylist() == [
        {"dt": DAYS[0].start, "n": 2, "label": "O'Hare\\JFK"}
    ]
