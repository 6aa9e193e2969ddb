"""Apator 08 water meter (APT, version/type 0x03/0x03 or 0x0F/0x0F, CI 0xA0).

Plain but proprietary payload after the CI: the first 4 bytes are a little-endian pulse counter,
three counts per litre (wmbusmeters scales it by 1/3 into litres); the rest (status and, on the long
frame, a history of counters) is not decoded::

    0  counter (4, LE): total_m3 = counter / 3 / 1000
    4  not decoded
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

COUNTS_PER_LITRE = 3
MIN_PAYLOAD_LENGTH = 4


def decode(telegram: Telegram) -> dict:
    """Total volume from the leading counter."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"apator08: payload is {len(payload)} bytes, too short")
    counter = int.from_bytes(payload[:4], "little")
    return {"total_m3": round(counter / COUNTS_PER_LITRE / 1000, 6)}
