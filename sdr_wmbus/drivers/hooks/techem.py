"""Byte helpers shared by the Techem drivers (MK Radio, FHKV data): little-endian words and the packed
16-bit billing date (day b4-0, month b8-5, year b15-9 from 2000)."""

from __future__ import annotations

from datetime import date

from ...errors import DecodeError


def word(payload: bytes, offset: int) -> int:
    return int.from_bytes(payload[offset : offset + 2], "little")


def checked_date(driver: str, year: int, month: int, day: int, what: str) -> date:
    """A real calendar date, or DecodeError (a bad date means the payload is not what we think)."""
    try:
        return date(year, month, day)
    except ValueError:
        raise DecodeError(f"{driver}: invalid {what} {year:04d}-{month:02d}-{day:02d}") from None


def previous_billing_date(driver: str, payload: bytes) -> date:
    """The previous billing date packed in the word at offset 1."""
    raw = word(payload, 1)
    return checked_date(driver, 2000 + (raw >> 9), (raw >> 5) & 0xF, raw & 0x1F, "billing date")
