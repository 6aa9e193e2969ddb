"""Lookup rules: the set bits without a word become one word (as wmbusmeters prints unknown bits,
e.g. OUTPUT_FFFF), after the words of the known bits; ``combine_unknown = true`` says so explicitly
and ``unknown_bits = "each"`` gives one word per bit instead."""

from __future__ import annotations

from sdr_wmbus.drivers.engine import lookup_words
from sdr_wmbus.drivers.spec import parse_driver

DRIVER = """
name = "flags"
detect = [{ manufacturer = "ABC" }]

[[field]]
name = "combined"
match = { dif_vif = "02FF32" }
lookup = { bits = 0xFFFF, combine_unknown = true, unknown = "OUTPUT_{value:X}", words = { 0x02 = "TWO" } }

[[field]]
name = "per_bit"
match = { dif_vif = "02FF32" }
lookup = { bits = 0xFFFF, unknown = "OUTPUT_{value:X}", unknown_bits = "each", words = { 0x02 = "TWO" } }
"""


def test_unknown_bits_combined_into_one_word():
    combined, per_bit = parse_driver(DRIVER, "flags.toml").fields
    assert lookup_words(combined.lookup, 0xFFFF) == ["TWO", "OUTPUT_FFFD"]
    assert lookup_words(combined.lookup, 0x000B) == ["TWO", "OUTPUT_9"]
    assert lookup_words(combined.lookup, 0x0002) == ["TWO"]
    assert lookup_words(combined.lookup, 0) == []


def test_unknown_bits_one_word_each_when_asked():
    _, per_bit = parse_driver(DRIVER, "flags.toml").fields
    assert lookup_words(per_bit.lookup, 0x000B) == ["OUTPUT_1", "TWO", "OUTPUT_8"]
