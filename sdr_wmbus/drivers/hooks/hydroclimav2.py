"""BMeters HydroClima heat cost allocators (BMP, type 0x08, versions 0x53 and 0x85).

The standard records carry the current and set-date consumption (``6E``) and the set date; the
temperatures and the consumption history are in the manufacturer-specific data after DIF ``0F``.
Its first byte names the layout; all words are little-endian, temperatures are signed 0.01 °C and
0x8000 means "no value".

Frame 0x11 (version 0x85, HydroClima 2 ITN), 47 bytes::

    off  size  field
    0    1     frame identifier 0x11
    1    2     status word
    3    2     current time (not decoded)
    5    2     current date (not decoded)
    7    2     date the housing was opened (not decoded)
    9    2     average heater temperature, current period
    11   2     average ambient temperature, current period
    13   2     maximum ambient temperature, previous period
    15   2     date of that maximum (not decoded)
    17   2     average heater temperature, previous period
    19   2     average ambient temperature, previous period
    21   4*2   consumption at set dates 1..4 (uint16, HCA units)
    29   3*2   ambient temperature at set dates 1..3
    35   3*3   counters of periods with heater temperature < 22.5, < 35, >= 35 °C (not decoded)
    44   3     total consumption over all periods (uint24, HCA units)

Frame 0x10 (version 0x53), 24 bytes: identifier, status, time, date (2 each), average ambient
temperature, maximum ambient temperature, its date, number of measurements, average ambient and
average heater temperature of the previous period (2 each), then consumption fields whose scaling is
not known (not decoded).

Field names follow wmbusmeters' ``hydroclima`` drivers so that users can migrate; both driver files
(hydroclima for version 0x53, hydroclimav2 for 0x85) use this hook. Frame 0x11's status word becomes
``error_flags`` (ERROR_FLAGS_<hex>, empty when 0), which joins the status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import TruncatedError

if TYPE_CHECKING:
    from ...telegram import Telegram

NO_VALUE = -0x8000

#: Frame identifier -> (minimum length, [(offset, kind, name)]); kind 't' = temperature word,
#: 'u16' / 'u24' = unsigned little-endian consumption.
LAYOUTS: dict[int, tuple[int, list[tuple[int, str, str]]]] = {
    0x11: (
        47,
        [
            (9, "t", "average_heater_temperature_c"),
            (11, "t", "average_ambient_temperature_c"),
            (13, "t", "max_ambient_temperature_c"),
            (17, "t", "average_heater_temperature_last_month_c"),
            (19, "t", "average_ambient_temperature_last_month_c"),
            (21, "u16", "consumption_at_set_date_1_hca"),
            (23, "u16", "consumption_at_set_date_2_hca"),
            (25, "u16", "consumption_at_set_date_3_hca"),
            (27, "u16", "consumption_at_set_date_4_hca"),
            (29, "t", "ambient_temperature_at_set_date_1_c"),
            (31, "t", "ambient_temperature_at_set_date_2_c"),
            (33, "t", "ambient_temperature_at_set_date_3_c"),
            (44, "u24", "total_consumption_hca"),
        ],
    ),
    0x10: (
        24,
        [
            (7, "t", "average_ambient_temperature_c"),
            (9, "t", "max_ambient_temperature_c"),
            (15, "t", "average_ambient_temperature_last_month_c"),
            (17, "t", "average_heater_temperature_last_month_c"),
        ],
    ),
}


def _temperature(data: bytes) -> float | None:
    raw = int.from_bytes(data, "little", signed=True)
    return None if raw == NO_VALUE else raw / 100


def decode_manufacturer_data(data: bytes) -> dict:
    """Named fields of the block after DIF 0F; an unknown frame identifier gives no fields."""
    if not data or data[0] not in LAYOUTS:
        return {}
    length, layout = LAYOUTS[data[0]]
    if len(data) < length:
        raise TruncatedError(
            f"hydroclima frame 0x{data[0]:02X} needs {length} bytes of manufacturer data, got {len(data)}"
        )
    fields: dict = {}
    if data[0] == 0x11:
        # The status word's bits are not documented: wmbusmeters prints the frame 0x11 word as
        # ERROR_FLAGS_<hex> (frame 0x10 words such as 0x4300 come from working meters: not reported).
        status = int.from_bytes(data[1:3], "little")
        fields["error_flags"] = f"ERROR_FLAGS_{status:X}" if status else ""
    for offset, kind, name in layout:
        if kind == "t":
            fields[name] = _temperature(data[offset : offset + 2])
        else:
            size = 2 if kind == "u16" else 3
            fields[name] = int.from_bytes(data[offset : offset + size], "little")
    return fields


def decode(telegram: Telegram) -> dict:
    """Fields from the manufacturer data (the driver files name the standard records)."""
    if telegram.apl is None or not telegram.apl.manufacturer_data:
        return {}
    return decode_manufacturer_data(telegram.apl.manufacturer_data)
