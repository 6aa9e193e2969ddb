"""A lookup field prints its words sorted and each once, as wmbusmeters prints them (its
"I_3_OVERFLOW V_2_OVERFLOW" for bits 0x02 and 0x20)."""

from __future__ import annotations

from sdr_wmbus.app.records import read_record
from sdr_wmbus.drivers.engine import field_value
from sdr_wmbus.drivers.spec import parse_driver

DRIVER = """
name = "flags"
detect = [{ manufacturer = "ABC" }]

[[field]]
name = "error"
match = { vif = "error_flags" }
lookup = [
    { bits = 0xFF, words = { 0x02 = "V_2_OVERFLOW", 0x04 = "V_2_OVERFLOW", 0x20 = "I_3_OVERFLOW" } },
    { index = 0x100, words = { 0x000 = "", 0x100 = "1-8 hours" } },
]
"""


def test_lookup_words_are_sorted_and_distinct():
    (spec,) = parse_driver(DRIVER, "flags.toml").fields
    record, _ = read_record(bytes.fromhex("01FD1722"), 0)  # bits 0x02 and 0x20
    assert field_value(spec, record) == "I_3_OVERFLOW V_2_OVERFLOW"
    record, _ = read_record(bytes.fromhex("01FD1706"), 0)  # two bits with the same word
    assert field_value(spec, record) == "V_2_OVERFLOW"
    record, _ = read_record(bytes.fromhex("02FD170001"), 0)  # a word of two parts keeps its order
    assert field_value(spec, record) == "1-8 hours"
