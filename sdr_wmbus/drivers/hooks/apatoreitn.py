"""Apator E-ITN 30 heat cost allocator (APA or APT, version 0x04, device type 0x08, CI 0xA0/0xB6).

After CI 0xA0 the HCA block follows directly. After CI 0xB6 comes a length byte n (0..15), n bytes
not decoded, a 0xA0 marker, then the same block. The block (little-endian)::

    0  season start date, low byte (the high byte is always 0xA0)
    1  two bytes (not decoded)
    3  HCA units of the previous season (2)
    5  electronic seal break date (2, 0 = seal intact)
    7  HCA units of the current season (2)
    9  current date (2)
    11 average room temperature of the previous season (2, 1/256 C)
    13 average room temperature of the current season (2, 1/256 C)

Dates are packed words: day b4..0, month b8..5, year b12..9 (+2000).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

BLOCK_LENGTH = 15
BLOCK_MARKER = 0xA0
SEASON_START_HIGH_BYTE = 0xA0


def _word(block: bytes, offset: int) -> int:
    return int.from_bytes(block[offset : offset + 2], "little")


def packed_date(raw: int, what: str) -> str:
    """ISO date of a packed date word, or DecodeError when it is not a real date."""
    year, month, day = 2000 + ((raw >> 9) & 0x1F), (raw >> 5) & 0xF, raw & 0x1F
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise DecodeError(f"apatoreitn: invalid {what} {year:04d}-{month:02d}-{day:02d}") from None


def hca_block(ci: int | None, payload: bytes) -> bytes:
    """The 15-byte HCA block, wherever the frame variant puts it."""
    start = 0
    if ci == 0xB6:
        if not payload:
            raise DecodeError("apatoreitn: empty payload")
        skip = payload[0]
        if skip > 0x0F or len(payload) < skip + 2 or payload[skip + 1] != BLOCK_MARKER:
            raise DecodeError("apatoreitn: no 0xA0 marker where the CI 0xB6 prefix should end")
        start = skip + 2
    elif payload[:1] == bytes((BLOCK_MARKER,)) and len(payload) >= BLOCK_LENGTH + 1:
        start = 1
    block = payload[start : start + BLOCK_LENGTH]
    if len(block) < BLOCK_LENGTH:
        raise DecodeError(f"apatoreitn: HCA block is {len(block)} bytes, expected {BLOCK_LENGTH}")
    return block


def decode(telegram: Telegram) -> dict:
    """HCA units, dates, the seal word (for the status) and average room temperatures."""
    block = hca_block(telegram.ci, telegram.payload)
    seal_break = _word(block, 5)
    return {
        "current_hca": _word(block, 7),
        "previous_hca": _word(block, 3),
        "current_date": packed_date(_word(block, 9), "current date"),
        "season_start_date": packed_date((SEASON_START_HIGH_BYTE << 8) | block[0], "season start date"),
        "esb_date": packed_date(seal_break, "seal break date") if seal_break else None,
        "seal": "SEAL_BROKEN" if seal_break else "",
        "temp_room_avg_c": _word(block, 13) / 256,
        "temp_room_prev_avg_c": _word(block, 11) / 256,
    }
