"""Apator 172: a payload too short for the counter is an error (the telegrams wmbusmeters decodes,
with its values, are [[test]] blocks in sdr_wmbus/drivers/defs/apator172.toml)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

FIRST = "1C44148607A814000411A01D5400000840030000000005FF05D83D0000"


def test_truncated_payload_is_an_error() -> None:
    assert decode_hex(FIRST)["total_m3"] == 7177.666667
    out = decode_hex(shortened(FIRST, 16))
    assert "error" in out and "total_m3" not in out
