"""Apator 172 water meter (APT, version 0x04, device type 0x11, CI 0xA0).

Plain but proprietary payload after the CI: the first 4 bytes are a little-endian counter that
wmbusmeters 3.0 divides by 3 and reports directly in m3 (the unit is therefore a third of a m3 as
far as the reference decoder is concerned; real meters may need another scale); the rest is not
decoded::

    0  counter (4, LE): total_m3 = counter / 3
    4  not decoded
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

COUNTS_PER_M3 = 3
MIN_PAYLOAD_LENGTH = 4


def decode(telegram: Telegram) -> dict:
    """Total volume from the leading counter."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"apator172: payload is {len(payload)} bytes, too short")
    counter = int.from_bytes(payload[:4], "little")
    return {"total_m3": round(counter / COUNTS_PER_M3, 6)}
