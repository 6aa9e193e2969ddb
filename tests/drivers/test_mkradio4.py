"""Techem MK Radio 4: a real telegram (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from .helpers import decode_hex, shortened

WARM = "2F446850200141029562A206702901006017030004000300000000000000000000000000000000000000000000000000"


def test_total_and_target() -> None:
    out = decode_hex(WARM)
    assert out["meter"] == "mkradio4"
    assert out["total_m3"] == 0.4
    assert out["target_m3"] == 0.1


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(WARM, 32))
    assert "error" in out and "total_m3" not in out
