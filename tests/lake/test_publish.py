import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_assets.lake import Area, Lake, PartitionWriter
from platform_assets.partitions import Granularity, period_at
from platform_assets.storage import LocalStore

DAY = period_at(Granularity.DAILY, dt.date(2024, 1, 2))
SCHEMA = pa.schema([("id", pa.int64()), ("at", pa.timestamp("s", tz="UTC"))])


def batch(ids: range) -> pa.RecordBatch:
    moment = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    return pa.RecordBatch.from_pydict({"id": list(ids), "at": [moment] * len(ids)}, schema=SCHEMA)


def publish(lake: Lake, ids: range, run_id: str) -> None:
    with lake.writer(Area.RAW, "orders", DAY, SCHEMA, run_id) as writer:
        writer.write(batch(ids))
        writer.commit()


def partition_files(tmp_path: Path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "raw/orders/dt=2024-01-02").iterdir())


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(LocalStore(str(tmp_path)))


def test_publish_writes_run_scoped_files_then_a_manifest_that_lists_them(lake, tmp_path):
    publish(lake, range(10), "run1")
    assert partition_files(tmp_path) == ["_manifest.json", "part-run1-00000.parquet"]
    manifest = lake.manifest(Area.RAW, "orders", DAY)
    assert manifest is not None
    assert manifest.record_count == 10
    assert manifest.urls == [f"file://{tmp_path}/raw/orders/dt=2024-01-02/part-run1-00000.parquet"]
    table = lake.read(manifest)
    assert table["dt"].to_pylist() == [DAY.start] * 10  # dt is a column, not only a path
    assert table.schema.field("at").type == pa.timestamp("ms", tz="UTC")
    metadata = pq.ParquetFile(tmp_path / "raw/orders/dt=2024-01-02/part-run1-00000.parquet")
    assert metadata.metadata.row_group(0).column(0).compression == "ZSTD"


def test_republishing_replaces_the_partition_and_removes_stale_files(lake, tmp_path):
    publish(lake, range(10), "run1")
    publish(lake, range(100, 105), "run2")
    assert partition_files(tmp_path) == ["_manifest.json", "part-run2-00000.parquet"]
    manifest = lake.manifest(Area.RAW, "orders", DAY)
    assert lake.read(manifest)["id"].to_pylist() == list(range(100, 105))


def test_a_failed_write_publishes_nothing_and_leaves_the_previous_version(lake, tmp_path):
    publish(lake, range(10), "run1")
    with (
        pytest.raises(RuntimeError),
        lake.writer(Area.RAW, "orders", DAY, SCHEMA, "run2") as writer,
    ):
        writer.write(batch(range(50)))
        raise RuntimeError("upstream broke mid-partition")
    assert partition_files(tmp_path) == ["_manifest.json", "part-run1-00000.parquet"]
    assert lake.read(lake.manifest(Area.RAW, "orders", DAY))["id"].to_pylist() == list(range(10))


def test_files_outside_the_manifest_are_never_read_and_go_at_the_next_publish(lake, tmp_path):
    publish(lake, range(10), "run1")
    directory = tmp_path / "raw/orders/dt=2024-01-02"
    # what a crash leaves: a finished file of a run that never wrote its manifest, a torn file
    pq.write_table(
        pa.Table.from_batches([batch(range(999, 1999))]), directory / "part-x-00000.parquet"
    )
    (directory / "part-y-00000.parquet").write_bytes(b"PAR1 torn")
    assert lake.read(lake.manifest(Area.RAW, "orders", DAY)).num_rows == 10
    publish(lake, range(3), "run3")
    assert partition_files(tmp_path) == ["_manifest.json", "part-run3-00000.parquet"]


def test_large_partitions_roll_over_into_several_files(tmp_path):
    store = LocalStore(str(tmp_path))
    directory = store.path("raw/orders/dt=2024-01-02")
    with PartitionWriter(store, directory, DAY, SCHEMA, "run1", file_rows=1000) as writer:
        for start in range(0, 3500, 700):
            writer.write(batch(range(start, start + 700)))
        manifest = writer.commit()
    assert [entry.record_count for entry in manifest.entries] == [1000, 1000, 1000, 500]
    assert Lake(store).read(manifest)["id"].to_pylist() == list(range(3500))


def test_an_empty_partition_still_has_one_file_with_the_schema(lake):
    with lake.writer(Area.RAW, "orders", DAY, SCHEMA, "run1") as writer:
        manifest = writer.commit()
    assert manifest.record_count == 0
    assert len(manifest.entries) == 1
    assert lake.file_schemas(manifest)[0].names == ["id", "at", "dt"]


def test_a_batch_in_another_schema_is_refused(lake):
    other = pa.RecordBatch.from_pydict({"id": ["not a number"], "at": [None]})
    with (
        pytest.raises(pa.ArrowInvalid),
        lake.writer(Area.RAW, "orders", DAY, SCHEMA, "run1") as writer,
    ):
        writer.write(other)
    assert lake.manifest(Area.RAW, "orders", DAY) is None


def test_a_frozen_schema_round_trips(lake):
    assert lake.frozen_schema("orders") is None
    lake.freeze_schema("orders", SCHEMA)
    assert lake.frozen_schema("orders") == SCHEMA
