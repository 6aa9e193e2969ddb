"""Techem Vario 4.5.1: a short proprietary payload (the corpus cases are in the driver file)."""

from __future__ import annotations

from .helpers import decode_hex, shortened

FRAME = (
    "374468506549235827C3A2129F25383300A8622600008200800A2AF8"
    "62115175552877A36F26C9AB1CB24400000004000000000004908002"
)


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(FRAME, len(bytes.fromhex(FRAME)) - 19))
    assert "error" in out and "total_kwh" not in out
