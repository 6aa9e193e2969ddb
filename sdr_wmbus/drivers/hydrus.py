"""Diehl "real data" frames: OMS frames (CI 0x7A) whose APL is LFSR-scrambled (security mode >= 16).

Diehl meters (DME, HYD, SAP, SPL, EWT; Hydrus, IZAR RS, ...) mostly send OMS mode-5 frames that the
stack decrypts. Some send short-header frames whose configuration field has bit 12 set (security
mode 16-31): the records are then XORed with the PRIOS keystream (see :mod:`sdr_wmbus.drivers.izar`)::

    off  size  field
    0    10    L C M A, with the A field rotated as in PRIOS: version(1) type(1) id(4, LE)
    10   1     CI 0x7A
    11   1     access number
    12   1     status
    13   2     configuration field (little-endian; bit 12 set)
    15   n     scrambled EN 13757-3 records

The keystream is seeded exactly as for PRIOS (key folded to 32 bits, XORed with the big-endian words
at offsets 2, 6 and 10). There is no check byte; instead the byte sum of the plain records, masked
with 0xEF, equals the configuration field's high byte masked the same way. As that check has only 7
bits, a candidate is accepted only when the records also parse cleanly. Telegrams that were stored
already descrambled (wmbusmeters' test data) pass the same check unchanged, so the data as received
is the last candidate.

The records are named by the generic driver, as for any OMS frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..app.records import parse_apl
from ..errors import DecodeError, TruncatedError
from ..tables.manufacturers import manufacturer_code
from . import Driver, Match, generic
from .izar import DEFAULT_KEYS, DIEHL_MANUFACTURERS, descramble, rotated_identity

if TYPE_CHECKING:
    from ..app.records import Apl
    from ..decoder import Telegram

REAL_DATA_CI = 0x7A
REAL_DATA_MODE_BIT = 0x10  # bit 4 of the 5-bit security mode = bit 12 of the configuration field
CHECKSUM_MASK = 0xEF
HEADER_LENGTH = 15


@dataclass(frozen=True)
class RealDataMatch(Match):
    """A Diehl short-header frame with a "real data" security mode; the DLL type is not usable here
    (the A field is rotated), so the security mode is what keeps this driver off ordinary frames."""

    def matches(self, telegram: Telegram) -> bool:
        tpl = telegram.tpl
        return (
            super().matches(telegram)
            and telegram.ell is None
            and tpl is not None
            and bool(tpl.security_mode & REAL_DATA_MODE_BIT)
        )


def checksum_ok(plain: bytes, config_high: int) -> bool:
    """The real-data check: byte sum of the plain records and the CF high byte agree under 0xEF."""
    return (sum(plain) & CHECKSUM_MASK) == (config_high & CHECKSUM_MASK)


def _clean_apl(plain: bytes) -> Apl | None:
    try:
        apl = parse_apl(plain)
    except DecodeError:
        return None
    return apl if apl.error is None and apl.records else None


def decode_real_data(frame: bytes, keys: tuple[bytes, ...] = DEFAULT_KEYS) -> tuple[bytes, Apl]:
    """The plain records of a real-data frame and their parse; DecodeError when no candidate checks."""
    if len(frame) <= HEADER_LENGTH:
        raise TruncatedError("truncated Diehl real-data frame: no data after the TPL header")
    config_high = frame[14]
    candidates = [descramble(frame, key) for key in keys] + [frame[HEADER_LENGTH:]]
    for plain in candidates:
        if checksum_ok(plain, config_high):
            apl = _clean_apl(plain)
            if apl is not None:
                return plain, apl
    raise DecodeError("Diehl real-data frame did not descramble with the default keys (checksum mismatch)")


def decode(telegram: Telegram) -> dict:
    """Descramble, then name the records like any OMS frame (and list them, as the stack would)."""
    frame = telegram.frame[:HEADER_LENGTH] + telegram.payload
    if frame[10] != REAL_DATA_CI:
        raise DecodeError(f"Diehl real-data frame with CI 0x{frame[10]:02X} at offset 10, expected 0x7A")
    plain, apl = decode_real_data(frame)
    telegram.payload = plain
    telegram.apl = apl
    telegram.undecoded = None
    fields = rotated_identity(manufacturer_code(frame[2] | frame[3] << 8), frame)
    fields.update(generic.decode(telegram))
    fields["records"] = generic.records_json(apl)
    return fields


DRIVER = Driver(
    name="hydrus",
    description="Diehl real-data frames (CI 0x7A, security mode >= 16, LFSR-scrambled OMS records)",
    match=tuple(RealDataMatch(manufacturer=m, cis=(REAL_DATA_CI,)) for m in DIEHL_MANUFACTURERS),
    decode=decode,
    descrambles=True,
)
