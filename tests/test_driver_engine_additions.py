"""Driver format additions: hook-supplied records and ``when_invalid``."""

from __future__ import annotations

import sys
import types

import pytest

from sdr_wmbus.app.records import read_record
from sdr_wmbus.drivers import engine
from sdr_wmbus.drivers.spec import DriverFileError, parse_driver
from sdr_wmbus.telegram import Identity, Telegram

HEADER = """
name = "example"
meter_type = "water"
"""


def _telegram(records_hex: list[str]) -> Telegram:
    from sdr_wmbus.app.records import Apl

    records = [read_record(bytes.fromhex(text), 0)[0] for text in records_hex]
    identity = Identity("12345678", "ABC", 1, 7, b"", b"")
    telegram = Telegram(frame=b"", identity=identity)
    telegram.apl = Apl(records=records)
    return telegram


def test_when_invalid_is_printed_for_a_record_without_value():
    driver = parse_driver(
        HEADER
        + """
[[field]]
name = "error_date"
match = { vif = "date", measurement = "error" }
format = "date"
when_invalid = ""

[[field]]
name = "other_error_date"
match = { vif = "date", measurement = "error" }
format = "date"
""",
        "example.toml",
    )
    out = engine.apply(driver, _telegram(["326CFFFF"]), None)
    assert out["error_date"] == ""
    assert out["other_error_date"] is None  # the default stays null
    valid = engine.apply(driver, _telegram(["326C9F2C"]), None)
    assert valid["error_date"] == "2020-12-31"


def test_when_invalid_must_be_a_value():
    with pytest.raises(DriverFileError, match="when_invalid"):
        parse_driver(
            HEADER + '[[field]]\nname = "x"\nmatch = { vif = "date" }\nwhen_invalid = [1]\n', "example.toml"
        )


@pytest.fixture
def records_hook(monkeypatch):
    """A hook module with records() only: it turns a proprietary record into a volume record."""

    def records(telegram: Telegram):
        found = [r for r in telegram.apl.records if r.header == bytes.fromhex("0DFF5F")]
        return [read_record(bytes.fromhex("0C13") + r.data[:4], 0)[0] for r in found]

    module = types.ModuleType("sdr_wmbus.drivers.hooks.example_records")
    module.records = records  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.delitem(engine._HOOKS, "example_records", raising=False)
    yield "example_records"
    engine._HOOKS.pop("example_records", None)


def test_hook_records_are_matched_like_the_telegrams_own(records_hook):
    driver = parse_driver(
        HEADER
        + f'hook = "{records_hook}"\n[[field]]\nname = "total"\nunit = "m3"\nmatch = {{ vif = "volume" }}\n',
        "example.toml",
    )
    telegram = _telegram(["0DFF5F0478563412"])
    out = engine.apply(driver, telegram, None)
    assert out["total_m3"] == 12345.678
    assert engine.hook_function(records_hook)(telegram) == {}  # a hook without decode() gives no fields
    assert len(telegram.apl.records) == 1  # the telegram's own records are left as they were


def test_a_hook_module_needs_decode_or_records(monkeypatch):
    module = types.ModuleType("sdr_wmbus.drivers.hooks.example_empty")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    from sdr_wmbus.errors import DecodeError

    with pytest.raises(DecodeError, match="neither"):
        engine.hook_function("example_empty")


def test_a_test_telegram_that_is_not_hex_is_an_error_not_a_crash():
    from sdr_wmbus.drivers.testing import decode_test, mismatches

    driver = parse_driver(HEADER + '[[test]]\ntelegram = "3C4"\nexpected = \'{"id": "1"}\'\n', "example.toml")
    result = decode_test(driver, driver.tests[0])
    assert result == {"error": "not a hex telegram: odd number of hex digits (3)"}
    assert mismatches(driver, driver.tests[0], result)[0].startswith("error: not a hex telegram")


def test_a_reference_number_rounded_to_six_decimals_matches():
    from sdr_wmbus.drivers.testing import values_equal

    assert values_equal(0.004722, 17 / 3600)  # 0.0047222...: wmbusmeters prints 6 decimals
    assert values_equal(856.416667, 30831 / 36)
    assert not values_equal(0.004722, 0.004723)
    assert not values_equal(0.0047, 17 / 3600)
