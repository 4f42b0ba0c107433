"""Stores: a local folder, and an S3 prefix on the moto server; map_in_order."""

import io
import threading
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_assets.errors import RunError
from platform_assets.storage import (
    LocalStore,
    S3Store,
    has_wildcards,
    map_concurrently,
    map_in_order,
    s3_root,
)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# LocalStore


@pytest.fixture
def local(tmp_path) -> LocalStore:
    return LocalStore(str(tmp_path / "root") + "/")


def test_a_local_path_is_relative_to_the_root_unless_absolute_or_a_url(local, tmp_path):
    root = str(tmp_path / "root")
    assert local.root == root
    assert local.path("raw/x.csv") == f"{root}/raw/x.csv"
    assert local.path("/elsewhere/x.csv") == "/elsewhere/x.csv"
    assert local.path(f"file://{root}/y.csv") == f"{root}/y.csv"
    assert local.url(f"{root}/y.csv") == f"file://{root}/y.csv"
    with pytest.raises(ValueError, match=r"^s3://bucket/x is not a file:// URL$"):
        local.path_of_url("s3://bucket/x")


def test_local_put_creates_folders_and_leaves_no_temporary_file(local):
    path = local.path("a/b/c.txt")
    local.put(path, b"hello")
    assert local.read_bytes(path) == b"hello"
    assert local.list_files(local.path("a/b")) == [path]
    assert local.size(path) == 5
    assert local.exists(path)
    assert local.list_files(local.path(".incoming")) == []


def test_a_local_put_that_fails_leaves_nothing_in_the_folder_or_aside(local):
    path = local.path("a/b/c.txt")
    with pytest.raises(TypeError):
        local.put(path, "not bytes")  # type: ignore[arg-type]
    assert local.list_files(local.path("a/b")) == []
    assert local.list_files(local.path(".incoming")) == []


def test_local_put_replaces_by_rename_so_an_open_reader_keeps_the_old_content(local):
    path = local.path("manifest.json")
    local.put(path, b"version 1")
    with local.fs.open_input_file(path) as reader:
        local.put(path, b"version 2, longer")
        assert reader.read() == b"version 1"  # a rewrite in place would show the new bytes
    assert local.read_bytes(path) == b"version 2, longer"
    assert local.list_files(local.root) == [path]


def test_read_if_exists_is_none_for_a_missing_file(local):
    assert local.read_if_exists(local.path("nothing.txt")) is None
    local.put(local.path("something.txt"), b"")
    assert local.read_if_exists(local.path("something.txt")) == b""


def test_exists_is_false_for_a_folder_and_a_missing_file(local):
    local.put(local.path("folder/file"), b"x")
    assert not local.exists(local.path("folder"))
    assert not local.exists(local.path("folder/other"))


def test_the_size_of_a_missing_file_is_file_not_found(local):
    with pytest.raises(FileNotFoundError):
        local.size(local.path("nothing"))


def populate(store, root: str, names: list[str]) -> None:
    for name in names:
        store.put(f"{root}/{name}", name.encode())


NAMES = [
    "raw/orders/dt=2013-01-01/a.parquet",
    "raw/orders/dt=2013-01-02/a.parquet",
    "raw/orders/dt=2013-01-02/b.parquet",
    "raw/orders/dt=2013-02-01/a.parquet",
    "_platform/raw/orders/schema.json",
    "_platform/raw/orders/manifests/dt=2013-01-01.json",
    "_platform/raw/orders/manifests/dt=2013-01-02.json",
    "raw/orders2/dt=2013-01-01/a.parquet",
    "landing/2013/01/x.csv",
    "landing/2013/01/sub/y.csv",
]


def test_list_files_lists_a_folder_sorted_recursively_or_not(local):
    populate(local, local.root, NAMES)
    root = local.root
    platform = f"{root}/_platform/raw/orders"
    assert local.list_files(platform) == [f"{platform}/schema.json"]
    assert local.list_files(platform, recursive=True) == [
        f"{platform}/manifests/dt=2013-01-01.json",
        f"{platform}/manifests/dt=2013-01-02.json",
        f"{platform}/schema.json",
    ]
    assert local.list_files(f"{root}/raw/orders") == []  # only its partitions' folders
    assert local.list_files(f"{root}/raw/orders", recursive=True) == [
        f"{root}/raw/orders/dt=2013-01-01/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/b.parquet",
        f"{root}/raw/orders/dt=2013-02-01/a.parquet",
    ]
    assert local.list_files(f"{root}/no/such/folder", recursive=True) == []


def test_list_prefix_takes_a_prefix_that_ends_inside_a_name(local):
    populate(local, local.root, NAMES)
    root = local.root
    assert local.list_prefix(f"{root}/raw/orders/dt=2013-01") == [
        f"{root}/raw/orders/dt=2013-01-01/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/b.parquet",
    ]
    assert local.list_prefix(f"{root}/raw/orders2/") == [
        f"{root}/raw/orders2/dt=2013-01-01/a.parquet"
    ]
    assert local.list_prefix(f"{root}/raw/none") == []


def test_glob_matches_each_part_within_its_own_level(local):
    populate(local, local.root, NAMES)
    root = local.root
    assert local.glob(f"{root}/raw/orders/dt=2013-01-0?/*.parquet") == [
        f"{root}/raw/orders/dt=2013-01-01/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/a.parquet",
        f"{root}/raw/orders/dt=2013-01-02/b.parquet",
    ]
    assert local.glob(f"{root}/raw/*/dt=2013-01-01/[a]*") == [
        f"{root}/raw/orders/dt=2013-01-01/a.parquet",
        f"{root}/raw/orders2/dt=2013-01-01/a.parquet",
    ]
    assert local.glob(f"{root}/_platform/raw/orders/manifests/dt=*.json") == [
        f"{root}/_platform/raw/orders/manifests/dt=2013-01-01.json",
        f"{root}/_platform/raw/orders/manifests/dt=2013-01-02.json",
    ]
    # '*' does not reach into sub/ although fnmatch's '*' would match a '/'
    assert local.glob(f"{root}/landing/2013/*/*.csv") == [f"{root}/landing/2013/01/x.csv"]
    assert local.glob(f"{root}/landing/*.csv") == []


def test_glob_without_wildcards_is_the_path_if_it_is_a_file(local):
    populate(local, local.root, NAMES)
    root = local.root
    assert local.glob(f"{root}/landing/2013/01/x.csv") == [f"{root}/landing/2013/01/x.csv"]
    assert local.glob(f"{root}/landing/2013/01/z.csv") == []
    assert local.glob(f"{root}/landing/2013/01") == []  # a folder is not a file


def test_has_wildcards():
    assert has_wildcards("a/*.csv")
    assert has_wildcards("a/?.csv")
    assert has_wildcards("a/[ab].csv")
    assert not has_wildcards("a/b.csv")


def test_local_move_creates_the_destination_folder_and_removes_the_source(local):
    source, destination = local.path("staging/x"), local.path("raw/dt=2013-01-01/x")
    local.put(source, b"data")
    local.move(source, destination)
    assert local.read_bytes(destination) == b"data"
    assert not local.exists(source)


def test_local_delete_removes_exactly_the_files_named(local):
    populate(local, local.root, NAMES)
    root = local.root
    local.delete([f"{root}/{NAMES[0]}", f"{root}/{NAMES[2]}"])
    assert local.list_files(root, recursive=True) == sorted(
        f"{root}/{name}" for name in NAMES if name not in (NAMES[0], NAMES[2])
    )


def test_local_parquet_schema_reads_the_footer(local):
    table = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
    path = local.path("x.parquet")
    data = parquet_bytes(table)
    local.put(path, data)
    assert local.parquet_schema(path, len(data)) == table.schema


# S3Store on the moto server


@pytest.fixture
def bucket(moto_endpoint) -> str:
    name = f"store-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(moto_endpoint, bucket) -> S3Store:
    return S3Store(f"s3://{bucket}/lake/", "us-east-1", moto_endpoint, boto3.client("s3"))


def test_an_s3_store_addresses_bucket_and_prefix(s3, bucket):
    assert s3.root == f"{bucket}/lake"
    assert s3.path("raw/x") == f"{bucket}/lake/raw/x"
    assert s3.path(f"s3://{bucket}/other/y") == f"{bucket}/other/y"
    assert s3.url(f"{bucket}/lake/raw/x") == f"s3://{bucket}/lake/raw/x"


def test_s3_put_then_read_exists_and_size(s3):
    path = s3.path("a/b.bin")
    s3.put(path, b"\x00\x01payload")
    assert s3.read_bytes(path) == b"\x00\x01payload"
    assert s3.exists(path)
    assert s3.size(path) == 9
    assert not s3.exists(s3.path("a"))  # a prefix is no object
    assert not s3.exists(s3.path("a/c.bin"))


def test_s3_read_of_a_missing_object_is_file_not_found_naming_its_url(s3, bucket):
    with pytest.raises(FileNotFoundError, match=rf"^s3://{bucket}/lake/missing$"):
        s3.read_bytes(s3.path("missing"))
    assert s3.read_if_exists(s3.path("missing")) is None


def test_s3_list_prefix_pages_through_more_than_a_thousand_keys(s3, bucket):
    names = [f"raw/big/dt=2013-01-01/part-{number:05d}" for number in range(1005)]
    map_concurrently(lambda name: s3.put(s3.path(name), b""), names)
    s3.put(s3.path("raw/big/dt=2013-01-02/part-00000"), b"")
    boto3.client("s3").put_object(Bucket=bucket, Key="lake/raw/big/dt=2013-01-01/folder/")
    listed = s3.list_prefix(s3.path("raw/big/dt=2013-01-01"))
    assert listed == [s3.path(name) for name in names]  # sorted, the marker left out
    s3.delete(listed)  # deletes go in batches of 1,000 keys
    assert s3.list_prefix(s3.path("raw/big/")) == [s3.path("raw/big/dt=2013-01-02/part-00000")]


def test_s3_list_files_and_glob(s3):
    populate(s3, s3.root, NAMES)
    root = s3.root
    platform = f"{root}/_platform/raw/orders"
    assert s3.list_files(platform) == [f"{platform}/schema.json"]
    assert s3.list_files(f"{root}/raw/orders") == []
    assert s3.glob(f"{platform}/manifests/dt=*.json") == [
        f"{platform}/manifests/dt=2013-01-01.json",
        f"{platform}/manifests/dt=2013-01-02.json",
    ]
    assert s3.list_files(f"{root}/no/such/folder", recursive=True) == []
    assert s3.glob(f"{root}/landing/2013/*/*.csv") == [f"{root}/landing/2013/01/x.csv"]
    assert s3.glob(f"{root}/raw/orders/dt=2013-01-02/b.parquet") == [
        f"{root}/raw/orders/dt=2013-01-02/b.parquet"
    ]
    assert s3.glob(f"{root}/raw/orders/dt=2013-01-02/c.parquet") == []


def test_s3_move_copies_then_deletes_the_source(s3):
    source, destination = s3.path("staging/x"), s3.path("raw/x")
    s3.put(source, b"data")
    s3.move(source, destination)
    assert s3.read_bytes(destination) == b"data"
    assert not s3.exists(source)


def test_put_if_absent_writes_only_the_first_time(s3):
    path = s3.path("_platform/raw/orders/leases/block-00000")
    tag = s3.put_if(path, b"first", absent=True)
    assert tag is not None
    assert s3.put_if(path, b"second", absent=True) is None
    assert s3.read_tagged(path) == (b"first", tag)


def test_put_if_match_writes_only_over_the_version_it_names(s3):
    path = s3.path("_platform/raw/orders/leases/block-00000")
    first = s3.put_if(path, b"first", absent=True)
    second = s3.put_if(path, b"second", match=first)
    assert second is not None
    assert second != first
    assert s3.put_if(path, b"third", match=first) is None  # first is no longer there
    assert s3.read_tagged(path) == (b"second", second)


def test_read_tagged_is_none_for_a_missing_object(s3):
    assert s3.read_tagged(s3.path("nothing")) is None


def test_delete_if_deletes_only_the_version_it_names(s3):
    path = s3.path("_platform/raw/orders/leases/block-00000")
    first = s3.put_if(path, b"first", absent=True)
    second = s3.put_if(path, b"second", match=first)
    s3.delete_if(path, first)
    assert s3.read_tagged(path) == (b"second", second)
    s3.delete_if(path, second)
    assert s3.read_tagged(path) is None
    s3.delete_if(path, second)  # already gone: nothing to do, no error


@pytest.mark.parametrize(
    ("columns", "rows"),
    [(3, 10), (3, 40_000), (2_000, 1)],
    ids=["small-file", "footer-in-the-first-read", "footer-larger-than-the-first-read"],
)
def test_s3_parquet_schema_reads_the_footer_from_the_end(s3, columns, rows):
    table = pa.table(
        {
            f"column_with_a_long_name_{number:04d}": pa.array(range(rows))
            for number in range(columns)
        }
    )
    data = parquet_bytes(table)
    footer = int.from_bytes(data[-8:-4], "little") + 8
    if columns > 3:
        assert footer > 64 * 1024  # the case the second, exact read is for
    else:
        assert footer < 64 * 1024
    if rows > 10:
        assert len(data) > 64 * 1024  # the first read starts inside the file
    path = s3.path("x.parquet")
    s3.put(path, data)
    assert s3.parquet_schema(path, len(data)) == table.schema


def test_s3_root_is_bucket_and_prefix_without_a_trailing_slash():
    assert s3_root("s3://bucket/prefix/") == "bucket/prefix"
    assert s3_root("s3://bucket") == "bucket"


@pytest.mark.parametrize("uri", ["s3://", "bucket/prefix", "S3://bucket/x", "file:///x", ""])
def test_s3_root_refuses_anything_but_an_s3_uri(uri):
    with pytest.raises(ValueError, match=r"is not an s3://bucket/prefix URI$"):
        s3_root(uri)


@pytest.fixture
def no_bucket(moto_endpoint) -> S3Store:
    bucket = f"missing-{uuid.uuid4().hex[:12]}"
    return S3Store(f"s3://{bucket}/lake", "us-east-1", moto_endpoint, boto3.client("s3"))


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("PutObject", lambda store, path: store.put(path, b"x")),
        ("GetObject", lambda store, path: store.read_bytes(path)),
        ("GetObject", lambda store, path: store.read_if_exists(path)),
        ("GetObject", lambda store, path: store.read_tagged(path)),
        ("PutObject", lambda store, path: store.put_if(path, b"x", absent=True)),
        ("DeleteObjects", lambda store, path: store.delete([path])),
        ("ListObjectsV2", lambda store, path: store.list_prefix(path)),
        ("ListObjectsV2", lambda store, path: store.list_files(path)),
    ],
    ids=[
        "put",
        "read_bytes",
        "read_if_exists",
        "read_tagged",
        "put_if",
        "delete",
        "list_prefix",
        "list_files",
    ],
)
def test_a_missing_bucket_is_one_line_run_error_naming_the_url(no_bucket, operation, call):
    path = no_bucket.path("raw/x")
    with pytest.raises(RunError) as raised:
        call(no_bucket, path)
    text = str(raised.value)
    assert text.startswith(f"{no_bucket.url(path)}: NoSuchBucket")
    assert f"on {operation}: The specified bucket does not exist" in text
    assert "\n" not in text


def test_failures_at_passes_a_missing_object_through_as_file_not_found(s3):
    with pytest.raises(FileNotFoundError), s3.failures_at(s3.path("x")):
        raise FileNotFoundError("x")
    with (
        pytest.raises(RunError, match=r"^s3://.*/lake/x: disk on fire$"),
        s3.failures_at(s3.path("x")),
    ):
        raise OSError("disk  on\nfire")


# map_in_order


def test_map_in_order_yields_in_the_order_of_the_items_not_of_completion():
    second_done = threading.Event()

    def work(item):
        if item == 0:
            assert second_done.wait(30), "item 1 never ran beside item 0"
        if item == 1:
            second_done.set()
        return item * 10

    assert list(map_in_order(work, range(6), threads=3)) == [0, 10, 20, 30, 40, 50]


def test_map_in_order_with_one_thread_is_a_lazy_map():
    started = []

    def work(item):
        started.append(item)
        return item

    results = map_in_order(work, range(5), threads=1)
    assert next(results) == 0
    assert started == [0]


def test_map_in_order_raises_the_first_failure_and_starts_nothing_after_it():
    started, finished = set(), set()
    lock = threading.Lock()
    item_two_started = threading.Event()

    def work(item):
        with lock:
            started.add(item)
        if item == 2:
            item_two_started.set()
            threading.Event().wait(0.5)  # still running when item 1 fails
        if item == 1:
            assert item_two_started.wait(30)
            raise ValueError("item 1 failed")
        with lock:
            finished.add(item)
        return item

    results = map_in_order(work, range(20), threads=2)
    assert next(results) == 0
    with pytest.raises(ValueError, match="item 1 failed"):
        next(results)
    # item 2 started when item 0's result was taken; nothing after it ever started
    assert started == {0, 1, 2}
    assert 2 in finished  # the running one ended before the failure was raised


def test_map_in_order_raises_the_earliest_failure_even_if_a_later_one_fails_first():
    first_failed = threading.Event()

    def work(item):
        if item == 0:
            assert first_failed.wait(30)
            raise ValueError("item 0")
        if item == 1:
            first_failed.set()
            raise ValueError("item 1")
        return item

    with pytest.raises(ValueError, match=r"^item 0$"):
        list(map_in_order(work, range(4), threads=2))


def test_map_concurrently_keeps_the_order():
    assert map_concurrently(lambda item: item * item, range(40)) == [i * i for i in range(40)]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_copy_of_a_missing_file_is_file_not_found(kind, request):
    store = request.getfixturevalue(kind)
    with pytest.raises(FileNotFoundError):
        store.copy(store.path("gone.parquet"), store.path("copies/gone.parquet"))
