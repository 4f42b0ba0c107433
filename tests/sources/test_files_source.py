import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_assets.contracts import Conformer, SchemaContract, origin_of
from platform_assets.partitions import Granularity, period_at
from platform_assets.sources.files.reader import SourceFileError, read_files
from platform_assets.sources.files.spec import FilesRead
from platform_assets.storage import LocalStore
from testkit.upstreams import backdate

DAY = period_at(Granularity.DAILY, dt.date(2024, 1, 2))
SCHEMA = pa.schema([("id", pa.int64()), ("amount", pa.float64()), ("name", pa.string())])


def spec(path: str, format: str = "csv", **options) -> FilesRead:
    return FilesRead(kind="files", path=path, format=format, **options)


def read(spec: FilesRead, tmp_path: Path, schema=SCHEMA, period=DAY) -> pa.Table:
    batches = list(read_files(spec, period, schema, LocalStore(str(tmp_path))))
    return pa.Table.from_batches(batches) if batches else pa.table({})


def write(tmp_path: Path, relative: str, text: str) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    backdate(path)


def test_csv_by_template_with_declared_schema(tmp_path):
    write(tmp_path, "in/2024-01-02.csv", "id,amount,name\n1,2.5,a\n2,,NA\n")
    write(tmp_path, "in/2024-01-03.csv", "id,amount,name\n3,1.0,c\n")
    table = read(spec("in/{dt:%Y-%m-%d}.csv"), tmp_path)
    assert table.schema == SCHEMA
    assert table.to_pylist() == [
        {"id": 1, "amount": 2.5, "name": "a"},
        {"id": 2, "amount": None, "name": None},
    ]


def test_each_batch_names_the_file_it_came_from(tmp_path):
    write(tmp_path, "in/2024-01-02.csv", "name,id,amount\na,1,2.5\n")
    [batch] = read_files(spec("in/{dt:%Y-%m-%d}.csv"), DAY, SCHEMA, LocalStore(str(tmp_path)))
    assert origin_of(batch) == f"file://{tmp_path}/in/2024-01-02.csv"
    assert batch.schema.field("id").type == pa.int64()  # typed as declared, in the file's order


def test_jsonl_and_parquet(tmp_path):
    lines = [{"id": 1, "amount": 1.5, "name": "x"}, {"id": 2, "amount": None, "name": "y"}]
    write(tmp_path, "j/2024-01-02.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    assert read(spec("j/{dt:%Y-%m-%d}.jsonl", "jsonl"), tmp_path).to_pylist() == lines
    (tmp_path / "p").mkdir()
    pq.write_table(pa.Table.from_pylist(lines, SCHEMA), tmp_path / "p/2024-01-02.parquet")
    backdate(tmp_path / "p/2024-01-02.parquet")
    assert read(spec("p/{dt:%Y-%m-%d}.parquet", "parquet"), tmp_path).to_pylist() == lines


def test_jsonl_objects_come_as_structs_and_a_json_column_as_its_document(tmp_path):
    lines = [
        {"id": 1, "user": {"name": "a", "tags": ["x"]}, "doc": {"k": [1, 2]}},
        {"id": 2, "user": None, "doc": {"k": []}},
    ]
    write(tmp_path, "j/2024-01-02.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    declared = pa.schema([("id", pa.int64()), ("doc", pa.json_())])
    (batch,) = read_files(
        spec("j/{dt:%Y-%m-%d}.jsonl", "jsonl"), DAY, declared, LocalStore(str(tmp_path))
    )
    assert batch.schema.field("user").type == pa.struct(
        [("name", pa.string()), ("tags", pa.list_(pa.string()))]
    )
    schema = pa.schema([*declared, ("user", batch.schema.field("user").type)])
    conformed = Conformer("files", SchemaContract.FREEZE, declared, schema).conform(batch)
    documents = conformed.column("doc").storage.to_pylist()
    assert [json.loads(text) for text in documents] == [line["doc"] for line in lines]
    assert conformed.column("user").to_pylist() == [line["user"] for line in lines]


def test_a_glob_with_a_date_column_keeps_only_the_partitions_rows(tmp_path):
    write(tmp_path, "all/a.csv", "id,day\n1,2024-01-01\n2,2024-01-02\n3,2024-01-02\n")
    write(tmp_path, "all/b.csv", "id,day\n4,2024-01-02\n5,2024-01-03\n")
    schema = pa.schema([("id", pa.int64()), ("day", pa.date32())])
    table = read(spec("all/*.csv", date_column="day"), tmp_path, schema)
    assert table["id"].to_pylist() == [2, 3, 4]


def test_a_monthly_partition_reads_every_daily_file_of_its_month(tmp_path):
    for day in (1, 15, 31):
        write(tmp_path, f"d/2024-01-{day:02d}.csv", f"id,amount,name\n{day},0,x\n")
    write(tmp_path, "d/2024-02-01.csv", "id,amount,name\n99,0,x\n")
    month = period_at(Granularity.MONTHLY, dt.date(2024, 1, 1))
    table = read(spec("d/{dt:%Y-%m-%d}*.csv"), tmp_path, period=month)
    assert table["id"].to_pylist() == [1, 15, 31]


def test_without_a_schema_the_first_file_decides_and_later_files_must_agree(tmp_path):
    write(tmp_path, "i/a.csv", "id,when\n1,2024-01-02 10:00:00\n")
    write(tmp_path, "i/b.csv", "id,when\nabc,2024-01-02 11:00:00\n")
    batches = read_files(spec("i/*.csv"), DAY, None, LocalStore(str(tmp_path)))
    first = next(batches)
    assert first.schema.field("id").type == pa.int64()
    assert pa.types.is_timestamp(first.schema.field("when").type)
    with pytest.raises(SourceFileError, match=r"i/b.csv: line 2: column id: 'abc' is not a valid"):
        next(batches)


def test_files_are_read_one_at_a_time(tmp_path):
    write(tmp_path, "s/a.csv", "id,amount,name\n1,1,a\n")
    write(tmp_path, "s/b.csv", "id,amount,name\n2,2,b\n")
    batches = read_files(spec("s/*.csv"), DAY, SCHEMA, LocalStore(str(tmp_path)))
    assert next(batches)["id"].to_pylist() == [1]
    (tmp_path / "s/b.csv").unlink()  # not opened yet: the first file's rows came first
    with pytest.raises(SourceFileError, match=r"s/b\.csv: file not found"):
        next(batches)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,amount,name\n1,1,a\n2,2\n3,3,c\n", r"line 3: expected 3 columns, got 2"),
        ("id,amount,name\n1,1,a\n2,2,b\nx3,3,c\n", r"line 4: column id: 'x3' is not a valid int64"),
        ("id,amount,name\n1,1,a\n2,2,b\n3,3,c,d\n", r"line 4: expected 3 columns, got 4"),
    ],
)
def test_a_malformed_csv_names_the_file_and_line(tmp_path, text, message):
    write(tmp_path, "bad/2024-01-02.csv", text)
    with pytest.raises(SourceFileError, match=rf"file://{tmp_path}/bad/2024-01-02.csv: {message}"):
        read(spec("bad/{dt:%Y-%m-%d}.csv"), tmp_path)


def test_a_bad_json_line_is_named(tmp_path):
    write(tmp_path, "j/2024-01-02.jsonl", '{"id": 1, "amount": 1, "name": "a"}\n{"id": 2,\n')
    with pytest.raises(SourceFileError, match=r"2024-01-02.jsonl: line 2: not valid JSON"):
        read(spec("j/{dt:%Y-%m-%d}.jsonl", "jsonl"), tmp_path)


def test_a_missing_file_is_an_error_but_an_empty_glob_is_not(tmp_path):
    with pytest.raises(SourceFileError, match=r"missing/2024-01-02.csv: file not found"):
        read(spec("missing/{dt:%Y-%m-%d}.csv"), tmp_path)
    assert read(spec("missing/*.csv"), tmp_path).num_rows == 0


def test_a_field_larger_than_a_block_fails_naming_the_setting_and_fits_when_raised(tmp_path):
    field = "x" * (3 << 20)
    write(tmp_path, "in/2024-01-02.csv", f'id,amount,name\n1,2.5,"{field}"\n2,1.0,b\n')
    for schema in (SCHEMA, None):  # declared, and inferred
        with pytest.raises(SourceFileError) as failure:
            read(spec("in/{dt:%Y-%m-%d}.csv", block_mib=1), tmp_path, schema)
        assert str(failure.value) == (
            f"file://{tmp_path}/in/2024-01-02.csv: a field or row larger than read.block_mib"
            " (1 MiB): raise it"
        )
        table = read(spec("in/{dt:%Y-%m-%d}.csv", block_mib=4), tmp_path, schema)
        assert table["name"].to_pylist() == [field, "b"]
