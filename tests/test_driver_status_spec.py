"""The status spec of driver files: renamed standard TPL bits and a status printed under another name."""

import pytest

from sdr_wmbus.drivers.engine import apply
from sdr_wmbus.drivers.spec import DriverFileError, parse_driver
from sdr_wmbus.drivers.status import tpl_status_words
from sdr_wmbus.telegram import Identity, Telegram

HEAD = 'name = "probe"\nmeter_type = "generic"\ndetect = [{ manufacturer = "ABC" }]\n'


def _telegram() -> Telegram:
    return Telegram(frame=b"", identity=Identity("00000001", "ABC", 1, 7, b"", b""))


def test_a_driver_word_replaces_a_standard_bit():
    assert tpl_status_words(0x08) == ["PERMANENT_ERROR"]
    assert tpl_status_words(0x08, {0x08: "MODULE_REMOVED"}) == ["MODULE_REMOVED"]
    assert tpl_status_words(0x4C, {0x08: "MODULE_REMOVED"}) == ["POWER_LOW", "MODULE_REMOVED", "UNKNOWN_40"]
    assert tpl_status_words(0x48, {0x40: "SABOTAGE"}) == ["PERMANENT_ERROR", "SABOTAGE"]


def test_tpl_bits_names_single_bits_from_0x04_only():
    driver = parse_driver(HEAD + 'status = { tpl_bits = { 0x08 = "MODULE_REMOVED" } }\n', "probe.toml")
    assert apply(driver, _telegram(), 0x08)["status"] == "MODULE_REMOVED"
    for bad in ("0x02", "0x03", "0x60"):
        with pytest.raises(DriverFileError, match="tpl_bits"):
            parse_driver(HEAD + f'status = {{ tpl_bits = {{ {bad} = "X" }} }}\n', "probe.toml")


def test_status_printed_under_another_name():
    driver = parse_driver(HEAD + 'status = { name = "error_flags" }\n', "probe.toml")
    out = apply(driver, _telegram(), 0x48)
    assert out == {"error_flags": "PERMANENT_ERROR UNKNOWN_40"}
    assert apply(driver, _telegram(), 0)["error_flags"] == "OK"
    with pytest.raises(DriverFileError, match="status name"):
        parse_driver(HEAD + 'status = { name = "Bad Name" }\n', "probe.toml")
