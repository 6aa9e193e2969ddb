"""Techem Vario 4 type 4.5.1 heat meter (TCH, version 0x27, device types 0x04 / 0xC3, CI 0xA2).

Proprietary payload after the CI; two little-endian words are understood::

    3  energy used in the previous billing period (2, MJ)
    7  energy used in the current billing period (2, MJ)

total = previous + current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError
from ..units import DISPLAY_UNITS
from .techem import word

if TYPE_CHECKING:
    from ...telegram import Telegram

MIN_PAYLOAD_LENGTH = 9
KWH_PER_MJ = DISPLAY_UNITS["mj"].factor


def decode(telegram: Telegram) -> dict:
    """Energy of the previous and the current billing period, and their sum, in kWh."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"vario451: payload is {len(payload)} bytes, too short")
    previous_mj = word(payload, 3)
    current_mj = word(payload, 7)
    return {
        "total_kwh": (previous_mj + current_mj) * KWH_PER_MJ,
        "current_kwh": current_mj * KWH_PER_MJ,
        "previous_kwh": previous_mj * KWH_PER_MJ,
    }
