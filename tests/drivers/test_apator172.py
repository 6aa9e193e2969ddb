"""Apator 172: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

FIRST = "1C44148607A814000411A01D5400000840030000000005FF05D83D0000"
SECOND = "1C44148607A814000411A0215400000840030000000005FF05D83D0000"


def test_counter_scaled_by_a_third() -> None:
    out = decode_hex(FIRST)
    assert out["meter"] == "apator172"
    assert out["total_m3"] == 7177.666667
    assert decode_hex(SECOND)["total_m3"] == 7179


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(FIRST, 16))
    assert "error" in out and "total_m3" not in out
