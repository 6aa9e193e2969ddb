"""Apator 172: real telegrams (wmbusmeters test data) with the values the reference decodes."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.keys import KeyStore


def decode_hex(hex_text: str, key: str | None = None, already_decrypted: bool = False) -> dict:
    keys = KeyStore(default_key=bytes.fromhex(key)) if key else KeyStore()
    return TelegramDecoder(keys).decode(bytes.fromhex(hex_text), already_decrypted=already_decrypted)


def shortened(hex_text: str, drop: int) -> str:
    """The frame without its last ``drop`` bytes, L field fixed so that only the payload is short."""
    frame = bytes.fromhex(hex_text)[:-drop]
    return (bytes([len(frame) - 1]) + frame[1:]).hex()


FIRST = "1C44148607A814000411A01D5400000840030000000005FF05D83D0000"
SECOND = "1C44148607A814000411A0215400000840030000000005FF05D83D0000"


def test_counter_scaled_by_a_third() -> None:
    out = decode_hex(FIRST)
    assert out["driver"] == "apator172"
    assert out["total_m3"] == 7177.666667
    assert decode_hex(SECOND)["total_m3"] == 7179


def test_truncated_payload_is_an_error() -> None:
    out = decode_hex(shortened(FIRST, 16))
    assert "error" in out and "total_m3" not in out
