"""Catalog type names, the lake's schema, fingerprints and schema differences."""

import hashlib

import pyarrow as pa
import pytest

from platform_assets.schemas import (
    STORABLE_PLAIN,
    added_fields,
    describe_difference,
    fingerprint,
    is_storable,
    lake_schema,
    merged_type,
    narrowed_type,
    nesting,
    parse_type,
    schema_from_mapping,
    schema_to_mapping,
    type_name,
)

SUPPORTED = (
    "(supported: int16, int32, int64, float32, float64, bool, string, date32, json,"
    " timestamp[s|ms|us|ns] (optionally with tz=UTC), decimal(p, s), struct<name: type, ...>,"
    " list<type>)"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("int16", pa.int16()),
        ("int32", pa.int32()),
        ("int64", pa.int64()),
        ("float32", pa.float32()),
        ("float64", pa.float64()),
        ("bool", pa.bool_()),
        ("string", pa.string()),
        ("date32", pa.date32()),
        # Arrow's own aliases of the same types
        ("double", pa.float64()),
        ("utf8", pa.string()),
        ("boolean", pa.bool_()),
        ("  int64 ", pa.int64()),
        ("timestamp[s]", pa.timestamp("s")),
        ("timestamp[ms]", pa.timestamp("ms")),
        ("timestamp[us]", pa.timestamp("us")),
        ("timestamp[ns]", pa.timestamp("ns")),
        ("timestamp[s, tz=UTC]", pa.timestamp("s", tz="UTC")),
        ("timestamp[us,tz=UTC]", pa.timestamp("us", tz="UTC")),
        ("timestamp[ms, tz=+01:00]", pa.timestamp("ms", tz="+01:00")),
        ("decimal(12, 2)", pa.decimal128(12, 2)),
        ("decimal(38,0)", pa.decimal128(38, 0)),
        ("decimal128(8, 3)", pa.decimal128(8, 3)),
    ],
)
def test_parse_type_reads_every_supported_name(name, expected):
    parsed = parse_type(name)
    assert parsed == expected
    assert is_storable(parsed)


def test_the_plain_types_are_exactly_the_nine_both_warehouses_hold():
    assert sorted(STORABLE_PLAIN) == sorted(
        ["int16", "int32", "int64", "float32", "float64", "bool", "string", "date32", "json"]
    )
    assert all(parse_type(name) == data_type for name, data_type in STORABLE_PLAIN.items())


@pytest.mark.parametrize("name", ["integer", "varchar", "timestamp[h]", "decimal(5, -1)", ""])
def test_an_unknown_type_name_is_refused_listing_the_supported_ones(name):
    with pytest.raises(ValueError) as raised:
        parse_type(name)
    assert str(raised.value) == f"unknown type {name!r} {SUPPORTED}"


@pytest.mark.parametrize(
    "name",
    ["int8", "uint32", "halffloat", "large_string", "binary", "date64", "duration[s]", "null"],
)
def test_an_arrow_type_the_warehouses_cannot_hold_is_refused(name):
    with pytest.raises(ValueError) as raised:
        parse_type(name)
    assert str(raised.value) == f"type {name!r} cannot be stored in the warehouse {SUPPORTED}"


def test_a_decimal_beyond_38_digits_is_refused():
    with pytest.raises(ValueError, match="precision"):
        parse_type("decimal(39, 2)")


def test_a_decimal_whose_scale_exceeds_its_precision_is_refused():
    with pytest.raises(ValueError):
        parse_type("decimal(5, 7)")


def test_a_timestamp_with_a_zone_that_does_not_exist_is_refused():
    with pytest.raises(ValueError):
        parse_type("timestamp[s, tz=Nowhere]")


def test_schemas_go_to_and_from_the_catalogs_mapping_in_order():
    columns = {"id": "int64", "at": "timestamp[s, tz=UTC]", "amount": "decimal(12, 2)"}
    schema = schema_from_mapping(columns)
    assert schema == pa.schema(
        [
            ("id", pa.int64()),
            ("at", pa.timestamp("s", tz="UTC")),
            ("amount", pa.decimal128(12, 2)),
        ]
    )
    assert schema_to_mapping(schema) == {
        "id": "int64",
        "at": "timestamp[s, tz=UTC]",
        "amount": "decimal128(12, 2)",
    }
    assert schema_from_mapping(schema_to_mapping(schema)) == schema


def test_lake_schema_stores_second_timestamps_in_milliseconds_and_appends_dt():
    source = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("at", pa.timestamp("s", tz="UTC"), metadata={b"note": b"kept"}),
            ("naive", pa.timestamp("s")),
            ("micros", pa.timestamp("us", tz="UTC")),
            ("day", pa.date32()),
        ]
    )
    lake = lake_schema(source)
    assert lake == pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            ("at", pa.timestamp("ms", tz="UTC")),
            ("naive", pa.timestamp("ms")),
            ("micros", pa.timestamp("us", tz="UTC")),
            ("day", pa.date32()),
            ("dt", pa.date32()),
        ]
    )
    assert lake.field("id").nullable is False
    assert lake.field("at").metadata == {b"note": b"kept"}


def test_the_fingerprint_is_the_first_twelve_hex_digits_of_the_names_and_types_hash():
    schema = pa.schema([("id", pa.int64()), ("at", pa.timestamp("ms", tz="UTC"))])
    expected = hashlib.sha256(b"id:int64;at:timestamp[ms, tz=UTC]").hexdigest()[:12]
    assert fingerprint(schema) == expected
    assert fingerprint(schema) == "3fb82480570e"  # stable across releases: reports keep it


def test_the_fingerprint_ignores_nullability_and_metadata():
    plain = pa.schema([("id", pa.int64()), ("name", pa.string())])
    decorated = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False, metadata={b"k": b"v"}),
            ("name", pa.string()),
        ],
        metadata={b"schema": b"meta"},
    )
    assert fingerprint(decorated) == fingerprint(plain)


@pytest.mark.parametrize(
    "other",
    [
        pa.schema([("name", pa.string()), ("id", pa.int64())]),
        pa.schema([("id", pa.int32()), ("name", pa.string())]),
        pa.schema([("ident", pa.int64()), ("name", pa.string())]),
        pa.schema([("id", pa.int64())]),
    ],
    ids=["order", "type", "name", "columns"],
)
def test_the_fingerprint_changes_with_order_types_and_names(other):
    assert fingerprint(other) != fingerprint(pa.schema([("id", pa.int64()), ("name", pa.string())]))


EXPECTED = pa.schema([("id", pa.int64()), ("name", pa.string()), ("at", pa.timestamp("ms"))])


@pytest.mark.parametrize(
    ("actual", "message"),
    [
        (EXPECTED, ""),
        (
            pa.schema(
                [
                    pa.field("id", pa.int64(), nullable=False),
                    ("name", pa.string()),
                    ("at", pa.timestamp("ms")),
                ]
            ),
            "",
        ),
        (pa.schema([("id", pa.int64())]), "missing column(s) name, at"),
        (
            pa.schema([*EXPECTED, ("extra", pa.bool_()), ("more", pa.int16())]),
            "unexpected column(s) extra, more",
        ),
        (
            pa.schema([("id", pa.string()), ("name", pa.string()), ("at", pa.timestamp("s"))]),
            "column id is string, expected int64;"
            " column at is timestamp[s], expected timestamp[ms]",
        ),
        (
            pa.schema([("at", pa.timestamp("ms")), ("id", pa.int64()), ("name", pa.string())]),
            "columns in another order: at, id, name",
        ),
        (
            pa.schema([("name", pa.int64()), ("extra", pa.bool_())]),
            "missing column(s) id, at; unexpected column(s) extra;"
            " column name is int64, expected string",
        ),
    ],
    ids=["same", "nullability", "missing", "unexpected", "types", "order", "everything"],
)
def test_describe_difference_says_in_one_line_how_the_schemas_differ(actual, message):
    assert describe_difference(EXPECTED, actual) == message


USER = pa.struct(
    [
        ("name", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("address", pa.struct([("city", pa.string()), ("zip", pa.decimal128(9, 2))])),
        ("at", pa.timestamp("s", tz="UTC")),
    ]
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("json", pa.json_()),
        ("list<int64>", pa.list_(pa.int64())),
        ("list<list<string>>", pa.list_(pa.list_(pa.string()))),
        (
            "struct<name: string, tags: list<string>,"
            " address: struct<city: string, zip: decimal(9, 2)>, at: timestamp[s, tz=UTC]>",
            USER,
        ),
        (
            " list< struct<sku:string,qty: int16> > ",
            pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int16())])),
        ),
        (
            "struct<firstName: string, x-y: bool>",
            pa.struct([("firstName", pa.string()), ("x-y", pa.bool_())]),
        ),
    ],
)
def test_parse_type_reads_nested_types_and_type_name_writes_them_back(name, expected):
    parsed = parse_type(name)
    assert parsed == expected
    assert is_storable(parsed)
    assert parse_type(type_name(parsed)) == parsed


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("struct<>", "a struct has fields, each named once"),
        ("struct<a: int64, a: string>", "a struct has fields, each named once"),
        ("struct<a int64>", "'a int64' is not 'name: type'"),
        ("struct<a: json>", "json is a column's own type, not a field's"),
        ("list<json>", "json is a column's own type, not a field's"),
        ("list<int8>", "type 'int8' cannot be stored in the warehouse"),
        ("struct<a: varchar>", "unknown type 'varchar'"),
        ("list<" * 33 + "int64" + ">" * 33, "nests more than 32 levels deep"),
        ("list<" * 5_000 + "int64" + ">" * 5_000, "nests more than 32 levels deep"),
    ],
)
def test_a_nested_type_with_a_wrong_part_is_refused_naming_it(name, message):
    with pytest.raises(ValueError) as raised:
        parse_type(name)
    assert message in str(raised.value)


def test_nesting_counts_the_levels_of_struct_and_list():
    assert nesting(pa.int64()) == 0
    assert (
        nesting(pa.struct([("a", pa.list_(pa.struct([("b", pa.int64())]))), ("c", pa.bool_())]))
        == 3
    )
    assert nesting(parse_type("list<" * 32 + "int64" + ">" * 32)) == 32


def test_nested_types_are_named_alike_whoever_wrote_them():
    """Arrow names a list's child `item`, parquet `element`; nullability and metadata vary."""
    ours = pa.schema([("user", USER), ("items", pa.list_(USER))])
    theirs = pa.schema(
        [
            pa.field(
                "user",
                pa.struct(
                    [pa.field(f.name, f.type, nullable=False, metadata={b"k": b"v"}) for f in USER]
                ),
            ),
            ("items", pa.list_(pa.field("element", USER, nullable=False))),
        ]
    )
    assert ours != theirs
    assert fingerprint(ours) == fingerprint(theirs)
    assert describe_difference(ours, theirs) == ""
    assert schema_to_mapping(theirs) == {
        "user": "struct<name: string, tags: list<string>,"
        " address: struct<city: string, zip: decimal128(9, 2)>, at: timestamp[s, tz=UTC]>",
        "items": "list<struct<name: string, tags: list<string>,"
        " address: struct<city: string, zip: decimal128(9, 2)>, at: timestamp[s, tz=UTC]>>",
    }
    assert schema_from_mapping(schema_to_mapping(theirs)) == ours


def test_a_parquet_round_trip_keeps_the_fingerprint_of_nested_types(tmp_path):
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "user": pa.array([{"name": "a", "tags": ["x"], "address": None, "at": None}], USER),
            "doc": pa.ExtensionArray.from_storage(pa.json_(), pa.array(['{"a": [1]}'])),
        }
    )
    pq.write_table(table, tmp_path / "nested.parquet")
    read = pq.read_schema(tmp_path / "nested.parquet")
    assert read.field("user").type.field("tags").type.value_field.name == "element"
    assert fingerprint(read) == fingerprint(lake_schema(table.schema).remove(2))


def test_the_fingerprint_changes_when_a_struct_gains_a_field():
    grown = pa.struct([*USER, ("email", pa.string())])
    assert fingerprint(pa.schema([("user", grown)])) != fingerprint(pa.schema([("user", USER)]))


def test_lake_schema_stores_second_timestamps_in_milliseconds_inside_structs_and_lists():
    lake = lake_schema(pa.schema([("user", USER), ("times", pa.list_(pa.timestamp("s")))]))
    assert lake.field("user").type.field("at").type == pa.timestamp("ms", tz="UTC")
    assert lake.field("times").type == pa.list_(pa.timestamp("ms"))


def test_a_grown_struct_merges_fields_at_any_depth_and_names_their_paths():
    old = pa.struct([("name", pa.string()), ("address", pa.struct([("city", pa.string())]))])
    new = pa.struct(
        [
            ("address", pa.struct([("zip", pa.string()), ("city", pa.string())])),
            ("email", pa.string()),
        ]
    )
    assert added_fields(old, new, "user") == ["user.address.zip", "user.email"]
    assert added_fields(pa.list_(old), pa.list_(new), "items") == [
        "items.address.zip",
        "items.email",
    ]
    assert added_fields(new, old, "user") == ["user.name"]
    assert merged_type(old, new) == pa.struct(
        [
            ("name", pa.string()),
            ("address", pa.struct([("city", pa.string()), ("zip", pa.string())])),
            ("email", pa.string()),
        ]
    )
    assert narrowed_type(merged_type(old, new), old) == old
