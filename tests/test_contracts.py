import pyarrow as pa
import pytest

from platform_assets.contracts import (
    Conformer,
    SchemaContract,
    changed_types,
    effective_schema,
    with_origin,
)
from platform_assets.errors import RunError

DECLARED = pa.schema([("id", pa.int64()), ("amount", pa.float64()), ("name", pa.string())])
ORIGIN = "file:///drops/2024-01-02.csv"


def batch(**columns) -> pa.RecordBatch:
    return with_origin(pa.RecordBatch.from_pydict(columns), ORIGIN)


def conformer(contract=SchemaContract.FREEZE, declared=DECLARED, schema=DECLARED) -> Conformer:
    return Conformer("orders", contract, declared, schema)


def test_columns_come_out_in_the_schemas_order_and_types():
    out = conformer().conform(batch(name=["a"], amount=[2], id=[1]))
    assert out.schema == DECLARED
    assert out.to_pylist() == [{"id": 1, "amount": 2.0, "name": "a"}]


@pytest.mark.parametrize("contract", list(SchemaContract))
def test_a_declared_column_missing_upstream_is_an_error(contract):
    with pytest.raises(RunError, match=rf"^{ORIGIN}: upstream lacks column\(s\) name$"):
        conformer(contract).conform(batch(id=[1], amount=[1.0]))


def test_under_freeze_a_new_column_is_an_error_naming_it():
    with pytest.raises(RunError, match=rf"^{ORIGIN}: upstream added column\(s\) region, which"):
        conformer().conform(batch(id=[1], amount=[1.0], name=["a"], region=["eu"]))


def test_under_evolve_a_new_column_joins_the_schema_and_older_batches_read_null():
    evolving = conformer(SchemaContract.EVOLVE)
    grown = evolving.conform(batch(id=[1], amount=[1.0], name=["a"], region=["eu"]))
    assert evolving.grown
    assert grown.schema.names == ["id", "amount", "name", "region"]
    older = evolving.conform(batch(id=[2], amount=[2.0], name=["b"]))
    assert older.to_pylist() == [{"id": 2, "amount": 2.0, "name": "b", "region": None}]


def test_a_type_upstream_cannot_be_cast_to_is_an_error_naming_the_column():
    with pytest.raises(RunError, match=rf"^{ORIGIN}: column id is string, the schema says int64"):
        conformer().conform(batch(id=["x1"], amount=[1.0], name=["a"]))


def test_without_a_schema_the_first_batch_decides_and_must_be_storable():
    inferring = conformer(declared=None, schema=None)
    inferring.conform(batch(id=[1], when=["2024-01-02"]))
    assert inferring.schema.names == ["id", "when"] and inferring.grown
    with pytest.raises(RunError, match="column empty: type null cannot be stored"):
        conformer(declared=None, schema=None).conform(batch(id=[1], empty=[None]))


def test_the_effective_schema_is_the_declared_one_plus_what_evolution_added():
    stored = pa.schema([*DECLARED, ("region", pa.string())])
    assert effective_schema(DECLARED, stored, SchemaContract.EVOLVE).names == [
        "id",
        "amount",
        "name",
        "region",
    ]
    assert effective_schema(DECLARED, None, SchemaContract.EVOLVE) == DECLARED
    assert effective_schema(None, stored, SchemaContract.FREEZE) == stored
    # under freeze nothing was added by evolution: the declared columns are the schema
    assert effective_schema(DECLARED, stored, SchemaContract.FREEZE) == DECLARED


def test_changed_types_names_each_declared_column_the_lake_holds_in_another_type():
    stored = pa.schema([("id", pa.int64()), ("amount", pa.float64()), ("note", pa.string())])
    declared = pa.schema([("id", pa.string()), ("amount", pa.float64()), ("new", pa.int16())])
    assert changed_types(declared, stored) == [("id", pa.int64(), pa.string())]
    assert changed_types(declared, None) == []
    assert changed_types(None, stored) == []


NESTED = pa.schema([("id", pa.int64()), ("user", pa.struct([("name", pa.string())]))])


def test_under_freeze_a_key_appearing_inside_an_object_is_an_error_naming_its_path():
    frozen = conformer(declared=NESTED, schema=NESTED)
    with pytest.raises(RunError) as raised:
        frozen.conform(batch(id=[1], user=[{"name": "a", "email": "a@x"}]))
    assert str(raised.value) == (
        f"{ORIGIN}: upstream added field(s) user.email, which the frozen schema does not have"
        " (schema_contract: evolve would add them)"
    )


def test_under_evolve_a_new_struct_field_grows_the_schema_and_a_missing_one_reads_null():
    evolving = conformer(SchemaContract.EVOLVE, declared=NESTED, schema=NESTED)
    out = evolving.conform(batch(id=[1, 2], user=[{"name": "a", "email": "a@x"}, None]))
    assert evolving.grown
    assert out.to_pylist() == [
        {"id": 1, "user": {"name": "a", "email": "a@x"}},
        {"id": 2, "user": None},
    ]
    older = evolving.conform(batch(id=[3], user=[{"name": "c"}]))
    assert older.to_pylist() == [{"id": 3, "user": {"name": "c", "email": None}}]
    grown = effective_schema(NESTED, evolving.schema, SchemaContract.EVOLVE)
    assert grown == evolving.schema


def test_a_json_column_takes_any_shape_as_its_json_text():
    documents = pa.schema([("id", pa.int64()), ("doc", pa.json_())])
    out = conformer(declared=documents, schema=documents).conform(
        batch(id=[1, 2], doc=[{"a": [1, None]}, None])
    )
    assert out.schema == documents
    assert out.column("doc").storage.to_pylist() == ['{"a": [1, null]}', None]


def test_a_field_whose_every_value_is_null_is_no_news_until_it_has_a_value():
    inferring = Conformer("orders", SchemaContract.FREEZE, None, None)
    first = inferring.conform(batch(id=[1], user=[{"name": "a", "email": None}]))
    assert first.schema == NESTED
    quiet = inferring.conform(batch(id=[2], user=[{"name": "b", "email": None}]))
    assert quiet.to_pylist() == [{"id": 2, "user": {"name": "b"}}]
    with pytest.raises(RunError, match=r"upstream added field\(s\) user\.email, which"):
        inferring.conform(batch(id=[3], user=[{"name": "c", "email": "c@x"}]))
    evolving = conformer(SchemaContract.EVOLVE, declared=NESTED, schema=NESTED)
    evolving.conform(batch(id=[4], user=[{"name": "d", "email": None}]))
    assert not evolving.grown
    evolving.conform(batch(id=[5], user=[{"name": "e", "email": "e@x"}]))
    assert evolving.schema.field("user").type.names == ["name", "email"]
