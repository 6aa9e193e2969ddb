"""Driver-format additions (drivers-c): a formula computed for each matching record,
add_months_keep_end, a driver's own `media`, upper-case field names, numbers compared at six decimals,
hex digits of a BCD identifier that is not a number."""

from __future__ import annotations

import pytest

import sdr_wmbus.drivers as drivers
from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.drivers import DriverRegistry, builtin_drivers
from sdr_wmbus.drivers.formula import Formula, add_months, add_months_keep_end
from sdr_wmbus.drivers.spec import DriverFileError, parse_driver
from sdr_wmbus.drivers.testing import values_equal
from sdr_wmbus.security.keys import KeyStore

# A Maddalena EVO 868 telegram (wmbusmeters test data): volume records at storage 8..19 hold monthly
# history, the date record at storage 8 its reference date (a month's last day).
EVO868 = (
    "AC4424349418032150167A390000202F2F041356850000046D0A340B3C04FD17000000000E786858000000004413D0620000"
    "426CFF2C8401137A83000082016C1E3BD3013BCF0200C4016D09210E338104FD280182046C1E3B8404137A830000C40413BE"
    "7E00008405131A7B0000C405136B7600008406132A700000C40613ED6A00008407130F690000C40713536800008408136E67"
    "0000C40813EE65000084091330640000C40913D0620000"
)

DRIVER = """
name = "recordformula"
meter_type = "water"
media = "test water"
detect = [{ manufacturer = "ZZZ" }]

[[field]]
name = "history_reference_date"
match = { vif = "date", storage = 8 }
format = "date"

[[field]]
name = "history_{storage - 7}_date"
match = { vif = "volume", storage = [8, 19] }
formula = "add_months_keep_end(history_reference_date, 8 - storage)"

[[field]]
name = "twice_{storage}"
match = { vif = "volume", storage = [8, 9] }
unit = "l"
formula = "value * 2"
"""


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> dict:
    spec = parse_driver(DRIVER, "recordformula.toml")
    monkeypatch.setattr(drivers, "_REGISTRY", DriverRegistry([*builtin_drivers(), spec]))
    return TelegramDecoder(KeyStore(), driver="recordformula").decode(bytes.fromhex(EVO868), link_crc="none")


def test_formula_per_matching_record(decoded: dict) -> None:
    assert decoded["history_reference_date"] == "2024-11-30"
    assert decoded["history_1_date"] == "2024-11-30"
    assert decoded["history_2_date"] == "2024-10-31"
    assert decoded["history_10_date"] == "2024-02-29"
    assert decoded["history_12_date"] == "2023-12-31"
    assert "history_13_date" not in decoded


def test_record_value_in_the_field_unit(decoded: dict) -> None:
    assert decoded["twice_8_l"] == 2 * 33658
    assert decoded["twice_9_l"] == 2 * 32446
    assert "twice_10_l" not in decoded


def test_driver_media_replaces_the_device_type_name(decoded: dict) -> None:
    assert decoded["media"] == "test water"
    generic = TelegramDecoder(KeyStore(), driver="generic").decode(bytes.fromhex(EVO868), link_crc="none")
    assert generic["media"] == "cold water"


def test_add_months_keep_end() -> None:
    assert add_months_keep_end("2024-11-30", -1) == "2024-10-31"
    assert add_months("2024-11-30", -1) == "2024-10-30"  # unchanged: plain clamping
    assert add_months_keep_end("2024-03-31", -1) == "2024-02-29"
    assert add_months_keep_end("2024-11-15", -1) == "2024-10-15"
    assert add_months_keep_end("2023-02-28", 12) == "2024-02-29"
    assert Formula("add_months_keep_end(d, -2)").evaluate({"d": "2020-12-31"}) == "2020-10-31"
    assert Formula("add_months_keep_end(d, -2)").evaluate({}) is None


def test_match_and_formula_together_only_without_from_hook() -> None:
    bad = DRIVER + '\n[[field]]\nname = "x"\nmatch = "volume"\nformula = "1"\nfrom_hook = true\n'
    with pytest.raises(DriverFileError, match="exactly one of"):
        parse_driver(bad, "bad.toml")
    with pytest.raises(DriverFileError, match="media"):
        parse_driver(DRIVER.replace('media = "test water"', "media = 7"), "bad.toml")


def test_field_names_may_have_upper_case_letters() -> None:
    text = 'name = "upper"\n[[field]]\nname = "January_total"\nunit = "m3"\nmatch = "volume"\n'
    assert parse_driver(text, "upper.toml").fields[0].output_name() == "January_total_m3"
    with pytest.raises(DriverFileError, match="letters, digits"):
        parse_driver(text.replace("January_total", "total.m3"), "bad.toml")


def test_numbers_compare_at_the_printed_six_decimals() -> None:
    assert values_equal(3e-06, 10 / 3.6e6)  # 10 J/h in kW, printed 0.000003 by wmbusmeters
    assert values_equal(938.384667, 3378184800 / 3.6e6)
    assert not values_equal(4e-06, 10 / 3.6e6)
    assert not values_equal(0.000003, 0.0000045)


MADDALENA = (
    "4E4424349986012401077AF20000202F2F0413A7000000046D0E0C163B04FD17000000000E789986012401FF441300000000"
    "426C01018401134A00000082016C1F3AD3013B470500C4016D1B14153B"
)


def test_hex_format_prints_bcd_digits_that_are_not_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        'name = "hexdigits"\n[[field]]\nname = "fabrication_no"\nmatch = "fabrication_number"\n'
        'format = "hex"\n[[field]]\nname = "as_text"\nmatch = "fabrication_number"\nformat = "text"\n'
    )
    spec = parse_driver(text, "hexdigits.toml")
    monkeypatch.setattr(drivers, "_REGISTRY", DriverRegistry([*builtin_drivers(), spec]))
    out = TelegramDecoder(KeyStore(), driver="hexdigits").decode(bytes.fromhex(MADDALENA), link_crc="none")
    assert out["fabrication_no"] == "FF0124018699"
    assert out["as_text"] is None  # not a number
