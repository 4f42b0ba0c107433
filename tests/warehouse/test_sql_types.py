"""Every warehouse spells every storable type, by one rule (warehouse/sql.py's SqlTypes)."""

import importlib

import pyarrow as pa
import pytest

from platform_assets.errors import ConfigurationError
from platform_assets.schemas import STORABLE_PLAIN, is_storable
from platform_assets.warehouse import WAREHOUSES
from platform_assets.warehouse.redshift import DESCRIBED_TYPES

SPELLINGS = {
    name: importlib.import_module(entry.partition(":")[0]).TYPES
    for name, entry in WAREHOUSES.items()
} | {"redshift (information_schema)": DESCRIBED_TYPES}
OTHERS = [
    *(pa.timestamp(unit, tz) for unit in ("s", "ms", "us", "ns") for tz in (None, "UTC")),
    pa.decimal128(12, 2),
    pa.struct([("name", pa.string()), ("tags", pa.list_(pa.string()))]),
    pa.list_(pa.struct([("sku", pa.string())])),
]


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_warehouse_spells_exactly_the_storable_types(name):
    types = SPELLINGS[name]
    assert set(types.plain) == set(STORABLE_PLAIN.values())
    spelt = [types.of(data_type) for data_type in OTHERS]
    assert all(spelt) and all(is_storable(data_type) for data_type in OTHERS)
    assert types.of(OTHERS[-1]) == types.of(OTHERS[-2]) == types.nested  # held whole
    with pytest.raises(ConfigurationError, match=r"no \w+ type for Arrow type int8"):
        types.of(pa.int8())
