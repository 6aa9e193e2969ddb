"""Techem MK Radio 3: what the driver file's [[test]] blocks cannot say (bad dates, short payloads).
The telegrams and values wmbusmeters gives for them are [[test]] blocks in
sdr_wmbus/drivers/defs/mkradio3.toml."""

from __future__ import annotations

from .helpers import decode_hex, shortened

APRIL = "2F446850313233347462A2069F255900B029310000000306060906030609070606050509050505050407040605070500"


def test_impossible_current_date_is_an_error() -> None:
    out = decode_hex(APRIL.replace("9F255900B029", "9F255900B03F"))  # month 15
    assert out["error"].startswith("mkradio3:") and "total_m3" not in out


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(APRIL, 30))
    assert out["error"].startswith("mkradio3:")
    assert "total_m3" not in out
