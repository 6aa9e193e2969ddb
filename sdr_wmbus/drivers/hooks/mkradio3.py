"""Techem MK Radio 3 water meter (TCH, version 0x74, device types 0x62 warm / 0x72 cold, CI 0xA2).

Plain but proprietary payload after the CI (all little-endian)::

    0  lead byte (frame type, not decoded)
    1  previous billing date (2): day b4..0, month b8..5, year b15..9 (+2000)
    3  volume at the previous billing date (2, 0.1 m3)
    5  current date (2): day b8..4, month b12..9 (no year: it follows the previous billing date)
    7  volume since the previous billing date (2, 0.1 m3)
    9  daily/half-month history nibbles (not decoded)

total = previous + current. The current date's year is the billing year unless the month/day lies
on or before the billing date's month/day, in which case the year has rolled over.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ...errors import DecodeError
from .techem import checked_date, previous_billing_date, word

if TYPE_CHECKING:
    from ...telegram import Telegram

MIN_PAYLOAD_LENGTH = 9


def billing_dates(payload: bytes) -> tuple[date, date]:
    """(previous billing date, current date) from the two packed date words."""
    previous = previous_billing_date("mkradio3", payload)
    current_raw = word(payload, 5)
    month, day = (current_raw >> 9) & 0xF, (current_raw >> 4) & 0x1F
    rolled_over = (month, day) <= (previous.month, previous.day)
    return previous, checked_date("mkradio3", previous.year + rolled_over, month, day, "current date")


def decode(telegram: Telegram) -> dict:
    """Total and billing-date volume with both dates."""
    payload = telegram.payload
    if len(payload) < MIN_PAYLOAD_LENGTH:
        raise DecodeError(f"mkradio3: payload is {len(payload)} bytes, too short")
    previous_date, current_date = billing_dates(payload)
    previous_tenths = word(payload, 3)
    current_tenths = word(payload, 7)
    return {
        "total_m3": (previous_tenths + current_tenths) / 10,
        "target_m3": previous_tenths / 10,
        "current_date": current_date.isoformat(),
        "prev_date": previous_date.isoformat(),
    }
