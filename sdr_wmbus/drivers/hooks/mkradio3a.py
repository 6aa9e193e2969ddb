"""Techem MK Radio 3a water meter (TCH, version 0x50, device type 0x72 cold water, CI 0xA2).

Plain but proprietary payload after the CI (little-endian)::

    0  two bytes (not decoded)
    2  current date (2): day b4..0, month b8..5, year b15..9 (+2000)
    4  total volume (3, 0.1 m3)
    7  twelve history slots of 3 bytes: one byte (not decoded), then a word whose low byte is the
       consumption of the first half and high byte of the second half of a month (0.1 m3)
    43 one trailing byte

Slot 0 is the month in progress. The consumption reported for a month ("rel" k months back)
depends on where we are in the current month: in the first half (day <= 15) the month's two halves
straddle slots, rel0 = low(slot 0) and rel_k = high(slot k-1) + low(slot k); later in the month
rel_k = low(slot k) + high(slot k). target_m3 is rel0 and ``last_<mon>_m3`` names rel_k by calendar
month (wmbusmeters' names).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

PAYLOAD_LENGTH = 44
HISTORY_OFFSET = 7
HISTORY_SLOTS = 12
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def current_date(raw: int) -> date:
    """The packed date word as a date, or DecodeError when it is not a real date."""
    year, month, day = 2000 + (raw >> 9), (raw >> 5) & 0xF, raw & 0x1F
    try:
        return date(year, month, day)
    except ValueError:
        raise DecodeError(f"mkradio3a: invalid current date {year:04d}-{month:02d}-{day:02d}") from None


def monthly_tenths(history: list[tuple[int, int]], early_in_month: bool) -> list[int]:
    """Consumption (0.1 m3) of the current month and the 11 before it, newest first."""
    if early_in_month:
        return [history[0][0]] + [history[k - 1][1] + history[k][0] for k in range(1, HISTORY_SLOTS)]
    return [low + high for low, high in history]


def decode(telegram: Telegram) -> dict:
    """Total, billing date and the monthly consumption of the last year."""
    payload = telegram.payload
    if len(payload) < PAYLOAD_LENGTH:
        raise DecodeError(f"mkradio3a: payload is {len(payload)} bytes, expected {PAYLOAD_LENGTH}")
    today = current_date(int.from_bytes(payload[2:4], "little"))
    total_tenths = int.from_bytes(payload[4:7], "little")
    history = []
    for slot in range(HISTORY_SLOTS):
        offset = HISTORY_OFFSET + 3 * slot + 1
        history.append((payload[offset], payload[offset + 1]))  # (first half, second half)
    months = monthly_tenths(history, today.day <= 15)
    fields: dict = {
        "total_m3": total_tenths / 10,
        "target_m3": months[0] / 10,
        "target_date": today.isoformat(),
    }
    for back, tenths in enumerate(months):
        month_index = (today.month - 1 - back) % 12
        fields[f"last_{MONTH_NAMES[month_index]}_m3"] = tenths / 10
    return fields
