"""Lookup rules of driver fields: bits named together (default, as wmbusmeters) or one by one, words
sorted (default) or in bit order."""

from __future__ import annotations

import pytest

from sdr_wmbus.drivers.engine import lookup_words
from sdr_wmbus.drivers.spec import DriverFileError, parse_driver

DRIVER = """
name = "lookups"
detect = { manufacturer = "ABC" }
[[field]]
name = "each"
match = { dif_vif = "02FD17" }
sort_words = false
[field.lookup]
bits = 0xFFFF
unknown = "ERROR_FLAGS_{value:X}"
unknown_bits = "each"
words = { 0x01 = "MEASUREMENT", 0x10 = "HF" }
[[field]]
name = "together"
match = { dif_vif = "02FD17" }
sort_words = true
[field.lookup]
bits = 0xFFFF
unknown = "ERROR_FLAGS_{value:X}"
unknown_bits = "together"
words = { 0x01 = "MEASUREMENT", 0x10 = "HF" }
"""


def fields():
    driver = parse_driver(DRIVER, "lookups.toml")
    return {spec.name: spec for spec in driver.fields}


def test_unknown_bits_each_give_one_word_per_bit_in_bit_order():
    spec = fields()["each"]
    assert not spec.sort_words
    assert lookup_words(spec.lookup, 0x1111) == ["MEASUREMENT", "HF", "ERROR_FLAGS_100", "ERROR_FLAGS_1000"]


def test_unknown_bits_together_give_one_word_for_all_unnamed_bits():
    spec = fields()["together"]
    assert spec.sort_words
    assert lookup_words(spec.lookup, 0x1111) == ["MEASUREMENT", "HF", "ERROR_FLAGS_1100"]
    assert lookup_words(spec.lookup, 0x0011) == ["MEASUREMENT", "HF"]
    assert lookup_words(spec.lookup, 0) == []


def test_sorted_words_in_a_printed_field():
    from sdr_wmbus.drivers.engine import field_value

    class FakeRecord:
        value = 0x1111
        data = b"\x11\x11"

    assert field_value(fields()["together"], FakeRecord()) == "ERROR_FLAGS_1100 HF MEASUREMENT"
    assert field_value(fields()["each"], FakeRecord()) == "MEASUREMENT HF ERROR_FLAGS_100 ERROR_FLAGS_1000"


@pytest.mark.parametrize(
    "rule", ["{ bits = 0xFF, unknown_bits = 'all' }", "{ index = 0xFF, unknown_bits = 'several' }"]
)
def test_unknown_bits_is_checked(rule):
    text = f'name = "x"\n[[field]]\nname = "f"\nmatch = {{ dif_vif = "02FD17" }}\nlookup = {rule}\n'
    with pytest.raises(DriverFileError, match="unknown_bits"):
        parse_driver(text, "x.toml")
