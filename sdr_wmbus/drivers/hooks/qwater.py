"""Qundis (QDS) walk-by frames: CI 0x78 with a 53-byte ``0D FF 5F`` manufacturer record.

Qundis water and heat meters (and their radio converters, type 0x37) send two kinds of frames. The
standard one (CI 0x7A/0x72) has ordinary records that the generic driver names. The walk-by one has
CI 0x78, an optional enhanced-id record, one LVAR record ``0D FF 5F 35`` holding the block below,
then the meter date-time (``04 6D``) as an ordinary record. Block offsets, words little-endian::

    off  size  field
    0    9     (unknown; byte 2 counts up like an access number)
    9    1     VIF of every value below: 0x10-0x17 volume (0x13 = litres), 0x00-0x0F energy
               (Wh / J, e.g. 0x0D = 100 kJ)
    10   2     (FFFF in every known frame; perhaps the error date)
    12   4     current total, 8-digit BCD
    16   2     year-end set date (type G)                      = storage 1 date in the standard frame
    18   4     total at that date, 8-digit BCD                 = storage 1 value
    22   2     last month-end date (type G)                    = storage 17 date
    24   4     total at that date, 8-digit BCD                 = storage 17 value
    28   12*2  consumption in each of the 12 months up to the month-end date, signed int16, oldest
               first (wmbusmeters numbers them delta 2..13); 0x8000 = no value (before the meter
               was installed)
    52   1     2F filler

The registers are turned back into the records the meter sends in its standard frame (same DIF,
storage and VIF), so they get the same names from the generic driver (``total_m3``,
``target_m3``/``target_date``, ``total_storage_17_m3``/``meter_date_storage_17``; energy meters
``total_energy_consumption_kwh``, ...). The monthly values are named like wmbusmeters does:
``volume_delta_N_m3`` / ``energy_delta_N_kwh``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...app.records import read_record
from ...errors import DecodeError
from ..generic import record_name

if TYPE_CHECKING:
    from ...telegram import Telegram

WALK_BY_HEADER = bytes.fromhex("0DFF5F")
BLOCK_LENGTH = 0x35
VIF_OFFSET = 9
MONTHLY_OFFSET = 28
MONTHLY_COUNT = 12
FIRST_DELTA_NUMBER = 2
NO_VALUE = -0x8000

#: (DIF and DIFEs of the standard-frame record, offset, size) for each register in the block;
#: ``None`` as DIF marks the date records (VIF 0x6C).
REGISTERS: tuple[tuple[bytes, int, int], ...] = (
    (bytes.fromhex("0C"), 12, 4),  # current total
    (bytes.fromhex("42"), 16, 2),  # year-end set date (storage 1)
    (bytes.fromhex("4C"), 18, 4),  # total at the year-end set date
    (bytes.fromhex("C208"), 22, 2),  # month-end date (storage 17)
    (bytes.fromhex("CC08"), 24, 4),  # total at the month-end date
)
DATE_VIF = 0x6C
DELTA_DIF = 0x02  # 16-bit integer


def _is_value_vif(vif: int) -> bool:
    """Energy (0x00-0x0F) or volume (0x10-0x17) VIFs: the only units a walk-by block carries."""
    return vif <= 0x17


def _record_fields(header: bytes, data: bytes) -> tuple[str, object]:
    record, _ = read_record(header + data, 0)
    return record_name(record)


def decode_walk_by_block(block: bytes) -> dict:
    """Named fields of a walk-by block (the data of the ``0D FF 5F`` record)."""
    if len(block) != BLOCK_LENGTH:
        raise DecodeError(f"Qundis walk-by block has {len(block)} bytes, expected {BLOCK_LENGTH}")
    vif = block[VIF_OFFSET]
    if not _is_value_vif(vif):
        raise DecodeError(f"Qundis walk-by block with unexpected unit VIF 0x{vif:02X}")
    fields: dict = {}
    for dif, offset, size in REGISTERS:
        register_vif = DATE_VIF if size == 2 else vif
        name, value = _record_fields(dif + bytes((register_vif,)), block[offset : offset + size])
        fields[name] = value
    kind = "volume" if vif >= 0x10 else "energy"
    for index in range(MONTHLY_COUNT):
        offset = MONTHLY_OFFSET + 2 * index
        raw = block[offset : offset + 2]
        name, value = _record_fields(bytes((DELTA_DIF, vif)), raw)
        suffix = name.rsplit("_", 1)[-1]  # m3 or kwh, as the generic driver converts them
        number = FIRST_DELTA_NUMBER + index
        missing = int.from_bytes(raw, "little", signed=True) == NO_VALUE
        fields[f"{kind}_delta_{number}_{suffix}"] = None if missing else value
    return fields


def decode(telegram: Telegram) -> dict:
    """Fields of the walk-by block when the frame has one; other frames keep the generic names."""
    if telegram.apl is None:
        return {}
    for record in telegram.apl.records:
        if record.header == WALK_BY_HEADER:
            return decode_walk_by_block(record.data)
    return {}
