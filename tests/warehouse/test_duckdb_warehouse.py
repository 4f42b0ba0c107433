import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from platform_assets.errors import ConfigurationError, RunError
from platform_assets.lake import Lake, Manifest
from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, Period, periods_between
from platform_assets.schemas import lake_schema
from platform_assets.storage import LocalStore
from platform_assets.warehouse.duckdb import TYPES, DuckDBWarehouse

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])
JANUARY = periods_between(Granularity.DAILY, dt.date(2024, 1, 1), dt.date(2024, 1, 5))


def publish(lake: Lake, period: Period, ids: list[int], run_id: str = "r1") -> Manifest:
    with lake.writer(Layer.RAW, "orders", period, SCHEMA, run_id) as writer:
        writer.write(pa.RecordBatch.from_pydict({"id": ids, "name": ["x"] * len(ids)}, SCHEMA))
        return writer.commit()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(LocalStore(str(tmp_path / "lake")))


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb")


def load(warehouse: DuckDBWarehouse, manifests: list[Manifest], periods: list[Period]) -> int:
    return warehouse.load(
        "orders", lake_schema(SCHEMA), manifests, periods[0].start, periods[-1].end
    )


def test_a_range_loads_in_one_go_and_reloading_it_changes_nothing(lake, warehouse):
    manifests = [
        publish(lake, period, [i * 10 + 1, i * 10 + 2]) for i, period in enumerate(JANUARY)
    ]
    assert load(warehouse, manifests, JANUARY) == 10
    assert load(warehouse, manifests, JANUARY) == 10
    per_day = warehouse.partition_rows("orders", JANUARY[0].start, JANUARY[-1].end)
    assert per_day == {period.start: 2 for period in JANUARY}
    with duckdb.connect(str(warehouse.path), read_only=True) as connection:
        columns = connection.execute("DESCRIBE orders").fetchall()
    assert [(name, kind) for name, kind, *_ in columns] == [
        ("id", "BIGINT"),
        ("name", "VARCHAR"),
        ("dt", "DATE"),
    ]


def test_loading_one_partition_leaves_the_others_alone(lake, warehouse):
    manifests = [publish(lake, period, [1, 2, 3]) for period in JANUARY]
    load(warehouse, manifests, JANUARY)
    third = JANUARY[2]
    load(warehouse, [publish(lake, third, [7], "r2")], [third])
    per_day = warehouse.partition_rows("orders", JANUARY[0].start, JANUARY[-1].end)
    assert per_day == {period.start: 1 if period == third else 3 for period in JANUARY}


def test_a_failed_load_rolls_back_to_what_was_there(lake, warehouse, tmp_path):
    manifests = [publish(lake, period, [1, 2]) for period in JANUARY]
    load(warehouse, manifests, JANUARY)
    broken = publish(lake, JANUARY[0], [5, 6, 7], "r2")
    Path(lake.file_paths(broken)[0]).unlink()
    with pytest.raises(RunError, match=r"No files found|does not exist|No such file"):
        load(warehouse, [broken, *manifests[1:]], JANUARY)
    per_day = warehouse.partition_rows("orders", JANUARY[0].start, JANUARY[-1].end)
    assert per_day == {period.start: 2 for period in JANUARY}


def test_a_manifest_whose_counts_disagree_with_its_files_is_refused(lake, warehouse):
    manifest = publish(lake, JANUARY[0], [1, 2])
    entry = manifest.entries[0]
    lying = Manifest((type(entry)(entry.url, entry.content_length, 5),), manifest.day)
    with pytest.raises(RunError, match="loaded 2 rows but the manifests list 5"):
        load(warehouse, [lying], JANUARY[:1])
    assert warehouse.partition_rows("orders", JANUARY[0].start, JANUARY[0].end) == {}


def test_a_table_with_other_columns_is_an_error_not_a_silent_mix(lake, warehouse):
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, dt DATE)")
    with pytest.raises(
        RunError,
        match=r"table orders does not match the lake: id INTEGER \(the lake's files: BIGINT\)",
    ):
        load(warehouse, [publish(lake, JANUARY[0], [1])], JANUARY[:1])


def test_duplicate_keys_are_counted(lake, warehouse):
    manifests = [publish(lake, JANUARY[0], [1, 1, 2, 3, 3, 3])]
    load(warehouse, manifests, JANUARY[:1])
    assert warehouse.duplicate_keys("orders", ["id"], JANUARY[0].start, JANUARY[0].end) == 2
    assert warehouse.duplicate_keys("orders", ["id", "dt"], JANUARY[1].start, JANUARY[1].end) == 0


def test_identifiers_are_validated_before_any_sql(warehouse):
    with pytest.raises(ConfigurationError, match="not a valid SQL identifier"):
        warehouse.partition_rows('orders"; DROP TABLE x; --', JANUARY[0].start, JANUARY[0].end)


def test_a_load_waits_for_another_process_holding_the_file(lake, warehouse):
    manifests = [publish(lake, JANUARY[0], [1])]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(1.5)",
            str(warehouse.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    assert load(warehouse, manifests, JANUARY[:1]) == 1
    assert time.monotonic() - started > 0.2  # it did wait for the other process
    assert holder.wait(timeout=30) == 0


def hold(path: Path, *options: str) -> subprocess.Popen:
    """Another process with the file open (read_only=True among `options`) until told to stop."""
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]"
        + "".join(f", {o}" for o in options)
        + "); print('held', flush=True); sys.stdin.readline()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_load_that_waits_too_long_names_who_holds_the_lock_and_the_setting(
    lake, tmp_path, caplog
):
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_wait_seconds=0.5)
    manifests = [publish(lake, JANUARY[0], [1])]
    holder = hold(warehouse.path)
    try:
        with pytest.raises(RunError) as failure:
            load(warehouse, manifests, JANUARY[:1])
    finally:
        holder.communicate("stop\n", timeout=30)
    message = str(failure.value)
    assert message.startswith(
        f"warehouse {warehouse.path}: still locked by process {holder.pid} ({sys.executable} -c"
    ), message
    assert message.endswith("after 0.5 s (PLATFORM_DUCKDB_LOCK_WAIT_SECONDS sets the wait)")
    [warning] = [
        record.getMessage() for record in caplog.records if "is locked" in record.getMessage()
    ]
    assert f"is locked by process {holder.pid}" in warning and "waiting up to 0.5 s" in warning


def test_status_and_checks_read_beside_another_reader_and_before_any_load(lake, tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", lock_wait_seconds=0.5)
    first, last = JANUARY[0].start, JANUARY[-1].end
    assert warehouse.partition_rows("orders", first, last) == {}
    assert not warehouse.path.exists(), "reading made no file"
    load(warehouse, [publish(lake, JANUARY[0], [1, 1])], JANUARY[:1])
    reader = hold(warehouse.path, "read_only=True")
    try:
        # a read-write open would fail on the reader's lock; the reads open read-only
        assert warehouse.partition_rows("orders", first, last) == {JANUARY[0].start: 2}
        assert warehouse.duplicate_keys("orders", ["id"], first, last) == 1
        with pytest.raises(RunError, match="still locked by process"):
            load(warehouse, [publish(lake, JANUARY[0], [1])], JANUARY[:1])
    finally:
        reader.communicate("stop\n", timeout=30)


def test_an_export_reaches_no_file_but_its_destination(lake, warehouse, tmp_path):
    load(warehouse, [publish(lake, JANUARY[0], [1])], JANUARY[:1])
    destination = f"file://{tmp_path}/staging/run"
    reading = "SELECT content, dt FROM read_text('/etc/hostname'), orders"
    with pytest.raises(RunError, match="file system operations are disabled"):
        warehouse.export(reading, JANUARY[0].start, JANUARY[0].end, destination)
    warehouse.export("SELECT id, dt FROM orders", JANUARY[0].start, JANUARY[0].end, destination)
    assert [path.name for path in (tmp_path / "staging" / "run").iterdir()] == ["dt=2024-01-01"]


@pytest.mark.parametrize(
    "data_type",
    [
        *(pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(), pa.bool_()),
        *(pa.string(), pa.date32(), pa.decimal128(12, 2), pa.decimal128(38, 10), pa.json_()),
        *(pa.timestamp(unit, tz) for unit in ("s", "ms", "us", "ns") for tz in (None, "UTC")),
    ],
    ids=str,
)
def test_table_types_are_the_ones_duckdb_gives_arrow_columns(data_type):
    """Tables are created from these names; DuckDB's own reading of an Arrow column is the truth."""
    with duckdb.connect() as connection:
        connection.register("arrow", pa.schema([("c", data_type)]).empty_table())
        (described,) = connection.execute("DESCRIBE SELECT * FROM arrow").fetchall()
    assert TYPES.of(data_type) == described[1]
