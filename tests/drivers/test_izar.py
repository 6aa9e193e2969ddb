"""IZAR PRIOS frames: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

import pytest

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.drivers.hooks.izar import decode_prios
from sdr_wmbus.errors import DecodeError
from sdr_wmbus.security.diehl import DEFAULT_KEYS, fold_key, lfsr_keystream


def decode_hex(hex_text: str) -> dict:
    return TelegramDecoder().decode(bytes.fromhex(hex_text), link_crc="none")


SAP_BLOCKED = "1944304C72242421D401A2013D4013DD8B46A4999C1293E582CC"
DME_LONG = "2944A511780729662366A20118001378D3B3DB8CEDD77731F25832AAF3DA8CADF9774EA673172E8C61F2"
SAP_2015 = "1944304CDEFFE420CC01A263120013258F907B0AFF12529AC33B"
HYD_LEAK_BEFORE = "19442423860775035048A251520015BEB6B2E1ED623A18FC74A5"
SAP_SHORT_A0 = "1344304cf3628920Bc01a0712f03130ceB627a81"
HYD_LOW_BATTERY = "19442423850798160018A2410100133EBBD44081053F243A82A3"

CASES = [
    (SAP_BLOCKED, "21242472", 3.488, 3.486, "2019-09-30", 14.5, 8, "meter_blocked,underflow", "no_alarm"),
    (DME_LONG, "66236629", 16.76, 11.84, "2019-11-30", 12, 8, "no_alarm", "no_alarm"),
    (SAP_2015, "20e4ffde", 159.832, 157.76, "2021-02-01", 9, 32, "no_alarm", "no_alarm"),
    (HYD_LEAK_BEFORE, "48500375", 521.602, 519.147, "2021-11-15", 9, 8, "no_alarm", "leakage"),
    (HYD_LOW_BATTERY, "18001698", 835.689, 820.329, "2021-09-01", 0.5, 8, "no_alarm", "no_alarm"),
]


@pytest.mark.parametrize(
    ("hex_text", "meter_id", "total", "last_month", "date", "battery", "period", "current", "previous"), CASES
)
def test_prios_values(
    hex_text: str,
    meter_id: str,
    total: float,
    last_month: float,
    date: str,
    battery: float,
    period: int,
    current: str,
    previous: str,
) -> None:
    out = decode_hex(hex_text)
    assert "error" not in out, out
    assert out["meter"] == "izar"
    assert out["id"] == meter_id
    assert out["total_m3"] == total
    assert out["last_month_total_m3"] == last_month
    assert out["last_month_measure_date"] == date
    assert out["remaining_battery_life_y"] == battery
    assert out["transmit_period_s"] == period
    assert out["current_alarms"] == current
    assert out["previous_alarms"] == previous


def test_rotated_address_gives_the_printed_id_and_type() -> None:
    out = decode_hex(DME_LONG)
    identity = (out["id"], out["version"], out["device_type"], out["media"])
    assert identity == ("66236629", "0x78", "0x07", "water")


def test_sappel_serial_number() -> None:
    out = decode_hex(SAP_BLOCKED)
    assert (out["prefix"], out["serial_number"], out["manufacture_year"]) == ("C19UA", "145842", "2019")
    assert decode_hex(SAP_2015)["prefix"] == "C15SA"


def test_short_a0_frame_has_total_only() -> None:
    out = decode_hex(SAP_SHORT_A0)
    assert out["total_m3"] == 1248.146
    assert out["remaining_battery_life_y"] == 7.5
    assert out["current_alarms"] == "meter_blocked,mechanical_fraud"
    assert out["previous_alarms"] == "mechanical_fraud"
    assert out["serial_number"] == "003763"
    assert "last_month_total_m3" not in out


def test_other_prios_cis() -> None:
    a1 = decode_hex("1944A511780779194820A121170013355F8EDB2D03C6912B1E37")
    assert (a1["id"], a1["total_m3"], a1["last_month_measure_date"]) == ("20481979", 4.366, "2020-12-31")
    a3 = decode_hex("1944304c9c5824210c04a363140013716577ec59e8663ab0d31c")
    assert (a3["total_m3"], a3["last_month_total_m3"], a3["prefix"]) == (38.944, 38.691, "H19CA")


def test_keystream_properties() -> None:
    assert fold_key(DEFAULT_KEYS[0]) == 0x39BC8A10 ^ 0xE66D83F8
    assert lfsr_keystream(0, 4) == b"\x00\x00\x00\x00"  # the all-zero state never leaves zero
    assert len(set(lfsr_keystream(0x12345678, 64))) > 32


def test_changed_header_byte_breaks_the_seed() -> None:
    frame = bytearray.fromhex(SAP_BLOCKED)
    frame[13] ^= 0x01  # part of the seed: the check byte no longer comes out as 0x4B
    with pytest.raises(DecodeError):
        decode_prios(bytes(frame))
    out = decode_hex(frame.hex())
    assert "error" in out and "total_m3" not in out


def test_corrupted_check_byte_is_an_error() -> None:
    frame = bytearray.fromhex(HYD_LEAK_BEFORE)
    frame[15] ^= 0xFF
    out = decode_hex(frame.hex())
    assert out["error"].startswith("PRIOS")
    assert "total_m3" not in out
