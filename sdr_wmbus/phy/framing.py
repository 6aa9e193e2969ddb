"""From soft chips to link-layer frames: soft 3-of-6 decoding (T1), NRZ bytes (C1), block CRCs of frame
formats A and B, and repair of a few weak decisions against those CRCs.

Repair: when a block's CRC fails, the decisions with the smallest margins (a 3-of-6 word whose runner-up
code word was nearly as likely, or a bit near zero) are flipped, one and two at a time, until the CRC
matches. Only decisions that are weak next to the rest of the block qualify (noise makes some decisions
doubtful; a collision or a slipped chip makes firm wrong ones, and changing the least-firm bits of such
a block would only make a wrong block fit its CRC: the fuzzer found such invented frames). Only a
handful of candidates are tried per block, so a wrong block slipping through with a valid CRC stays
about as unlikely as with no repair (a few in 10^4 for a block that failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..crc import crc16_en13757
from ..tables.phy import THREE_OF_SIX

MAX_WEAK = 5  # weakest decisions considered per block
MAX_FLIPS = 2  # at most this many changed per block
WEAK_SHARE = 0.3  # a decision is weak when its margin is under this share of the block's median

# The 16 valid code words as +-1 chip vectors, for soft correlation.
_CODE_SIGNS = np.array(
    [[1.0 if (code >> (5 - i)) & 1 else -1.0 for i in range(6)] for code in THREE_OF_SIX], dtype=np.float32
)


@dataclass
class SoftBytes:
    """Decoded bytes with, per byte, the cheapest single changes to try when a block CRC fails."""

    values: np.ndarray  # uint8[n]
    margins: np.ndarray  # float32[n, k]: how much less likely each alternative is (small = weak)
    alternatives: np.ndarray  # uint8[n, k]: the byte value with that change

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: slice) -> SoftBytes:
        return SoftBytes(self.values[index], self.margins[index], self.alternatives[index])


def decode_3of6_soft(soft: np.ndarray) -> SoftBytes:
    """Soft-decision decoding: each 6-chip group becomes the valid code word it correlates with best;
    the runner-up word of each nibble is its alternative."""
    nbytes = len(soft) // 12
    words = soft[: nbytes * 12].reshape(nbytes * 2, 6)
    scores = words @ _CODE_SIGNS.T  # (nwords, 16)
    rows = np.arange(len(scores))
    best = np.argmax(scores, axis=1)
    best_score = scores[rows, best]
    scores[rows, best] = -np.inf
    second = np.argmax(scores, axis=1)
    margin = best_score - scores[rows, second]
    hi, lo = best[0::2], best[1::2]
    values = ((hi << 4) | lo).astype(np.uint8)
    alternatives = np.stack(((second[0::2] << 4) | lo, (hi << 4) | second[1::2]), axis=1).astype(np.uint8)
    margins = np.stack((margin[0::2], margin[1::2]), axis=1).astype(np.float32)
    return SoftBytes(values, margins, alternatives)


_BIT_MASKS = np.array([0x80 >> i for i in range(8)], dtype=np.uint8)


def decode_nrz_soft(soft: np.ndarray) -> SoftBytes:
    """NRZ bytes, MSB first; each bit's alternative is the byte with that bit flipped."""
    nbytes = len(soft) // 8
    bits = soft[: nbytes * 8].reshape(nbytes, 8)
    values = ((bits > 0).astype(np.uint8) * _BIT_MASKS).sum(axis=1).astype(np.uint8)
    alternatives = (values[:, None] ^ _BIT_MASKS[None, :]).astype(np.uint8)
    return SoftBytes(values, np.abs(bits).astype(np.float32), alternatives)


def repair_block(block: SoftBytes, crc_bytes: SoftBytes) -> tuple[bytes, int] | None:
    """The block's bytes if its CRC matches, trying up to MAX_FLIPS changes among the weakest decisions."""
    data = block.values.tobytes()
    crc = (int(crc_bytes.values[0]) << 8) | int(crc_bytes.values[1])
    if crc16_en13757(data) == crc:
        return data, 0
    everything = np.concatenate((block.values, crc_bytes.values))
    margins = np.concatenate((block.margins, crc_bytes.margins))
    alternatives = np.concatenate((block.alternatives, crc_bytes.alternatives))
    flat = np.argsort(margins, axis=None)[:MAX_WEAK]
    # Only decisions that are weak next to the block's own: where noise made them doubtful. A block
    # whose decisions are all firm but whose CRC fails was hit by something else (a collision, a
    # slip): changing its least-firm bits would only make a wrong block fit its CRC.
    limit = WEAK_SHARE * float(np.median(margins[:, 0]))
    flat = [i for i in flat if margins.flat[i] <= limit]
    changes = [(int(i) // margins.shape[1], int(alternatives.flat[i])) for i in flat]
    for count in range(1, MAX_FLIPS + 1):
        for combo in combinations(changes, count):
            positions = [pos for pos, _ in combo]
            if len(set(positions)) != len(positions):
                continue
            values = everything.copy()
            for pos, alt in combo:
                values[pos] = alt
            fixed = values[: len(block)].tobytes()
            if crc16_en13757(fixed) == (int(values[-2]) << 8) | int(values[-1]):
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


def assemble_format_a(
    decoded: SoftBytes, *others: SoftBytes, length_field: int | None = None
) -> tuple[bytes, int] | None:
    """CRC-free frame (L as sent) from soft bytes of a format-A frame, or None if a block fails.

    ``others``: the same frame decided differently (another chip window): each block is taken from
    the first reading whose CRC it passes, since every block is checked on its own. ``length_field``:
    L as the first block's CRC confirmed it, when a repair of that block changed it (the block sizes
    follow from L).
    """
    if length_field is None:
        length_field = int(decoded.values[0])
    if length_field < 9:
        return None
    readings = (decoded, *others)
    out = bytearray()
    pos = 0
    repaired = 0
    for size in format_a_block_sizes(length_field):
        if pos + size + 2 > min(len(r) for r in readings):
            return None
        for reading in readings:
            result = repair_block(reading[pos : pos + size], reading[pos + size : pos + size + 2])
            if result is not None:
                break
        else:
            return None
        out += result[0]
        repaired += result[1]
        pos += size + 2
    if out[0] != length_field:  # a repair changed L: the block sizes no longer hold
        return None
    return bytes(out), repaired


def assemble_format_b(decoded: SoftBytes) -> tuple[bytes, int] | None:
    """CRC-free frame with L rewritten to format-A meaning, from soft bytes of a format-B frame."""
    length_field = int(decoded.values[0])
    if length_field < 12 or length_field + 1 > len(decoded):
        return None
    first_end = min(length_field + 1, 128)
    result = repair_block(decoded[: first_end - 2], decoded[first_end - 2 : first_end])
    if result is None:
        return None
    out = bytearray(result[0])
    repaired = result[1]
    if length_field + 1 > 128:
        if length_field + 1 < 131:
            return None
        third = repair_block(decoded[128 : length_field - 1], decoded[length_field - 1 : length_field + 1])
        if third is None:
            return None
        out += third[0]
        repaired += third[1]
    if out[0] != length_field:
        return None
    out[0] = len(out) - 1
    return bytes(out), repaired
