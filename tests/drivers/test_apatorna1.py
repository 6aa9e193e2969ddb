"""Apator NA-1: what the driver file's [[test]] blocks cannot say (the default key, errors).

The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/apatorna1.toml.
"""

from __future__ import annotations

from sdr_wmbus.drivers.hooks.apatorna1 import CURRENT_ALARM_FLAGS, flags_text

from .helpers import decode_hex, shortened

ZERO_KEY = "00" * 16
WINTER = "1C440106813591041407A0B000266A705474DDB80D9A0EB9AE2EF29D96"


def test_all_zero_key_when_none_is_configured() -> None:
    out = decode_hex(WINTER)
    assert (out["meter"], out["total_m3"], out["status"]) == ("apatorna1", 345.312, "OK")


def test_alarm_words() -> None:
    assert flags_text(0, CURRENT_ALARM_FLAGS) == "OK"
    assert flags_text(0x09, CURRENT_ALARM_FLAGS) == "LEAK BATTERY_LOW"


def test_corrupted_block_fails_its_marker_check() -> None:
    corrupted = WINTER[:-6] + "000000"
    out = decode_hex(corrupted, ZERO_KEY)
    assert "error" in out and "total_m3" not in out


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(WINTER, 4), ZERO_KEY)
    assert "error" in out and "total_m3" not in out
