"""Diehl's own scrambling: the PRIOS LFSR keystream and OMS "real data" frames (security mode >= 16).

Diehl meters (DME, HYD, SAP, SPL, EWT: IZAR, Hydrus, Sharky, ...) scramble with a 32-bit Fibonacci
LFSR (taps on bits 1, 2, 11 and 31; eight shifts per byte, the low byte of the register is the key
byte). The register starts at ``key32 ^ BE32(frame[2:6]) ^ BE32(frame[6:10]) ^ BE32(frame[10:14])``,
where ``key32`` is the 64-bit key folded to 32 bits (XOR of its big-endian halves). Two default keys
are public. PRIOS frames (manufacturer CI 0xA0-0xA7) carry a check byte that the IZAR hook tests.

"Real data" frames are short-header OMS frames (CI 0x7A) whose configuration field has bit 12 set
(security mode 16-31); their EN 13757-3 records are XORed with the same keystream. There is no check
byte: the byte sum of the plain records, masked with 0xEF, equals the configuration field's high byte
masked the same way. As that check has only 7 bits, a candidate is accepted only when its records also
parse cleanly. Telegrams stored already descrambled (wmbusmeters' test data) pass the same check
unchanged, so the data as received is the last candidate. The stack descrambles these frames itself,
so any driver then reads ordinary records.
"""

from __future__ import annotations

from ..app.records import Apl, parse_apl
from ..errors import DecodeError, TruncatedError

#: Public default PRIOS keys (64 bit); meters shipped without a customer key use one of them.
DEFAULT_KEYS = (bytes.fromhex("39BC8A10E66D83F8"), bytes.fromhex("51728910E66D83F8"))
LFSR_TAPS = (1, 2, 11, 31)
DIEHL_MANUFACTURERS = ("DME", "HYD", "SAP", "SPL", "EWT")
HEADER_LENGTH = 15  # L .. byte 14: everything before the scrambled data
REAL_DATA_CI = 0x7A
REAL_DATA_MODE_BIT = 0x10  # bit 4 of the 5-bit security mode = bit 12 of the configuration field
CHECKSUM_MASK = 0xEF


def fold_key(key: bytes) -> int:
    """A 64-bit PRIOS key as the 32-bit value the LFSR uses (its two big-endian halves XORed)."""
    if len(key) < 8:
        raise ValueError("a PRIOS key has 8 bytes")
    return int.from_bytes(key[0:4], "big") ^ int.from_bytes(key[4:8], "big")


def _shift_byte(state: int) -> int:
    """The register after eight shifts: each shift moves in the XOR of the tapped bits."""
    tap_a, tap_b, tap_c, tap_d = LFSR_TAPS
    for _ in range(8):
        feedback = ((state >> tap_a) ^ (state >> tap_b) ^ (state >> tap_c) ^ (state >> tap_d)) & 1
        state = ((state << 1) | feedback) & 0xFFFFFFFF
    return state


# The register is linear over GF(2): eight shifts of a state are the XOR of eight shifts of each of its
# four bytes alone, so one byte of keystream costs four table look-ups instead of 32 bit operations.
_BYTE_SHIFTS = tuple(tuple(_shift_byte(value << (8 * lane)) for value in range(256)) for lane in range(4))


def lfsr_keystream(seed: int, length: int) -> bytes:
    """``length`` key bytes: after every eight register shifts, the register's low byte."""
    state = seed & 0xFFFFFFFF
    lane0, lane1, lane2, lane3 = _BYTE_SHIFTS
    out = bytearray(length)
    for index in range(length):
        state = (
            lane0[state & 0xFF]
            ^ lane1[(state >> 8) & 0xFF]
            ^ lane2[(state >> 16) & 0xFF]
            ^ lane3[state >> 24]
        )
        out[index] = state & 0xFF
    return bytes(out)


def descramble(frame: bytes, key: bytes) -> bytes:
    """XOR the data after byte 14 with the keystream seeded from the key and the frame header."""
    seed = fold_key(key)
    for start in (2, 6, 10):  # M + A[0:2], A[2:6], CI + the next three bytes
        seed ^= int.from_bytes(frame[start : start + 4], "big")
    data = frame[HEADER_LENGTH:]
    return bytes(a ^ b for a, b in zip(data, lfsr_keystream(seed, len(data)), strict=True))


def is_real_data(manufacturer: str, ci: int, security_mode: int) -> bool:
    """A Diehl short-header frame with a "real data" (scrambled) security mode."""
    return (
        manufacturer in DIEHL_MANUFACTURERS
        and ci == REAL_DATA_CI
        and bool(security_mode & REAL_DATA_MODE_BIT)
    )


def checksum_ok(plain: bytes, config_high: int) -> bool:
    """The real-data check: byte sum of the plain records and the CF high byte agree under 0xEF."""
    return (sum(plain) & CHECKSUM_MASK) == (config_high & CHECKSUM_MASK)


def _clean_apl(plain: bytes) -> Apl | None:
    apl = parse_apl(plain)
    return apl if apl.error is None and apl.records else None


def decode_real_data(frame: bytes, keys: tuple[bytes, ...] = DEFAULT_KEYS) -> bytes:
    """The plain records of a real-data frame (L..CF header then data); DecodeError when none checks."""
    if len(frame) <= HEADER_LENGTH:
        raise TruncatedError("truncated Diehl real-data frame: no data after the TPL header")
    config_high = frame[14]
    candidates = [descramble(frame, key) for key in keys] + [frame[HEADER_LENGTH:]]
    for plain in candidates:
        if checksum_ok(plain, config_high) and _clean_apl(plain) is not None:
            return plain
    raise DecodeError("Diehl real-data frame did not descramble with the default keys (checksum mismatch)")
