"""Apator 162 water meter (APA, version 0x05, device types 0x06/0x07).

The meter sends an ordinary OMS frame (CI 0x7A, security mode 5, the key is often all zeros), but the
decrypted APL after the ``2F 2F`` marker is not EN 13757-3 records; it is Apator's own register list::

    2F 2F | lead (1: 0x0F or 0x8x) | status (7) | tag, data ... | FF padding (0..n) | checksum (2..4)

Each tag has a fixed data length (table below). Only tag 0x10 is understood so far: a 4-byte
little-endian total volume in litres. Other tags are walked over by length: dates (0x00), faults
(0x01), flow (0x11), monthly history blocks (0x71..0x7C: one byte then 1..12 four-byte values), and
many vendor registers whose meaning is not public. The walk must land exactly on the 2-byte checksum,
or on FF padding followed by at most 4 checksum bytes (some meters send 4); an unknown tag, or a walk
that overruns, means we cannot trust any value. The checksum algorithm is unknown, so it is not
verified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

TOTAL_VOLUME_TAG = 0x10
LEAD_AND_STATUS_LENGTH = 1 + 7
CHECKSUM_LENGTH = 2
MAX_CHECKSUM_LENGTH = 4


def _tag_lengths() -> dict[int, int]:
    """Data length (bytes after the tag byte) of every register tag seen from these meters."""
    lengths = {
        0x00: 4,
        0x01: 3,
        0x10: 4,
        0x11: 2,
        0x40: 6,
        0x41: 2,
        0x42: 4,
        0x43: 2,
        0x44: 3,
        0x8A: 9,
        0x8B: 6,
        0x8C: 6,
        0x8E: 7,
        0xA0: 4,
        0xA1: 4,
        0xA2: 1,
        0xA3: 7,
        0xA4: 4,
        0xA5: 1,
        0xA6: 3,
        0xA9: 1,
        0xAF: 1,
        0xB0: 5,
        0xB1: 8,
        0xB2: 16,
        0xB3: 8,
        0xB4: 2,
        0xB5: 16,
        0xD0: 3,
        0xD3: 3,
        0xF0: 4,
    }
    # History blocks: one header byte, then (tag - 0x70 + 1) four-byte values.
    for tag in range(0x71, 0x7D):
        lengths[tag] = 1 + 4 * (tag - 0x70 + 1)
    for tag in (0x80, 0x81, 0x82, 0x83, 0x84, 0x86, 0x87):
        lengths[tag] = 10
    for tag in (0x85, 0x88, 0x8F):
        lengths[tag] = 11
    for tag in (0xA7, 0xA8, 0xAA, 0xAB, 0xAC, 0xAD):
        lengths[tag] = 2
    for tag in [*range(0xB6, 0xC0), *range(0xC0, 0xC8)]:
        lengths[tag] = 3
    return lengths


TAG_LENGTHS = _tag_lengths()


def registers(apl: bytes) -> dict[int, bytes]:
    """Tag -> data of the register list in a decrypted APL (first occurrence of a tag wins)."""
    if apl[:2] != b"\x2f\x2f":
        raise DecodeError("apator162: decrypted payload does not start with 2F2F")
    pos = 2 + LEAD_AND_STATUS_LENGTH
    end = len(apl) - CHECKSUM_LENGTH
    if end < pos:
        raise DecodeError("apator162: payload too short for the status block and checksum")
    found: dict[int, bytes] = {}
    while pos != end:
        tag = apl[pos]
        if tag == 0xFF:  # padding, then the checksum
            while pos < len(apl) and apl[pos] == 0xFF:
                pos += 1
            if len(apl) - pos > MAX_CHECKSUM_LENGTH:
                raise DecodeError(f"apator162: {len(apl) - pos} bytes after the FF padding")
            break
        length = TAG_LENGTHS.get(tag)
        if length is None:
            raise DecodeError(f"apator162: unknown register tag 0x{tag:02X} at offset {pos}")
        if pos + 1 + length > end:
            raise DecodeError(f"apator162: register 0x{tag:02X} at offset {pos} runs into the checksum")
        found.setdefault(tag, apl[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return found


def decode(telegram: Telegram) -> dict:
    """total_m3 from the register list of the decrypted APL."""
    found = registers(telegram.payload)
    fields: dict = {}
    total = found.get(TOTAL_VOLUME_TAG)
    if total is not None:
        fields["total_m3"] = int.from_bytes(total, "little") / 1000
    return fields
