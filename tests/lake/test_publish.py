"""The publish protocol, on a local folder and on S3 (a moto server) alike."""

import datetime as dt
import io
import json
import posixpath
import uuid
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_assets.errors import RunError
from platform_assets.lake import Lake, PartitionWriter
from platform_assets.layers import Layer
from platform_assets.partitions import Granularity, Period, period_at
from platform_assets.storage import LocalStore, S3Store, Store

DAY = period_at(Granularity.DAILY, dt.date(2024, 1, 2))
SCHEMA = pa.schema([("id", pa.int64()), ("at", pa.timestamp("s", tz="UTC"))])


def batch(ids: range) -> pa.RecordBatch:
    moment = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    return pa.RecordBatch.from_pydict({"id": list(ids), "at": [moment] * len(ids)}, schema=SCHEMA)


def publish(lake: Lake, ids: range, run_id: str, day: Period = DAY) -> None:
    """As a push does it: the partition's files and manifest, then what it no longer lists goes."""
    with lake.writer(Layer.RAW, "orders", day, SCHEMA, run_id) as writer:
        writer.write(batch(ids))
        writer.commit()
    lake.remove_stale(Layer.RAW, "orders", [day])


def partition_files(lake: Lake, day: Period = DAY) -> list[str]:
    directory = lake.partition_directory(Layer.RAW, "orders", day)
    return [posixpath.basename(path) for path in lake.store.list_files(directory)]


def parquet_bytes(ids: range) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_batches([batch(ids)]), sink)
    return sink.getvalue()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path) -> Store:
    if request.param == "local":
        return LocalStore(str(tmp_path))
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    return S3Store(f"s3://{bucket}/lake", "us-east-1", endpoint, client)


@pytest.fixture
def lake(store: Store) -> Lake:
    return Lake(store)


def test_publish_writes_run_scoped_files_then_a_manifest_that_lists_them(lake, store):
    publish(lake, range(10), "run1")
    assert partition_files(lake) == ["part-run1-00000.parquet"]
    manifest = lake.manifest(Layer.RAW, "orders", DAY)
    assert manifest is not None
    assert manifest.record_count == 10
    data_file = store.path("raw/orders/dt=2024-01-02/part-run1-00000.parquet")
    assert manifest.urls == [store.url(data_file)]
    assert manifest.entries[0].content_length == store.size(data_file)
    # the manifest lives apart from the data, naming its files relative to the lake's root
    manifest_file = store.path("_platform/raw/orders/manifests/dt=2024-01-02.json")
    assert json.loads(store.read_bytes(manifest_file)) == {
        "dt": "2024-01-02",
        "files": [
            {
                "path": "raw/orders/dt=2024-01-02/part-run1-00000.parquet",
                "content_length": store.size(data_file),
                "record_count": 10,
            }
        ],
    }
    table = lake.read(manifest)
    assert table["dt"].to_pylist() == [DAY.start] * 10  # dt is a column, from the folder
    assert table.schema.names == ["id", "at", "dt"]
    assert table.schema.field("dt").type == pa.date32()
    assert table.schema.field("at").type == pa.timestamp("ms", tz="UTC")
    metadata = pq.read_metadata(data_file, filesystem=store.fs)
    assert metadata.schema.names == ["id", "at"]  # the file itself holds no dt
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_republishing_replaces_the_partition_and_removes_stale_files(lake):
    publish(lake, range(10), "run1")
    publish(lake, range(100, 105), "run2")
    assert partition_files(lake) == ["part-run2-00000.parquet"]
    manifest = lake.manifest(Layer.RAW, "orders", DAY)
    assert lake.read(manifest)["id"].to_pylist() == list(range(100, 105))


def test_a_failed_write_publishes_nothing_and_leaves_the_previous_version(lake):
    publish(lake, range(10), "run1")
    with (
        pytest.raises(RuntimeError),
        lake.writer(Layer.RAW, "orders", DAY, SCHEMA, "run2") as writer,
    ):
        writer.write(batch(range(50)))
        raise RuntimeError("upstream broke mid-partition")
    assert partition_files(lake) == ["part-run1-00000.parquet"]
    manifest = lake.manifest(Layer.RAW, "orders", DAY)
    assert lake.read(manifest)["id"].to_pylist() == list(range(10))


def test_files_outside_the_manifest_are_never_read_and_go_at_the_next_publish(lake, store):
    publish(lake, range(10), "run1")
    directory = lake.partition_directory(Layer.RAW, "orders", DAY)
    # what a crash between the steps leaves: files of a run that never wrote its manifest (or
    # of one whose manifest replaced theirs before the old files were deleted), and a torn file
    store.put(posixpath.join(directory, "part-x-00000.parquet"), parquet_bytes(range(999, 1999)))
    store.put(posixpath.join(directory, "part-y-00000.parquet"), b"PAR1 torn")
    assert lake.read(lake.manifest(Layer.RAW, "orders", DAY)).num_rows == 10
    publish(lake, range(3), "run3")
    assert partition_files(lake) == ["part-run3-00000.parquet"]
    assert lake.read(lake.manifest(Layer.RAW, "orders", DAY))["id"].to_pylist() == [0, 1, 2]


def test_stale_files_of_a_range_go_in_one_listing_and_nothing_outside_it_is_touched(store):
    days = [period_at(Granularity.DAILY, dt.date(2024, 1, day)) for day in (9, 10, 11, 12)]
    writer_lake = Lake(store)
    for day in days:
        publish(writer_lake, range(5), "run1", day)
    outside = posixpath.join(writer_lake.partition_directory(Layer.RAW, "orders", days[3]), "x")
    store.put(outside, b"another run's business")
    lake = Lake(store)  # a new process: it prunes only what it published itself
    assert lake.remove_stale(Layer.RAW, "orders", days[:3]) == 0
    for day in days[:3]:
        with lake.writer(Layer.RAW, "orders", day, SCHEMA, "run2") as writer:
            writer.write(batch(range(7)))
            writer.commit()
        assert len(partition_files(lake, day)) == 2  # the old file stays until the range ends
    assert lake.remove_stale(Layer.RAW, "orders", days[:3]) == 3
    for day in days[:3]:
        assert partition_files(lake, day) == ["part-run2-00000.parquet"]
        assert Lake(store).read(Lake(store).manifest(Layer.RAW, "orders", day)).num_rows == 7
    assert sorted(partition_files(lake, days[3])) == ["part-run1-00000.parquet", "x"]
    assert lake.manifest(Layer.RAW, "orders", days[3]) is not None


def test_large_partitions_roll_over_into_several_files(store):
    directory = store.path("raw/orders/dt=2024-01-02")
    manifest_path = store.path("_platform/raw/orders/manifests/dt=2024-01-02.json")
    with PartitionWriter(
        store, directory, manifest_path, DAY, SCHEMA, "run1", file_rows=1000
    ) as writer:
        for start in range(0, 3500, 700):
            writer.write(batch(range(start, start + 700)))
        manifest = writer.commit()
    assert [entry.record_count for entry in manifest.entries] == [1000, 1000, 1000, 500]
    assert Lake(store).read(manifest)["id"].to_pylist() == list(range(3500))


def test_an_empty_partition_still_has_one_file_with_the_schema(lake):
    with lake.writer(Layer.RAW, "orders", DAY, SCHEMA, "run1") as writer:
        manifest = writer.commit()
    assert manifest.record_count == 0
    assert len(manifest.entries) == 1
    assert lake.file_schemas(manifest.entries)[0].names == ["id", "at", "dt"]


def test_a_batch_in_another_schema_is_refused(lake):
    other = pa.RecordBatch.from_pydict({"id": ["not a number"], "at": [None]})
    with (
        pytest.raises(pa.ArrowInvalid),
        lake.writer(Layer.RAW, "orders", DAY, SCHEMA, "run1") as writer,
    ):
        writer.write(other)
    assert lake.manifest(Layer.RAW, "orders", DAY) is None


def test_a_stored_schema_round_trips(lake):
    assert lake.stored_schema("orders") is None
    lake.store_schema("orders", SCHEMA)
    assert lake.stored_schema("orders") == SCHEMA


def test_staged_files_are_published_into_their_partitions(lake, store):
    staging = lake.staging_directory(Layer.EXPORTS, "daily", "run7")
    assert staging == store.path("_platform/exports/daily/staging/run7")  # not in the table
    store.put(f"{staging}/dt=2024-01-02/0000_part_00.parquet", parquet_bytes(range(4)))
    store.put(f"{staging}/manifest", b"{}")  # what UNLOAD writes beside its files: not data
    staged = lake.staged_files(staging)
    assert list(staged) == [DAY.start]
    manifest = lake.publish_staged(Layer.EXPORTS, "daily", DAY, staged[DAY.start], "run7")
    assert manifest.record_count == 4
    assert manifest.urls == [
        store.url(store.path("exports/daily/dt=2024-01-02/part-run7-00000.parquet"))
    ]
    lake.clear(staging)
    assert store.list_files(staging, recursive=True) == []


@pytest.mark.parametrize("record", [b"{not json", b'["a list"]', b'{"id": "no such type"}'])
def test_an_unreadable_schema_record_is_one_line_naming_it_and_what_to_do(tmp_path, record):
    lake = Lake(LocalStore(str(tmp_path)))
    lake.store_schema("orders", pa.schema([pa.field("id", pa.int64())]))
    path = tmp_path / "_platform" / "raw" / "orders" / "schema.json"
    assert path.exists()
    path.write_bytes(record)
    with pytest.raises(RunError) as failure:
        lake.stored_schema("orders")
    message = str(failure.value)
    assert message.startswith(f"file://{path}: unreadable schema record (")
    assert message.endswith("delete it and the next push records the source's columns again")
    assert "\n" not in message


def test_the_schemas_of_files_this_process_wrote_are_known_without_reading_them(lake, store):
    """As its footer holds it (a second-unit timestamp reads back in milliseconds); another
    process reads the footer, and gets the same."""
    publish(lake, range(5), "run1")
    [manifest] = lake.manifests(Layer.RAW, "orders", [DAY])
    [entry] = manifest.entries
    assert entry.url in lake.written
    elsewhere = Lake(store)  # another process: nothing written
    assert lake.file_schemas([entry]) == elsewhere.file_schemas([entry])
    path = store.path_of_url(entry.url)
    store.put(path, parquet_bytes(range(3)).replace(b"at", b"zz"))  # changed behind its back
    assert lake.file_schemas([entry])[0].names == ["id", "at", "dt"]
    assert elsewhere.file_schemas([entry])[0].names != ["id", "at", "dt"]
