"""Diehl / Hydrometer / Sappel IZAR water meters: PRIOS frames (manufacturer CI 0xA0-0xA7).

PRIOS is not OMS and not AES. The frame (CRC-free, L field at offset 0) looks like this::

    off  size  field
    0    1     L
    1    1     C (0x44 SND_NR)
    2    2     M (DME, HYD, SAP, SPL, EWT)
    4    6     A field. DME/HYD/...: version(1) type(1) id(4, LE) -- the address is rotated by two
               bytes against EN 13757-4. SAP: id(4, LE) then two bytes that carry the rest of the
               printed serial number (supplier letter, meter type letter, diameter letter).
    10   1     CI 0xA0..0xA7
    11   1     b7 general alarm; b3-0 transmit period exponent: period = 2 ** (n + 2) seconds
    12   1     b7 leakage now, b6 leakage before, b5 meter blocked; b4-0 battery life in half years
    13   1     b7 back flow, b6 underflow, b5 overflow, b4 submarine, b3 sensor fraud now,
               b2 sensor fraud before, b1 mechanical fraud now, b0 mechanical fraud before
    14   1     (unknown; not part of the seed)
    15   n     scrambled data

The scrambled data is XORed with a keystream from a 32-bit Fibonacci LFSR (taps on bits 1, 2, 11
and 31; eight shifts per byte, the low byte of the register is the key byte). The register starts
at ``key32 ^ BE32(frame[2:6]) ^ BE32(frame[6:10]) ^ BE32(frame[10:14])``, where ``key32`` is the
64-bit PRIOS key folded to 32 bits (XOR of its big-endian halves). Two default keys are public;
meters with a customer key cannot be read without it. Descrambled data::

    0    1     check byte 0x4B (the only integrity check: a wrong key gives another value)
    1    4     total volume, litres, uint32 LE
    5    4     volume at the last billing date (end of last month), litres, uint32 LE
    9    2     that billing date, packed like an EN 13757-3 type G date
    11   ...   (unknown)

Two drivers read these frames with wmbusmeters' names: ``izar`` and ``izarv2``. :func:`records` gives
the readings as the records a standard frame would carry them in, which both drivers' fields name:
``0413`` the total, ``4413`` the total at the last billing date, ``426C`` that date, ``04FD3C`` the
transmit period in seconds, ``05FD74`` the remaining battery life in days, and ``037F`` the three status
bytes 11-13 as one manufacturer-specific number (bits 0-7 byte 11, 8-15 byte 12, 16-23 byte 13).
:func:`decode` gives what is not a reading: the identity, the printed serial number of SAP meters and
the alarm texts of wmbusmeters' ``izar`` driver.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import TYPE_CHECKING

from ...app.records import Record, parse_apl
from ...errors import DecodeError, TruncatedError
from ...security.diehl import DEFAULT_KEYS, HEADER_LENGTH, descramble
from ...tables.device_types import device_type_name

if TYPE_CHECKING:
    from ...telegram import Telegram

CHECK_BYTE = 0x4B
PRIOS_CIS = tuple(range(0xA0, 0xA8))
DAYS_PER_HALF_YEAR = 365.2425 / 2

CURRENT_ALARM_BITS = (  # (byte offset in frame, bit, name) in the order wmbusmeters lists them
    (12, 7, "leakage"),
    (12, 5, "meter_blocked"),
    (13, 7, "back_flow"),
    (13, 6, "underflow"),
    (13, 5, "overflow"),
    (13, 4, "submarine"),
    (13, 3, "sensor_fraud"),
    (13, 1, "mechanical_fraud"),
)
PREVIOUS_ALARM_BITS = ((12, 6, "leakage"), (13, 2, "sensor_fraud"), (13, 0, "mechanical_fraud"))


@lru_cache(maxsize=64)  # the hook's records() and decode() both need the same frame's data
def decode_prios(frame: bytes, keys: tuple[bytes, ...] = DEFAULT_KEYS) -> bytes:
    """The descrambled data of a PRIOS frame, trying each key until the check byte matches."""
    if len(frame) <= HEADER_LENGTH:
        raise TruncatedError(f"truncated PRIOS frame: {len(frame)} bytes, no data after the header")
    for key in keys:
        plain = descramble(frame, key)
        if plain[0] == CHECK_BYTE:
            return plain
    raise DecodeError("PRIOS data did not descramble with the default keys (check byte mismatch)")


def _alarms(frame: bytes, bits: tuple[tuple[int, int, str], ...]) -> list[str]:
    return [name for offset, bit, name in bits if frame[offset] >> bit & 1]


def _current_alarms(frame: bytes) -> str:
    names = _alarms(frame, CURRENT_ALARM_BITS)
    if not names:
        return "no_alarm"
    # wmbusmeters reports only "general_alarm" when the general flag accompanies specific ones.
    return "general_alarm" if frame[11] & 0x80 else ",".join(names)


def _sappel_serial(frame: bytes) -> dict:
    """Printed serial of a SAP meter: letters and manufacture year packed into A-field bits."""
    number = (frame[7] & 0x03) << 24 | frame[6] << 16 | frame[5] << 8 | frame[4]
    digits = f"{number:08d}"
    year = int(digits[:2])
    supplier = chr(0x40 + (((frame[9] & 0x0F) << 1) | (frame[8] >> 7)))
    meter_type = chr(0x40 + ((frame[8] & 0x7C) >> 2))
    diameter = chr(0x40 + (((frame[8] & 0x03) << 3) | (frame[7] >> 5)))
    return {
        "prefix": f"{supplier}{digits[:2]}{meter_type}{diameter}",
        "serial_number": digits[2:],
        "manufacture_year": str(1900 + year if year > 70 else 2000 + year),
    }


def rotated_identity(manufacturer: str, frame: bytes) -> dict:
    """Header fields for a Diehl A field, which the stack reads in EN 13757-4 order.

    DME/HYD/...: version and type come first, then the id. SAP: the id is in place, but the
    "version/type" bytes belong to the printed serial number; the meter is a water meter.
    """
    if manufacturer == "SAP":
        version, device_type = 0x00, 0x07
        meter_id = frame[4:8][::-1].hex()
    else:
        version, device_type = frame[4], frame[5]
        meter_id = frame[6:10][::-1].hex()
    return {
        "id": meter_id,
        "version": f"0x{version:02x}",
        "device_type": f"0x{device_type:02x}",
        "media": device_type_name(device_type, manufacturer),
    }


def _frame(telegram: Telegram) -> bytes:
    return telegram.frame[:10] + bytes((telegram.ci or 0,)) + telegram.payload


def records(telegram: Telegram) -> list[Record]:
    """The readings of a PRIOS frame as standard records; DecodeError when it does not descramble.

    The readings are written out as the records they stand for and read back with the ordinary
    record walk (whose layouts are remembered: every frame of a meter has the same one).
    """
    frame = _frame(telegram)
    plain = decode_prios(frame)
    if len(plain) < 5:
        raise TruncatedError(f"truncated PRIOS data: {len(plain)} bytes, the total needs 5")
    parts = [b"\x04\x13" + plain[1:5]]  # litres
    if len(plain) >= 9:
        parts.append(b"\x44\x13" + plain[5:9])
    if len(plain) >= 11:
        parts.append(b"\x42\x6c" + plain[9:11])
    period_s = 1 << ((frame[11] & 0x0F) + 2)
    battery_days = (frame[12] & 0x1F) * DAYS_PER_HALF_YEAR
    parts.append(b"\x04\xfd\x3c" + period_s.to_bytes(4, "little"))
    parts.append(b"\x05\xfd\x74" + struct.pack("<f", battery_days))
    parts.append(b"\x03\x7f" + frame[11:14])
    found = parse_apl(b"".join(parts)).records
    for record in found:  # fresh records of our own: say where they came from
        record.offset = HEADER_LENGTH
    found[-2].value = battery_days  # the exact value, not its 32-bit rounding
    return found


def decode(telegram: Telegram) -> dict:
    """Identity, SAP serial number and wmbusmeters' izar alarm texts; DecodeError when the data does
    not descramble."""
    frame = _frame(telegram)
    decode_prios(frame)
    manufacturer = telegram.dll.manufacturer if telegram.dll else telegram.identity.manufacturer
    fields = rotated_identity(manufacturer, frame)
    fields["current_alarms"] = _current_alarms(frame)
    fields["previous_alarms"] = ",".join(_alarms(frame, PREVIOUS_ALARM_BITS)) or "no_alarm"
    if manufacturer == "SAP":
        fields.update(_sappel_serial(frame))
    return fields
