"""Decoders for the EN 13757-3 Annex A data types (A, B, C, D, F, G, H, I, J) and LVAR fields.

Each decoder takes exactly the data bytes of one field. Problems with the bytes themselves (wrong
length, a BCD nibble that is not a digit, a reserved LVAR code) raise :class:`DecodeError`; values the
meter itself marks as invalid (date ``FFFF``, the IV bit of a date-time) are returned as ``None``,
because that is information from the meter and not a decoding failure.
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from sdr_wmbus.errors import DecodeError, TruncatedError

#: Two-digit years up to this value are taken as 20xx, above as 19xx (no century field in G/I).
CENTURY_PIVOT = 80


def _need(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise TruncatedError(f"{what} needs {length} bytes, got {len(data)}")


def decode_int(data: bytes, signed: bool = True) -> int:
    """Type B (signed two's complement) or type C/D (unsigned) little-endian integer of any length."""
    if not data:
        raise DecodeError("integer field has no bytes")
    return int.from_bytes(data, "little", signed=signed)


def decode_bcd(data: bytes) -> int:
    """Type A: packed BCD, least significant byte first.

    An 0xF in the most significant nibble is a minus sign (EN 13757-3 Annex A); any other non-digit
    nibble raises :class:`DecodeError`, which the record parser turns into ``value=None``.
    """
    if not data:
        raise DecodeError("BCD field has no bytes")
    digits = data[::-1].hex()  # most significant digit first
    negative = digits[0] == "f"
    if negative:
        digits = digits[1:] or "0"
    if not digits.isdigit():
        raise DecodeError(f"invalid BCD digits {data[::-1].hex().upper()}")
    value = int(digits)
    return -value if negative else value


def decode_real(data: bytes) -> float | None:
    """Type H: IEEE-754 binary32, little endian; NaN (no valid number) becomes ``None``."""
    _need(data, 4, "type H real")
    (value,) = struct.unpack("<f", data)
    return value if math.isfinite(value) else None  # NaN/inf: no value (and no invalid JSON)


def _full_year(two_digit: int, hundred_years: int = 0) -> int | None:
    if two_digit > 99:
        return None
    if hundred_years:
        return 1900 + 100 * hundred_years + two_digit
    return (2000 if two_digit <= CENTURY_PIVOT else 1900) + two_digit


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date_text(year: int | None, month: int, day: int) -> str | None:
    """``'YYYY-MM-DD'``, or None for a date that does not exist (what ``datetime.date`` refuses)."""
    if year is None or not 1 <= month <= 12 or day < 1 or not 1 <= year <= 9999:
        return None
    if day > _DAYS_IN_MONTH[month] and not (
        month == 2 and day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    ):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _split_date(low: int, high: int) -> tuple[int, int, int]:
    """Day, month and 7-bit year from the two date bytes shared by types G, F and I."""
    day = low & 0x1F
    month = high & 0x0F
    year = ((high & 0xF0) >> 1) | ((low & 0xE0) >> 5)
    return day, month, year


@lru_cache(maxsize=4096)  # pure; every meter of a town sends today's date and the same billing dates
def _cp16_date(low: int, high: int, hundred_years: int = 0) -> str | None:
    """The date in the two date bytes of types G, F and I, as text (None if it does not exist)."""
    day, month, year = _split_date(low, high)
    return _date_text(_full_year(year, hundred_years), month, day)


def decode_date_g(data: bytes) -> str | None:
    """Type G (CP16 date) -> ``'YYYY-MM-DD'``; ``FFFF`` or an impossible date -> ``None``."""
    _need(data, 2, "type G date")
    if data == b"\xff\xff":
        return None
    return _cp16_date(data[0], data[1])


def decode_datetime_f(data: bytes) -> str | None:
    """Type F (CP32 date+time) -> ``'YYYY-MM-DD HH:MM'``; IV bit set or impossible values -> ``None``."""
    _need(data, 4, "type F date-time")
    if data[0] & 0x80:
        return None
    minute = data[0] & 0x3F
    hour = data[1] & 0x1F
    hundred_years = (data[1] >> 5) & 0x03
    date = _cp16_date(data[2], data[3], hundred_years)
    if date is None or minute > 59 or hour > 23:
        return None
    return f"{date} {hour:02d}:{minute:02d}"


def decode_datetime_i(data: bytes) -> str | None:
    """Type I (CP48 date+time with seconds) -> ``'YYYY-MM-DD HH:MM:SS'``; IV bit -> ``None``."""
    _need(data, 6, "type I date-time")
    if data[1] & 0x80:
        return None
    second = data[0] & 0x3F
    minute = data[1] & 0x3F
    hour = data[2] & 0x1F
    date = _cp16_date(data[3], data[4])
    if date is None or second > 59 or minute > 59 or hour > 23:
        return None
    return f"{date} {hour:02d}:{minute:02d}:{second:02d}"


def decode_time_j(data: bytes) -> str | None:
    """Type J (CP24 time of day) -> ``'HH:MM:SS'``; out-of-range fields -> ``None``."""
    _need(data, 3, "type J time")
    second = data[0] & 0x3F
    minute = data[1] & 0x3F
    hour = data[2] & 0x1F
    if second > 59 or minute > 59 or hour > 23:
        return None
    return f"{hour:02d}:{minute:02d}:{second:02d}"


#: Date/time type used for a date VIF (0x6C, 0x6D, ...) by the length of its data field.
DATETIME_DECODERS = {
    2: decode_date_g,
    3: decode_time_j,
    4: decode_datetime_f,
    6: decode_datetime_i,
}


def decode_datetime(data: bytes) -> str | None:
    """Pick type G/J/F/I by data length, as EN 13757-3 does for VIF 0x6C/0x6D."""
    decoder = DATETIME_DECODERS.get(len(data))
    if decoder is None:
        raise DecodeError(f"no date/time type has {len(data)} bytes")
    return decoder(data)


def decode_text(data: bytes) -> str:
    """LVAR / plain-text characters: ISO-8859-1, sent last character first, returned readable."""
    return data[::-1].decode("latin-1")


# LVAR length byte (EN 13757-3:2018 Table 5).
LVAR_TEXT_MAX = 0xBF


def lvar_length(lvar: int) -> int:
    """Number of data bytes that follow an LVAR length byte; reserved codes raise DecodeError."""
    if lvar <= LVAR_TEXT_MAX:
        return lvar
    if 0xC0 <= lvar <= 0xC9:
        return lvar - 0xC0
    if 0xD0 <= lvar <= 0xD9:
        return lvar - 0xD0
    if 0xE0 <= lvar <= 0xEF:
        return lvar - 0xE0
    if 0xF0 <= lvar <= 0xF4:
        return 4 * (lvar - 0xEC)
    if lvar == 0xF5:
        return 48
    if lvar == 0xF6:
        return 64
    raise DecodeError(f"reserved LVAR code 0x{lvar:02X}")


def lvar_kind(lvar: int) -> str:
    """``'text'``, ``'bcd'``, ``'negative_bcd'`` or ``'binary'`` for a (non-reserved) LVAR byte."""
    if lvar <= LVAR_TEXT_MAX:
        return "text"
    if 0xC0 <= lvar <= 0xC9:
        return "bcd"
    if 0xD0 <= lvar <= 0xD9:
        return "negative_bcd"
    lvar_length(lvar)  # raises for reserved codes
    return "binary"


def decode_lvar(lvar: int, payload: bytes) -> int | str | None:
    """Value of an LVAR field: text -> str, BCD -> int, binary -> unsigned int (<= 8 bytes) or hex.

    Invalid BCD digits raise :class:`DecodeError`; an empty BCD/binary field gives ``None``.
    """
    _need(payload, lvar_length(lvar), f"LVAR 0x{lvar:02X}")
    kind = lvar_kind(lvar)
    if kind == "text":
        return decode_text(payload)
    if not payload:
        return None
    if kind == "bcd":
        return decode_bcd(payload)
    if kind == "negative_bcd":
        return -decode_bcd(payload)
    if len(payload) <= 8:
        return decode_int(payload, signed=False)
    return payload.hex().upper()
