"""Techem FHKV data IV heat cost allocator (TCH, versions 0x69/0x94, device type 0x08, CI 0x7A).

An OMS frame (security mode 5) with standard EN 13757-3 records, named by the driver file. This hook
unpacks the monthly history, which the meter sends as a compact profile (EN 13757-3 Annex / OMS:
VIFE 0x1F on an HCA record with an LVAR data field)::

    record 8D 04 EE 1F (storage 8, HCA, compact profile), LVAR n:
      spacing control (1): b7..6 increment mode, b5..4 spacing unit (3 = day/month),
                           b3..0 element size as a DIF data-field code (1..4 = binary integer)
      spacing value (1):   0xFE = one month, 0xFD = half a month
      elements:            per-month values; the last element belongs to the first month after the
                           base date (the date record with the same storage number, e.g. storage 8)

Like wmbusmeters we report the elements as they are sent (``consumption_at_set_date_N_hca``, the
N-th month after the base date, with the month-end date in ``consumption_at_set_date_N``).
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...app.records import Record
    from ...telegram import Telegram

SPACING_UNIT_DAY_OR_MONTH = 3
SPACING_ONE_MONTH = 0xFE
INTEGER_ELEMENT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4}


def months_later(base: date, months: int) -> date:
    """The last day of the month ``months`` after ``base``'s month (billing dates are month ends)."""
    index = base.year * 12 + base.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def monthly_profile(record: Record, base: date) -> dict:
    """Named per-month values of a compact-profile record; empty unless it is a monthly integer profile."""
    data = record.data
    if len(data) < 2:
        return {}
    control, spacing = data[0], data[1]
    size = INTEGER_ELEMENT_SIZES.get(control & 0x0F)
    if size is None or (control >> 4) & 0x3 != SPACING_UNIT_DAY_OR_MONTH or spacing != SPACING_ONE_MONTH:
        return {}
    elements = data[2:]
    if len(elements) % size:
        return {}
    values = [int.from_bytes(elements[i : i + size], "little") for i in range(0, len(elements), size)]
    fields: dict = {}
    for months, value in enumerate(reversed(values), start=1):
        fields[f"consumption_at_set_date_{months}_hca"] = value
        fields[f"consumption_at_set_date_{months}"] = months_later(base, months).isoformat()
    return fields


def decode(telegram: Telegram) -> dict:
    """The monthly history of the compact-profile records, by the date record of the same storage."""
    fields: dict = {}
    apl = telegram.apl
    if apl is None:
        return fields
    dates: dict[int, str] = {}
    for record in apl.records:
        if record.quantity == "date" and isinstance(record.value, str) and record.function == "instantaneous":
            dates.setdefault(record.storage, record.value)
    for record in apl.records:
        if (
            record.quantity == "hca"
            and record.function == "instantaneous"
            and "compact_profile" in record.modifiers
        ):
            base = dates.get(record.storage)
            if base is not None:
                fields.update(monthly_profile(record, date.fromisoformat(base)))
    return fields
