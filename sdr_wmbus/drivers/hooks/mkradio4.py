"""Techem MK Radio 4 water meter (TCH, versions 0x95/0x70, device types 0x62 warm / 0x72 cold, CI 0xA2).

Plain but proprietary payload after the CI (all little-endian), the MK Radio 3 layout::

    0  lead byte (frame type, not decoded)
    1  previous billing date (2, packed; not reported: its meaning is unconfirmed for this model)
    3  volume at the previous billing date (2, 0.1 m3)
    5  current date (2, packed; not reported)
    7  volume since the previous billing date (2, 0.1 m3)
    9  history (not decoded)

total = previous + current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError
from .techem import word

if TYPE_CHECKING:
    from ...telegram import Telegram

MIN_PAYLOAD_LENGTH = 9


def decode(telegram: Telegram) -> dict:
    """Total and billing-date volume."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"mkradio4: payload is {len(payload)} bytes, too short")
    previous_tenths = word(payload, 3)
    current_tenths = word(payload, 7)
    return {
        "total_m3": (previous_tenths + current_tenths) / 10,
        "target_m3": previous_tenths / 10,
    }
