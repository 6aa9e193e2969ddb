"""Driver-format keys added for the Sontex/Engelmann/Zenner/Landis+Gyr family drivers: each checked
on a small driver text, apart from any real meter."""

from __future__ import annotations

from sdr_wmbus.drivers.engine import lookup_words
from sdr_wmbus.drivers.spec import parse_driver


def _driver(fields: str, top: str = "") -> object:
    return parse_driver(f'name = "t"\n{top}\n{fields}', "t.toml")


def test_bits_lookup_combines_unknown_bits_into_one_word():
    driver = _driver(
        """
[[field]]
name = "flags"
match = { vif = "error_flags" }
lookup = { bits = 0xFFFF, words = { 0x01 = "DRY" }, unknown = "FLAGS_{value:X}", combine_unknown = true }
"""
    )
    rules = driver.fields[0].lookup
    assert lookup_words(rules, 0x0001) == ["DRY"]
    assert lookup_words(rules, 0x0181) == ["DRY", "FLAGS_180"]
    assert lookup_words(rules, 0) == []


def test_bits_lookup_names_unknown_bits_one_by_one_by_default():
    driver = _driver(
        """
[[field]]
name = "flags"
match = { vif = "error_flags" }
lookup = { bits = 0xFFFF, words = {}, unknown = "FLAGS_{value:X}" }
"""
    )
    assert lookup_words(driver.fields[0].lookup, 0x0180) == ["FLAGS_80", "FLAGS_100"]


def test_templated_name_counts_down_from_a_number():
    driver = _driver(
        """
[[field]]
name = "delta_{32 - storage}_half_months_ago"
unit = "hca"
match = { vif = "hca", storage = [2, 31] }
"""
    )
    spec = driver.fields[0]
    assert spec.templated
    assert spec.output_name(storage=2) == "delta_30_half_months_ago_hca"
    assert spec.output_name(storage=31) == "delta_1_half_months_ago_hca"
