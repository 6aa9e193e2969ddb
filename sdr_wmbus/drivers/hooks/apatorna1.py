"""Apator NA-1 water meter (APA, version 0x14, device type 0x07, CI 0xA0/0xA1).

Payload after the manufacturer CI (18 bytes)::

    ACC (1) | frame status (1, plain) | 16 bytes AES-128-CBC

The 16-byte block is encrypted like OMS mode 5: IV = M(2) A(6) of the DLL (wire order) followed by
ACC repeated 8 times. Meters ship with an all-zero key. Decrypted block::

    0  0x2F marker (wrong key or corrupted frame otherwise)
    1  packed total (4, LE): bits 31..8 = litres / 16 high part, bits 5..4 = decimal exponent e,
       bits 3..0 = low nibble; total = ((raw >> 8) * 16 + (raw & 0xF)) * 10^e litres
    5  meter date/time (4, LE): seconds since 2000-01-01 00:00 (meter local time)
    9  historic age low byte; 10: bits 7..2 = age high part (hours = high * 256 + low),
       bits 1..0 = lowest 2 bits of the historic delta
    11 historic delta (3, LE) bits 2.. of (total - historic) in the same packed unit as the total
    14 current alarm flags; 15 historic alarm flags

Frame status bits: 0 summer time, 1 historical indication, 2 max speed exceeded, 3 device access
error, 4 two-way communication blocked, 5 installation frame, 6 wrong temperature, 7 service event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...errors import DecodeError, DecryptionError
from ...security.crypto import aes_cbc_decrypt

if TYPE_CHECKING:
    from ...telegram import Telegram

# NA-1 meters ship with the all-zero key; a key from the meters file or --key takes precedence.
DEFAULT_KEY = bytes(16)
PAYLOAD_LENGTH = 18
EPOCH = datetime(2000, 1, 1)

FRAME_STATUS_FLAGS = (
    (0x01, "SUMMER_TIME"),
    (0x02, "HISTORICAL_INDICATION"),
    (0x04, "MAX_SPEED_EXCEEDED"),
    (0x08, "DEVICE_ACCESS_ERROR"),
    (0x10, "TWO_WAY_COM_BLOCK"),
    (0x20, "INSTALL_FRAME"),
    (0x40, "WRONG_TEMPERATURE"),
    (0x80, "SERVICE_EVENT"),
)
ALARM_FLAGS = (
    (0x80, "MINIMUM_FLOW"),
    (0x40, "MAXIMUM_FLOW"),
    (0x20, "REVERSE_FLOW"),
    (0x10, "MEASUREMENT_UNCHANGED"),
    (0x08, "LEAK"),
    (0x04, "DEVICE_DISCONNECTED"),
    (0x02, "MAGNETIC_FIELD"),
)
CURRENT_ALARM_FLAGS = (*ALARM_FLAGS, (0x01, "BATTERY_LOW"))
HISTORIC_ALARM_FLAGS = (*ALARM_FLAGS, (0x01, "BATTERY_LIFETIME_THRESHOLD_EXCEEDED"))


def flags_text(value: int, names: tuple[tuple[int, str], ...]) -> str:
    """Space-separated names of the set bits, or OK (wmbusmeters' convention)."""
    set_names = [name for bit, name in names if value & bit]
    return " ".join(set_names) if set_names else "OK"


def decrypt_block(telegram: Telegram) -> bytes:
    """The decrypted 16-byte block, checked by its 0x2F marker."""
    payload = telegram.payload
    if len(payload) < PAYLOAD_LENGTH:
        raise DecodeError(f"apatorna1: payload is {len(payload)} bytes, expected {PAYLOAD_LENGTH}")
    dll = telegram.dll
    if dll is None:
        raise DecodeError("apatorna1: no link header to build the IV from")
    access_number = payload[0]
    iv = dll.m_wire + dll.a_wire + bytes([access_number]) * 8
    plain = aes_cbc_decrypt(telegram.key or DEFAULT_KEY, iv, payload[2:PAYLOAD_LENGTH])
    if plain[0] != 0x2F:
        raise DecryptionError(f"apatorna1: decryption failed for meter {telegram.identity.id} (no 2F marker)")
    return plain


def decode(telegram: Telegram) -> dict:
    """Total, meter time and the last historic reading from the encrypted block."""
    plain = decrypt_block(telegram)
    packed = int.from_bytes(plain[1:5], "little")
    multiplier = 10 ** ((packed >> 4) & 0x3)
    total_litres = ((packed >> 8) * 16 + (packed & 0xF)) * multiplier
    meter_time = EPOCH + timedelta(seconds=int.from_bytes(plain[5:9], "little"))
    age_low, age_meta = plain[9], plain[10]
    historic_age_h = (age_meta >> 2) * 256 + age_low
    delta = (int.from_bytes(plain[11:14], "little") << 2) | (age_meta & 0x3)
    historic_litres = total_litres - delta * multiplier
    return {
        "total_m3": total_litres / 1000,
        "meter_datetime": meter_time.strftime("%Y-%m-%d %H:%M"),
        "historic_m3": historic_litres / 1000,
        "historic_age_h": historic_age_h,
        "historic_datetime": (meter_time - timedelta(hours=historic_age_h)).strftime("%Y-%m-%d %H:%M"),
        "frame_status": flags_text(telegram.payload[1], FRAME_STATUS_FLAGS),
        "current_status": flags_text(plain[14], CURRENT_ALARM_FLAGS),
        "historic_status": flags_text(plain[15], HISTORIC_ALARM_FLAGS),
    }
