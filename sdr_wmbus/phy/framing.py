"""From soft chips to link-layer frames: soft 3-of-6 decoding (T1), NRZ bytes (C1), block CRCs of frame
formats A and B, and repair of a few weak decisions against those CRCs.

Repair: when a block's CRC fails, the decisions with the smallest margins (a 3-of-6 word whose runner-up
code word was nearly as likely, or a bit near zero) are flipped, one and two at a time, until the CRC
matches. Only a handful of candidates are tried per block, so a wrong block slipping through with a
valid CRC stays about as unlikely as with no repair (a few in 10^4 for a block that failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..crc import crc16_en13757
from ..tables.phy import THREE_OF_SIX

MAX_WEAK = 5  # weakest decisions considered per block
MAX_FLIPS = 2  # at most this many changed per block

# The 16 valid code words as +-1 chip vectors, for soft correlation.
_CODE_SIGNS = np.array(
    [[1.0 if (code >> (5 - i)) & 1 else -1.0 for i in range(6)] for code in THREE_OF_SIX], dtype=np.float32
)


@dataclass
class SoftByte:
    """One decoded byte with the alternatives to try when its block's CRC fails."""

    value: int
    # (margin, alternative value): the cheapest single changes, smallest margin first
    alternatives: list[tuple[float, int]]


def decode_3of6_soft(soft: np.ndarray) -> list[SoftByte]:
    """Soft-decision decoding: each 6-chip group becomes the valid code word it correlates with best."""
    nwords = len(soft) // 6
    words = soft[: nwords * 6].reshape(nwords, 6)
    scores = words @ _CODE_SIGNS.T  # (nwords, 16)
    order = np.argsort(-scores, axis=1)
    out = []
    for b in range(nwords // 2):
        hi = order[2 * b]
        lo = order[2 * b + 1]
        value = (int(hi[0]) << 4) | int(lo[0])
        hi_margin = float(scores[2 * b, hi[0]] - scores[2 * b, hi[1]])
        lo_margin = float(scores[2 * b + 1, lo[0]] - scores[2 * b + 1, lo[1]])
        alternatives = [
            (hi_margin, (int(hi[1]) << 4) | int(lo[0])),
            (lo_margin, (int(hi[0]) << 4) | int(lo[1])),
        ]
        out.append(SoftByte(value, sorted(alternatives)))
    return out


def decode_nrz_soft(soft: np.ndarray) -> list[SoftByte]:
    """NRZ bytes, MSB first; each bit's alternative is the byte with that bit flipped."""
    nbytes = len(soft) // 8
    out = []
    for b in range(nbytes):
        bits = soft[8 * b : 8 * b + 8]
        value = 0
        for bit in bits:
            value = (value << 1) | (1 if bit > 0 else 0)
        alternatives = sorted((float(abs(bits[i])), value ^ (0x80 >> i)) for i in range(8))
        out.append(SoftByte(value, alternatives))
    return out


def _repair_block(block: list[SoftByte], crc_bytes: list[SoftByte]) -> tuple[bytes, int] | None:
    """The block's bytes if its CRC matches, trying up to MAX_FLIPS changes among the weakest decisions."""
    data = bytes(b.value for b in block)
    crc = (crc_bytes[0].value << 8) | crc_bytes[1].value
    if crc16_en13757(data) == crc:
        return data, 0
    # Candidate single changes across data and CRC bytes: (margin, position, new value).
    everything = block + crc_bytes
    changes = sorted(
        (margin, pos, alt) for pos, byte in enumerate(everything) for margin, alt in byte.alternatives[:2]
    )[:MAX_WEAK]
    for count in range(1, MAX_FLIPS + 1):
        for combo in combinations(changes, count):
            positions = [pos for _, pos, _ in combo]
            if len(set(positions)) != len(positions):
                continue
            values = [b.value for b in everything]
            for _, pos, alt in combo:
                values[pos] = alt
            fixed = bytes(values[: len(block)])
            if crc16_en13757(fixed) == (values[-2] << 8) | values[-1]:
                return fixed, count
    return None


def format_a_block_sizes(length_field: int) -> list[int]:
    """Data bytes per block of a format-A frame (first block includes L)."""
    sizes = [10]
    remaining = length_field - 9
    while remaining > 0:
        sizes.append(min(16, remaining))
        remaining -= 16
    return sizes


def assemble_format_a(decoded: list[SoftByte]) -> tuple[bytes, int] | None:
    """CRC-free frame (L as sent) from soft bytes of a format-A frame, or None if a block fails."""
    length_field = decoded[0].value
    if length_field < 9:
        return None
    out = bytearray()
    pos = 0
    repaired = 0
    for size in format_a_block_sizes(length_field):
        if pos + size + 2 > len(decoded):
            return None
        result = _repair_block(decoded[pos : pos + size], decoded[pos + size : pos + size + 2])
        if result is None:
            return None
        out += result[0]
        repaired += result[1]
        pos += size + 2
    if out[0] != length_field:  # a repair changed L: the block sizes no longer hold
        return None
    return bytes(out), repaired


def assemble_format_b(decoded: list[SoftByte]) -> tuple[bytes, int] | None:
    """CRC-free frame with L rewritten to format-A meaning, from soft bytes of a format-B frame."""
    length_field = decoded[0].value
    if length_field < 12 or length_field + 1 > len(decoded):
        return None
    first_end = min(length_field + 1, 128)
    result = _repair_block(decoded[: first_end - 2], decoded[first_end - 2 : first_end])
    if result is None:
        return None
    out = bytearray(result[0])
    repaired = result[1]
    if length_field + 1 > 128:
        if length_field + 1 < 131:
            return None
        third = _repair_block(decoded[128 : length_field - 1], decoded[length_field - 1 : length_field + 1])
        if third is None:
            return None
        out += third[0]
        repaired += third[1]
    if out[0] != length_field:
        return None
    out[0] = len(out) - 1
    return bytes(out), repaired
