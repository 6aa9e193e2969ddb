"""Techem MK Radio 4: a payload too short for both volumes is an error (the telegram wmbusmeters
decodes, with its values, is a [[test]] block in sdr_wmbus/drivers/defs/mkradio4.toml)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

WARM = "2F446850200141029562A206702901006017030004000300000000000000000000000000000000000000000000000000"


def test_truncated_payload_is_an_error() -> None:
    assert decode_hex(WARM)["total_m3"] == 0.4
    out = decode_hex(shortened(WARM, 32))
    assert "error" in out and "total_m3" not in out
