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


def test_bits_lookup_names_unknown_bits_together_by_default_or_one_by_one():
    driver = _driver(
        """
[[field]]
name = "flags"
match = { vif = "error_flags" }
lookup = { bits = 0xFFFF, words = {}, unknown = "FLAGS_{value:X}" }
[[field]]
name = "each"
match = { vif = "error_flags" }
lookup = { bits = 0xFFFF, words = {}, unknown = "FLAGS_{value:X}", unknown_bits = "each" }
"""
    )
    assert lookup_words(driver.fields[0].lookup, 0x0180) == ["FLAGS_180"]
    assert lookup_words(driver.fields[1].lookup, 0x0180) == ["FLAGS_80", "FLAGS_100"]


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


def _apply(driver, apl_hex: str, remembered: dict | None = None) -> dict:
    from sdr_wmbus.app.records import parse_apl
    from sdr_wmbus.drivers.engine import apply
    from sdr_wmbus.telegram import Identity, Telegram

    identity = Identity("12345678", "DWZ", 0, 7, b"", b"")
    telegram = Telegram(frame=b"", identity=identity)
    telegram.apl = parse_apl(bytes.fromhex(apl_hex))
    if remembered is not None:
        telegram.remembered = remembered
    return apply(driver, telegram, None)


def test_match_with_formula_computes_once_per_matching_record():
    driver = _driver(
        """
[[field]]
name = "meter_datetime"
match = { vif = "datetime" }
format = "datetime"

[[field]]
name = "history_{storage - 1}"
unit = "m3"
match = { vif = "volume", storage = [2, 16] }

[[field]]
name = "history_{storage - 1}_date"
match = { vif = "volume", storage = [2, 16] }
formula = "add_months(meter_datetime, 1 - storage)"

[[field]]
name = "history_{storage - 1}_litres"
match = { vif = "volume", storage = [2, 16] }
formula = "value * 1000"

[[field]]
name = "first_history_date"
match = { vif = "volume", storage = 2 }
formula = "add_months(meter_datetime, -1)"

[[field]]
name = "no_such_history"
match = { vif = "volume", storage = 9 }
formula = "value"
missing = "null"
"""
    )
    # Date-time 2022-09-23 13:57, storage 2 = 6.553 m3, storage 3 = 6.276 m3.
    result = _apply(driver, "046D392DD729840113991900" + "00C401138418" + "0000")
    assert result["history_1_m3"] == 6.553
    assert result["history_1_date"] == "2022-08-23"
    assert result["history_2_date"] == "2022-07-23"
    assert result["history_2_litres"] == 6276
    assert result["first_history_date"] == "2022-08-23"
    assert result["no_such_history"] is None
    assert "history_3_date" not in result


def test_invalid_codes_compare_with_the_raw_data_bytes():
    driver = _driver(
        """
[[field]]
name = "history_{storage}"
unit = "m3"
match = { vif = "volume", storage = [1, 8] }
invalid = [-1, 0x80000000]
"""
    )
    # storage 1: FFFFFFFF (int, -1 l), storage 2: 7 l, storage 3: 00000080 (BCD), storage 4: 00000080 (int)
    result = _apply(driver, "4413FFFFFFFF" + "84011307000000" + "CC011300000080" + "84021300000080")
    assert result["history_1_m3"] is None
    assert result["history_2_m3"] == 0.007
    assert result["history_3_m3"] is None
    assert result["history_4_m3"] is None


def test_hex_format_shows_numbers_and_unprintable_text_as_bytes():
    driver = _driver(
        """
[[field]]
name = "version"
match = { dif_vif = "03FD0C" }
format = "hex"

[[field]]
name = "location"
match = { dif_vif = "0DFD10" }
format = "hex"

[[field]]
name = "fabrication_no"
match = { dif_vif = "0D78" }
format = "hex"
"""
    )
    result = _apply(driver, "03FD0C080000" + "0DFD1003AAAAAA" + "0D7803333231")
    assert result["version"] == "000008"
    assert result["location"] == "AAAAAA"
    assert result["fabrication_no"] == "123"


def test_remembered_fields_keep_the_value_of_an_earlier_telegram():
    driver = _driver(
        """
[[field]]
name = "location"
match = { dif_vif = "0CFD10" }
format = "text"
remember = true

[[field]]
name = "total"
unit = "m3"
match = { vif = "volume" }
"""
    )
    remembered: dict = {}
    first = _apply(driver, "0CFD1078563412", remembered)  # static telegram: the location only
    second = _apply(driver, "041301000000", remembered)  # readings only
    assert first["location"] == "12345678" and "total_m3" not in first
    assert second["location"] == "12345678" and second["total_m3"] == 0.001
    assert "location" not in _apply(driver, "041301000000", {})  # another meter: nothing kept


def test_the_decoder_keeps_remembered_values_per_meter():
    from sdr_wmbus.decoder import TelegramDecoder

    decoder = TelegramDecoder()
    assert decoder._remembered_for("1") is decoder._remembered_for("1")
    assert decoder._remembered_for("1") is not decoder._remembered_for("2")


def test_inverse_compact_profile_elements_become_synthetic_records():
    from sdr_wmbus.app.profiles import expand_profile
    from sdr_wmbus.app.records import parse_apl

    # HCA, storage 8, inverse compact profile: monthly BCD6 elements 99, 52, 10, 0, then unfilled.
    profile = "8D04EE1320" + "3BFE" + "990000520000100000000000" + "FF" * 18
    (record,) = parse_apl(bytes.fromhex(profile)).records
    elements = expand_profile(record)
    assert [(e.storage, e.value) for e in elements] == [(9, 99), (10, 52), (11, 10), (12, 0)]
    assert all(e.quantity == "hca" and e.modifiers == ("synthetic",) for e in elements)
    increments = bytearray(bytes.fromhex(profile))
    increments[5] |= 0x40  # increment mode 1: not unpacked
    assert expand_profile(parse_apl(bytes(increments)).records[0]) == []


def test_expand_profiles_lets_fields_match_the_elements():
    driver = _driver(
        """
[[field]]
name = "base_date"
match = { vif = "date", storage = 8 }
format = "date"

[[field]]
name = "consumption_{storage - 8}"
unit = "hca"
match = { vif = "hca", storage = [9, 40], modifiers = ["synthetic"] }

[[field]]
name = "consumption_{storage - 8}"
match = { vif = "hca", storage = [9, 40], modifiers = ["synthetic"] }
formula = "add_months(base_date, 8 - storage)"
""",
        "expand_profiles = true",
    )
    profile = "8D04EE1311" + "3BFE" + "990000520000100000" + "FF" * 6
    result = _apply(driver, "82046C4138" + profile)  # base date 2026-08-01
    assert result["consumption_1_hca"] == 99 and result["consumption_1"] == "2026-07-01"
    assert result["consumption_3_hca"] == 10 and result["consumption_3"] == "2026-05-01"
    assert "consumption_4_hca" not in result
    plain = _driver(
        """
[[field]]
name = "consumption_{storage - 8}"
unit = "hca"
match = { vif = "hca", storage = [9, 40], modifiers = ["synthetic"] }
"""
    )
    assert "consumption_1_hca" not in _apply(plain, profile)


def test_aliases_may_have_hyphens_as_wmbusmeters_older_names_do():
    import pytest

    from sdr_wmbus.drivers.spec import DriverFileError

    assert _driver("", 'aliases = ["engelmann-faw"]').aliases == ("engelmann-faw",)
    with pytest.raises(DriverFileError):
        _driver("", 'aliases = ["-faw"]')
    with pytest.raises(DriverFileError):
        _driver("", 'aliases = ["Engelmann FAW"]')
