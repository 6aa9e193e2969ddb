"""CRC-16/EN-13757 (poly 0x3D65, init 0, no reflection, final complement).

Used for the link-layer block CRCs, the ELL payload CRC and the compact-frame signatures.
"""

from __future__ import annotations

POLY = 0x3D65


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ POLY) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _make_table()


def crc16_en13757(data: bytes) -> int:
    """Return the CRC-16/EN-13757 of ``data`` (check value for b"123456789" is 0xC2B7)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ byte]
    return crc ^ 0xFFFF
