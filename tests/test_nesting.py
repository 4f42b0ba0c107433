"""Flattening objects into columns, and values as JSON documents."""

import datetime as dt
import json

import pyarrow as pa
import pytest

from platform_assets.contracts import origin_of, with_origin
from platform_assets.nesting import as_json, flattened, json_values

RECORDS = [
    {"id": 1, "user": {"name": "a", "address": {"city": "Paris"}, "tags": ["x"]}},
    {"id": 2, "user": None},
    {"id": 3, "user": {"name": "c", "address": None, "tags": []}},
]


def batch() -> pa.RecordBatch:
    return with_origin(pa.RecordBatch.from_pylist(RECORDS), "http://api/page=1")


def test_flattening_spreads_every_level_and_keeps_lists_and_where_the_rows_came_from():
    flat = flattened(batch(), None)
    assert flat.schema.names == ["id", "user__name", "user__address__city", "user__tags"]
    assert flat.to_pylist() == [
        {"id": 1, "user__name": "a", "user__address__city": "Paris", "user__tags": ["x"]},
        {"id": 2, "user__name": None, "user__address__city": None, "user__tags": None},
        {"id": 3, "user__name": "c", "user__address__city": None, "user__tags": []},
    ]
    assert origin_of(flat) == "http://api/page=1"


def test_flattening_stops_at_max_depth_keeping_deeper_objects_whole():
    flat = flattened(batch(), 1)
    assert flat.schema.names == ["id", "user__name", "user__address", "user__tags"]
    assert flat.column("user__address").to_pylist() == [{"city": "Paris"}, None, None]


def test_a_field_with_no_value_in_the_batch_gives_no_column():
    unknown = pa.RecordBatch.from_pylist([{"user": {"name": "a", "coupon": None}}])
    assert flattened(unknown, None).schema.names == ["user__name"]


def test_a_flattened_name_that_exists_already_is_refused():
    twice = pa.RecordBatch.from_pylist([{"user__name": "x", "user": {"name": "y"}}])
    with pytest.raises(ValueError, match=r"^flattening gives column\(s\) user__name twice$"):
        flattened(twice, None)


def test_json_documents_keep_their_shape_and_text_is_taken_as_it_is():
    values = [{"a": [1, None]}, [1, "two"], 42, "plain", None]
    documents = json_values(values)
    assert documents.type == pa.json_()
    assert [None if t is None else json.loads(t) for t in documents.storage.to_pylist()] == values
    text = pa.array(['{"k": 1}', None])
    assert as_json(text).storage.to_pylist() == ['{"k": 1}', None]
    dated = as_json(pa.array([{"day": dt.date(2024, 1, 2)}]))
    assert dated.storage.to_pylist() == ['{"day": "2024-01-02"}']
