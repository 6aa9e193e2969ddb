"""BMeters Hydrodigit water meters (BMT, types 0x06/0x07, versions 0x13/0x15/0x17, CI 0x7A).

The standard records carry the total volume (``0C13``) and the meter date-time (``046D``); everything
else is in the manufacturer-specific data after DIF ``0F``. Its first byte says which blocks follow,
and the blocks come in this fixed order, each only when its flag is set::

    flag  block             size  coding
    -     contents          1     b0 battery, b1 fraud, b7 leak, b2 backflow, b4 monthly (b3,b5,b6 unused)
    0x01  battery           1     low nibble = voltage step (table below)
    0x02  fraud             1+3   type (b7 magnetic, b6 sensor, b5 module removed), date YY MM DD (BCD)
    0x80  leak              3     date YY MM DD (BCD)
    0x04  backflow          4     uint32 LE, litres
    0x10  monthly totals    12*3  uint24 LE each, 10 litres, January first; >= 10^7 means "no value"
                                  (months before the radio module was fitted read FFFFFF)

Anything after the announced blocks is ignored (some meters pad with zeros or 2F fillers).
Field names follow wmbusmeters' ``hydrodigit`` driver so that users can migrate.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ...errors import TruncatedError

if TYPE_CHECKING:
    from ...telegram import Telegram

FLAG_BATTERY = 0x01
FLAG_FRAUD = 0x02
FLAG_BACKFLOW = 0x04
FLAG_MONTHLY = 0x10
FLAG_LEAK = 0x80

#: Content flags as wmbusmeters names them in ``contents``.
CONTENT_NAMES = {
    FLAG_BATTERY: "BATTERY_VOLTAGE",
    FLAG_FRAUD: "FRAUD_DATE",
    FLAG_LEAK: "LEAK_DATE",
    FLAG_BACKFLOW: "BACKFLOW",
    FLAG_MONTHLY: "MONTHLY_DATA",
}
FRAUD_TYPE_NAMES = {0x80: "MAGNETIC_FRAUD_ATTEMPT", 0x40: "SENSOR_FRAUD_ATTEMPT", 0x20: "MODULE_REMOVED"}

#: Battery voltage for each value of the battery byte's low nibble (0, 14 and 15 mean "full").
BATTERY_VOLTS = (3.7, 1.9, 2.1, 2.2, 2.3, 2.4, 2.5, 2.65, 2.8, 2.9, 3.05, 3.2, 3.35, 3.5, 3.7, 3.7)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHLY_NO_VALUE = 10_000_000  # raw monthly totals from here up are unset registers


def _bcd_byte(value: int) -> int | None:
    high, low = value >> 4, value & 0x0F
    return None if high > 9 or low > 9 else high * 10 + low


def bcd_date(data: bytes) -> str | None:
    """Three BCD bytes year, month, day (year from 2000); zero or impossible dates are None."""
    year, month, day = (_bcd_byte(b) for b in data)
    if year is None or month is None or day is None:
        return None
    try:
        return datetime.date(2000 + year, month, day).isoformat()
    except ValueError:
        return None


class _Reader:
    """Sequential reader over the manufacturer data that names the block it runs out in."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int, what: str) -> bytes:
        if self.pos + size > len(self.data):
            raise TruncatedError(
                f"hydrodigit manufacturer data ends in the {what} block ({len(self.data)} bytes)"
            )
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def decode_manufacturer_data(data: bytes) -> dict:
    """Named fields of the manufacturer-specific block (everything after DIF 0F)."""
    reader = _Reader(data)
    contents = reader.take(1, "contents")[0]
    fields: dict = {
        "contents": " ".join(sorted(name for flag, name in CONTENT_NAMES.items() if contents & flag)),
    }
    if contents & FLAG_BATTERY:
        fields["voltage_v"] = BATTERY_VOLTS[reader.take(1, "battery")[0] & 0x0F]
    if contents & FLAG_FRAUD:
        fraud_type = reader.take(1, "fraud type")[0]
        names = [name for bit, name in FRAUD_TYPE_NAMES.items() if fraud_type & bit]
        fields["fraud_type"] = " ".join(names) or "NO_TYPE_INFO"
        fields["fraud_date"] = bcd_date(reader.take(3, "fraud date"))
    if contents & FLAG_LEAK:
        fields["leak_date"] = bcd_date(reader.take(3, "leak date"))
    if contents & FLAG_BACKFLOW:
        fields["backflow_m3"] = int.from_bytes(reader.take(4, "backflow"), "little") / 1000
    if contents & FLAG_MONTHLY:
        for month in MONTHS:
            raw = int.from_bytes(reader.take(3, "monthly totals"), "little")
            fields[f"{month}_total_m3"] = raw / 100 if raw < MONTHLY_NO_VALUE else None
    return fields


def decode(telegram: Telegram) -> dict:
    """Fields from the manufacturer data (the driver file names the standard records)."""
    if telegram.apl is None or not telegram.apl.manufacturer_data:
        return {}
    return decode_manufacturer_data(telegram.apl.manufacturer_data)
