"""Qundis (QDS) walk-by frames: the 53-byte ``0D FF 5F`` manufacturer block, read back into records.

Qundis water and heat meters, heat cost allocators and their radio converters (type 0x37) send two
kinds of frames. The standard one (CI 0x7A/0x72) has ordinary records. The walk-by one (CI 0x78) has an
optional enhanced-identification record, one LVAR record ``0D FF 5F 35`` holding the block below, then
the meter date-time (``04 6D``) as an ordinary record. Block offsets, words little-endian::

    off  size  field
    0    9     (unknown; byte 2 counts up like an access number)
    9    1     VIF of every value below: 0x00-0x0F energy (Wh / J, e.g. 0x0D = 100 kJ),
               0x10-0x17 volume (0x13 = litres), 0x6E heat cost allocation units
    10   2     date the meter entered an error state (type G; FFFF: none)  = ``32 6C`` in the standard frame
    12   4     current total, 8-digit BCD                                   = ``0C vv``
    16   2     year-end set date (type G)                                   = ``42 6C`` (storage 1)
    18   4     total at that date, 8-digit BCD                              = ``4C vv``
    22   2     last month-end date (type G)                                 = ``C2 08 6C`` (storage 17)
    24   4     total at that date, 8-digit BCD                              = ``CC 08 vv``
    28   12*2  energy or volume used in each of the 12 months up to the month-end date, signed int16,
               oldest first; 0x8000 = no value (before the meter was installed)
    52   1     2F filler

:func:`records` turns the registers back into the records the meter sends in its standard frame (same
DIF, storage and VIF), so that a driver's fields name both kinds of frame alike. The monthly values
have no standard record: they become manufacturer-specific records (the VIF followed by VIFE 0x7F) of
storage 2 to 13, oldest first, as wmbusmeters numbers them (``volume_delta_2_m3`` ... ``_13_m3``).
Blocks of another length are other manufacturer records, and blocks with another unit VIF have a
layout we do not know (some heat cost allocators send them scrambled): neither gives records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...app.records import Record, parse_apl
from ...errors import DecodeError

if TYPE_CHECKING:
    from ...telegram import Telegram

WALK_BY_HEADER = bytes.fromhex("0DFF5F")
BLOCK_LENGTH = 0x35
VIF_OFFSET = 9
MONTHLY_OFFSET = 28
MONTHLY_COUNT = 12
FIRST_MONTH_STORAGE = 2
NO_VALUE = -0x8000
HCA_VIF = 0x6E
MANUFACTURER_VIFE = 0x7F

#: (DIF and DIFEs of the standard-frame record, offset, size, True for a date) for each register.
REGISTERS: tuple[tuple[bytes, int, int, bool], ...] = (
    (bytes.fromhex("32"), 10, 2, True),  # error date
    (bytes.fromhex("0C"), 12, 4, False),  # current total
    (bytes.fromhex("42"), 16, 2, True),  # year-end set date (storage 1)
    (bytes.fromhex("4C"), 18, 4, False),  # total at the year-end set date
    (bytes.fromhex("C208"), 22, 2, True),  # month-end date (storage 17)
    (bytes.fromhex("CC08"), 24, 4, False),  # total at the month-end date
)
DATE_VIF = 0x6C


def known_unit(vif: int) -> bool:
    """Energy (0x00-0x0F), volume (0x10-0x17) or HCA (0x6E): the units of the known block layout."""
    return vif <= 0x17 or vif == HCA_VIF


def _monthly_header(storage: int, vif: int) -> bytes:
    """DIF/DIFE of a 16-bit integer with this storage number, the VIF (extended) and VIFE 0x7F."""
    dif = 0x82 | (storage & 1) << 6
    return bytes((dif, storage >> 1 & 0x0F, vif | 0x80, MANUFACTURER_VIFE))


def block_records(block: bytes, offset: int = 0) -> list[Record]:
    """The records of a walk-by block; empty when it is not one we can read.

    The registers are written out as the records they stand for and read back with the ordinary
    record walk (whose layouts are remembered: every block of a meter has the same one).
    """
    if len(block) != BLOCK_LENGTH or not known_unit(block[VIF_OFFSET]):
        return []
    vif = block[VIF_OFFSET]
    parts = [
        dif + bytes((DATE_VIF if is_date else vif,)) + block[start : start + size]
        for dif, start, size, is_date in REGISTERS
    ]
    if vif != HCA_VIF:  # what the monthly words of an allocator mean is not known
        for index in range(MONTHLY_COUNT):
            start = MONTHLY_OFFSET + 2 * index
            parts.append(_monthly_header(FIRST_MONTH_STORAGE + index, vif) + block[start : start + 2])
    apl = parse_apl(b"".join(parts))
    if apl.error:
        raise DecodeError(f"Qundis walk-by block: {apl.error}")
    for number, record in enumerate(apl.records):  # fresh records of our own: set where they came from
        record.offset = offset
        if number >= len(REGISTERS):
            start = MONTHLY_OFFSET + 2 * (number - len(REGISTERS))
            if int.from_bytes(block[start : start + 2], "little", signed=True) == NO_VALUE:
                record.value = None
    return apl.records


def records(telegram: Telegram) -> list[Record]:
    """Records read out of the walk-by block, when the frame has one."""
    if telegram.apl is None:
        return []
    for record in telegram.apl.records:
        if record.header == WALK_BY_HEADER and len(record.data) == BLOCK_LENGTH:
            found = block_records(record.data, record.offset)
            if not found:
                telegram.warnings.append(
                    f"Qundis walk-by block with unit VIF 0x{record.data[VIF_OFFSET]:02X} not decoded"
                )
            return found
    return []
