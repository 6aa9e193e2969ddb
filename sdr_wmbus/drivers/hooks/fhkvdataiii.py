"""Techem FHKV data III heat cost allocator (TCH, versions 0x69/0x94, device type 0x80, CI 0xA0/0xA2).

Plain but proprietary payload after the CI (little-endian)::

    0  layout byte: 0x01 or 0x11, or 0x0F (one extra byte before the temperatures)
    1  previous billing date (2): day b4..0, month b8..5, year b15..9 (+2000)
    3  HCA units at the previous billing date (2)
    5  current date (2): day b8..4, month b12..9 (no year: follows the billing date)
    7  HCA units since the billing date (2)
    9  [0x0F layout: one byte, not decoded]
    .  room temperature (2, 0.01 C), radiator temperature (2, 0.01 C)
    .  history (not decoded)

The current date's year is the billing year unless the month/day lies on or before the billing
date's month/day (then the year has rolled over). A day or month of 0 reads as 1 / 12.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ...errors import DecodeError
from .techem import checked_date, previous_billing_date, word

if TYPE_CHECKING:
    from ...telegram import Telegram

# Layout byte -> offset of the room temperature.
TEMPERATURE_OFFSETS = {0x01: 9, 0x11: 9, 0x0F: 10}


def billing_dates(payload: bytes) -> tuple[date, date]:
    """(previous billing date, current date) from the two packed date words."""
    previous = previous_billing_date("fhkvdataiii", payload)
    current_raw = word(payload, 5)
    month = (current_raw >> 9) & 0xF or 12
    day = (current_raw >> 4) & 0x1F or 1
    rolled_over = (month, day) <= (previous.month, previous.day)
    return previous, checked_date("fhkvdataiii", previous.year + rolled_over, month, day, "current date")


def decode(telegram: Telegram) -> dict:
    """HCA units now and at the billing date, both dates, room and radiator temperature."""
    payload = telegram.payload
    if not payload:
        raise DecodeError("fhkvdataiii: empty payload")
    temperature_offset = TEMPERATURE_OFFSETS.get(payload[0])
    if temperature_offset is None:
        raise DecodeError(f"fhkvdataiii: unknown payload layout 0x{payload[0]:02X}")
    if len(payload) < temperature_offset + 4:
        raise DecodeError(f"fhkvdataiii: payload is {len(payload)} bytes, {temperature_offset + 4} expected")
    previous_date, current_date = billing_dates(payload)
    return {
        "current_hca": word(payload, 7),
        "current_date": current_date.isoformat(),
        "previous_hca": word(payload, 3),
        "previous_date": previous_date.isoformat(),
        "temp_room_c": word(payload, temperature_offset) / 100,
        "temp_radiator_c": word(payload, temperature_offset + 2) / 100,
    }
