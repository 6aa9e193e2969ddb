"""IZAR PRIOS frames: the hook's descrambling, its records and its error handling.

The drivers' own test telegrams (izar, izarv2) check the named fields.
"""

from __future__ import annotations

import pytest

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.drivers.hooks.izar import decode_prios
from sdr_wmbus.errors import DecodeError
from sdr_wmbus.security.diehl import DEFAULT_KEYS, fold_key, lfsr_keystream


def decode_hex(hex_text: str, driver: str | None = None) -> dict:
    return TelegramDecoder(driver=driver).decode(bytes.fromhex(hex_text), link_crc="none")


SAP_BLOCKED = "1944304C72242421D401A2013D4013DD8B46A4999C1293E582CC"
HYD_LEAK_BEFORE = "19442423860775035048A251520015BEB6B2E1ED623A18FC74A5"
SAP_SHORT_A0 = "1344304cf3628920Bc01a0712f03130ceB627a81"


def test_readings_are_records_both_drivers_name():
    izar = decode_hex(SAP_BLOCKED, driver="izar")
    izarv2 = decode_hex(SAP_BLOCKED)
    assert izarv2["meter"] == "izarv2"  # the newer driver detects PRIOS frames
    assert izar["total_m3"] == izarv2["total_m3"] == 3.488
    assert izar["last_month_total_m3"] == izarv2["target_m3"] == 3.486
    assert izar["remaining_battery_life_y"] == izarv2["battery_y"] == 14.5  # exactly: 29 half years
    assert "records" not in izarv2  # a proprietary payload: no records of its own to list


def test_alarm_texts_belong_to_the_izar_driver():
    izar = decode_hex(HYD_LEAK_BEFORE, driver="izar")
    izarv2 = decode_hex(HYD_LEAK_BEFORE)
    assert (izar["current_alarms"], izar["previous_alarms"]) == ("no_alarm", "leakage")
    assert izarv2["status"] == "PREV_LEAKAGE"
    assert "current_alarms" not in izarv2 and "previous_alarms" not in izarv2


def test_short_a0_frame_has_no_billing_value():
    out = decode_hex(SAP_SHORT_A0)
    assert out["total_m3"] == 1248.146
    assert "target_m3" not in out and "target_date" not in out
    assert out["status"] == "MECHANICAL_FRAUD METER_BLOCKED PREV_MECHANICAL_FRAUD"


def test_keystream_properties() -> None:
    assert fold_key(DEFAULT_KEYS[0]) == 0x39BC8A10 ^ 0xE66D83F8
    assert lfsr_keystream(0, 4) == b"\x00\x00\x00\x00"  # the all-zero state never leaves zero
    assert len(set(lfsr_keystream(0x12345678, 64))) > 32


def test_keystream_tables_shift_like_the_register() -> None:
    # the byte-at-a-time tables against the register shifted bit by bit (taps 1, 2, 11, 31)
    for seed in (1, 0x80000000, 0x12345678, 0xDEADBEEF, 0xFFFFFFFF):
        state, expected = seed, bytearray()
        for _ in range(40):
            for _ in range(8):
                feedback = ((state >> 1) ^ (state >> 2) ^ (state >> 11) ^ (state >> 31)) & 1
                state = ((state << 1) | feedback) & 0xFFFFFFFF
            expected.append(state & 0xFF)
        assert lfsr_keystream(seed, 40) == bytes(expected)


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
    for driver in (None, "izar"):
        out = decode_hex(frame.hex(), driver)
        assert out["error"].startswith("PRIOS")
        assert "total_m3" not in out


def test_frame_without_data_is_an_error() -> None:
    out = decode_hex("0E44304C72242421D401A2013D4013")  # the header only
    assert "truncated" in out["error"]
