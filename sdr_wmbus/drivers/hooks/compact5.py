"""Techem Compact V / Vario heat meter (TCH, versions 0x45/0x39/0x22, types 0x04/0x43/0xC3, CI 0xA1/0xA2).

Plain but proprietary payload after the CI (little-endian)::

    0  header (3, not decoded)
    3  energy of the previous billing period (3, kWh)
    6  one byte (not decoded)
    7  energy of the current billing period so far (3, kWh)
    10 history / further registers (not decoded)

total = previous + current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

MIN_PAYLOAD_LENGTH = 10


def decode(telegram: Telegram) -> dict:
    """Previous, current and total energy in kWh."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"compact5: payload is {len(payload)} bytes, too short")
    previous_kwh = int.from_bytes(payload[3:6], "little")
    current_kwh = int.from_bytes(payload[7:10], "little")
    return {
        "total_kwh": previous_kwh + current_kwh,
        "current_kwh": current_kwh,
        "previous_kwh": previous_kwh,
    }
