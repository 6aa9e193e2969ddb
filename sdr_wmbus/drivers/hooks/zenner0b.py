"""Zenner water meter ZRI version 0x0B type 0x16: the readings sit in the manufacturer data after DIF
0x0F, not in standard records (all little-endian, 4 bytes each)::

    0  status flags (0: OK; any other value is reported as STATUS_<hex>)
    4  volume of the current month (the billing-period reading), in 1/256000 m3
    8  total volume, in 1/256000 m3
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

UNITS_PER_M3 = 256000
DATA_LENGTH = 12


def decode(telegram: Telegram) -> dict:
    """Status, target and total volume from the manufacturer data."""
    data = telegram.apl.manufacturer_data if telegram.apl is not None else b""
    if len(data) < DATA_LENGTH:
        raise DecodeError(f"zenner0b: manufacturer data is {len(data)} bytes, {DATA_LENGTH} needed")
    status, target, total = (int.from_bytes(data[i : i + 4], "little") for i in (0, 4, 8))
    return {
        "status": "OK" if status == 0 else f"STATUS_{status:X}",
        "target_m3": target / UNITS_PER_M3,
        "total_m3": total / UNITS_PER_M3,
    }
