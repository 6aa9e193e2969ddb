"""Apator 08: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

SHORT = "1C441486069C14000F0FA042F214000040030000000005FF0472BF1400"
LONG = (
    "73441486DD4444000303A0B9E527004C4034B31CED0106FF01D093270065F022009661230054D02300EC49240018B424005F0125"
    "00936D2500FFD525000E3D26001EAC26000B2027000300000000371D0B2000000000000024000000000000280000000000002C00"
    "33150C010D2F000000000000"
)


def test_counter_scaled_by_a_third() -> None:
    out = decode_hex(SHORT)
    assert out["meter"] == "apator08"
    assert out["total_m3"] == 457.579333
    assert decode_hex(LONG)["total_m3"] == 871.571


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(SHORT, 16))
    assert "error" in out and "total_m3" not in out
