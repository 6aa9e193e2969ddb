"""Apator 08: a payload too short for the counter is an error (the telegrams wmbusmeters decodes, with
its values, are [[test]] blocks in sdr_wmbus/drivers/defs/apator08.toml)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

SHORT = "1C441486069C14000F0FA042F214000040030000000005FF0472BF1400"


def test_truncated_payload_is_an_error() -> None:
    assert decode_hex(SHORT)["total_m3"] == 457.579333
    out = decode_hex(shortened(SHORT, 16))
    assert "error" in out and "total_m3" not in out
