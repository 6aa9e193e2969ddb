"""Bmeters RFM-TX1 water meter radio module (BMT, version 0x05, device type 0x07).

Older modules send TPL configuration 0x1006 (security mode 16, manufacturer specific): the payload is
not EN 13757-3 records. Counted in the CRC-free frame from the L-field (index 0)::

    11       TPL access number: the obfuscation key byte k
    15..20   six obfuscated bytes; byte i is plain = sent ^ k ^ MASKS[k & 0x0f][i]. Plain bytes 2..5
             are the total in litres, 8 BCD digits, least significant byte first
    28..33   meter time, BCD, sent in clear: second, minute, hour, day, month, year (+2000)

Newer modules send ordinary records; the driver file reads those, and this hook gives nothing for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

OBFUSCATED_CONFIG = 0x1006
KEY_OFFSET = 11
TOTAL_OFFSET = 15
TIME_OFFSET = 28
MIN_FRAME_LENGTH = TIME_OFFSET + 6

# One row of six mask bytes per value of the key's low nibble.
MASKS = (
    (117, 150, 122, 16, 26, 10),
    (91, 127, 112, 19, 34, 19),
    (179, 24, 185, 11, 142, 153),
    (142, 125, 121, 7, 74, 22),
    (181, 145, 7, 154, 203, 105),
    (184, 163, 50, 161, 57, 14),
    (189, 128, 156, 126, 96, 153),
    (39, 92, 180, 196, 128, 163),
    (48, 208, 10, 206, 25, 3),
    (194, 76, 240, 5, 165, 134),
    (84, 75, 22, 152, 17, 94),
    (75, 238, 12, 201, 125, 162),
    (135, 202, 74, 72, 228, 31),
    (196, 135, 119, 46, 138, 232),
    (227, 48, 189, 120, 87, 140),
    (164, 154, 57, 111, 40, 5),
)


def _bcd(byte: int) -> int | None:
    high, low = byte >> 4, byte & 0x0F
    return None if high > 9 or low > 9 else high * 10 + low


def plain_total_bytes(frame: bytes) -> bytes:
    """The six de-obfuscated bytes that hold the total."""
    key = frame[KEY_OFFSET]
    masks = MASKS[key & 0x0F]
    return bytes(frame[TOTAL_OFFSET + i] ^ key ^ masks[i] for i in range(6))


def total_litres(frame: bytes) -> int:
    litres = 0
    for byte in reversed(plain_total_bytes(frame)[2:6]):
        digits = _bcd(byte)
        if digits is None:
            raise DecodeError(f"rfmtx1: total is not BCD after de-obfuscation (byte 0x{byte:02X})")
        litres = litres * 100 + digits
    return litres


def meter_time(frame: bytes) -> str | None:
    """'YYYY-MM-DD HH:MM' from the clear BCD time, or None when it is not a valid time."""
    parts = [_bcd(b) for b in frame[TIME_OFFSET : TIME_OFFSET + 6]]
    if any(p is None for p in parts):
        return None
    second, minute, hour, day, month, year = parts  # type: ignore[misc]
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        return None
    return f"{2000 + year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"


def decode(telegram: Telegram) -> dict:
    """Total and meter time of the obfuscated (configuration 0x1006) frames; nothing for others."""
    if telegram.tpl is None or telegram.tpl.config != OBFUSCATED_CONFIG:
        return {}
    frame = telegram.frame
    if len(frame) < MIN_FRAME_LENGTH:
        raise DecodeError(f"rfmtx1: frame is {len(frame)} bytes, too short for the obfuscated layout")
    out: dict = {"total_m3": total_litres(frame) / 1000}
    time = meter_time(frame)
    if time is not None:
        out["meter_datetime"] = time
    return out
