"""BFW 240 radio heat cost allocators (BFW, type 0x08, version 0x02, CI 0x7A, unencrypted).

The short TPL header announces no encryption and the APL starts with ``2F 2F``, but what follows
is not EN 13757-3 records: it is a fixed 40-byte register dump (offsets into the APL)::

    off  size  field
    0    2     2F 2F
    2    2     (unknown)
    4    2     consumption at the end of the previous billing period, uint16 big-endian
    6    2     consumption in the current billing period, uint16 big-endian
    8    2     (unknown)
    10   27    monthly history, nine 3-byte groups from the oldest pair (months 18/17) to the newest
               (months 2/1); each group b0 b1 b2 packs two 12-bit values:
               newer month = (b1 & 0x0F) << 8 | b2, older month = (b1 >> 4) << 8 | b0
    37   3     device date: day, month, year (from 2000), one BCD byte each

Field names follow wmbusmeters' ``bfw240radio`` driver so that users can migrate.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

PAYLOAD_LENGTH = 40
PREV_OFFSET = 4
CURRENT_OFFSET = 6
HISTORY_OFFSET = 10
HISTORY_PAIRS = 9  # 18 months
DATE_OFFSET = 37


def _bcd_byte(value: int) -> int:
    high, low = value >> 4, value & 0x0F
    if high > 9 or low > 9:
        raise DecodeError(f"bfw240radio device date byte {value:02X} is not BCD")
    return high * 10 + low


def device_date(data: bytes) -> str:
    """Day, month, year BCD bytes as an ISO date; anything else means the dump is not what we think."""
    day, month, year = (_bcd_byte(b) for b in data)
    try:
        return datetime.date(2000 + year, month, day).isoformat()
    except ValueError:
        raise DecodeError(f"bfw240radio device date {data.hex().upper()} is not a date") from None


def monthly_history(data: bytes) -> list[int]:
    """The 18 monthly values, newest (1 month ago) first, from the nine packed 3-byte groups."""
    values: list[int] = []
    for pair in reversed(range(HISTORY_PAIRS)):  # the last group holds months 1 and 2
        b0, b1, b2 = data[3 * pair : 3 * pair + 3]
        values.append((b1 & 0x0F) << 8 | b2)
        values.append((b1 >> 4) << 8 | b0)
    return values


def decode(telegram: Telegram) -> dict:
    """Named fields of the register dump; DecodeError when its length, marker or date are off."""
    payload = telegram.payload
    if len(payload) != PAYLOAD_LENGTH or payload[:2] != b"\x2f\x2f":
        raise DecodeError(
            f"bfw240radio payload: expected {PAYLOAD_LENGTH} bytes starting 2F2F, got {len(payload)}"
        )
    fields: dict = {
        "current_hca": int.from_bytes(payload[CURRENT_OFFSET : CURRENT_OFFSET + 2], "big"),
        "prev_hca": int.from_bytes(payload[PREV_OFFSET : PREV_OFFSET + 2], "big"),
    }
    history = monthly_history(payload[HISTORY_OFFSET:DATE_OFFSET])
    for months_ago, value in enumerate(history, start=1):
        fields[f"prev_{months_ago:02d}_hca"] = value
    fields["device_date"] = device_date(payload[DATE_OFFSET : DATE_OFFSET + 3])
    return fields
