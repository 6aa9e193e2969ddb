"""Helpers shared by the driver tests: decode a telegram through the whole stack, shorten a frame."""

from __future__ import annotations

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.keys import KeyStore


def decode_hex(hex_text: str, key: str | None = None, already_decrypted: bool = False) -> dict:
    keys = KeyStore(default_key=bytes.fromhex(key)) if key else KeyStore()
    return TelegramDecoder(keys).decode(
        bytes.fromhex(hex_text), already_decrypted=already_decrypted, link_crc="none"
    )


def shortened(hex_text: str, drop: int) -> str:
    """The frame without its last ``drop`` bytes, L field fixed so that only the payload is short."""
    frame = bytes.fromhex(hex_text)[:-drop]
    return (bytes([len(frame) - 1]) + frame[1:]).hex()
