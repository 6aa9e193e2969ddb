"""Sync-word search on the FM-discriminator output.

The pattern (preamble tail + sync, +-1 per chip) has as many ones as zeros, so the correlation ignores
the DC level that a carrier offset puts on the discriminator; normalising by the window's spread makes
the score a correlation coefficient in [-1, 1] whatever the signal level.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def chip_average(freq: np.ndarray, width: int) -> np.ndarray:
    """Moving average over ``width`` samples (one chip): out[n] = mean(freq[n : n + width])."""
    count = freq.shape[0] - width + 1
    if count <= 0:
        return np.empty(0, dtype=np.float32)
    out = np.empty(count, dtype=np.float32)
    acc = 0.0
    for k in range(width):
        acc += freq[k]
    scale = 1.0 / width
    out[0] = acc * scale
    for n in range(1, count):
        acc += freq[n + width - 1] - freq[n - 1]
        out[n] = acc * scale
    return out


_TILE = 1024  # positions per pass: the accumulators stay in L1 while every tap is added
# Value-safe fast-math flags only (no reassociation, no approximate division or sqrt): they let LLVM
# vectorise across positions, and every position still gets bit-identical arithmetic, so the
# correlation does not depend on where a block starts.
_VECTOR_FLAGS = {"nnan", "ninf", "nsz"}


@njit(cache=True, nogil=True, fastmath=_VECTOR_FLAGS)
def correlate_sync(chips: np.ndarray, offsets: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Correlation coefficient of the chip-averaged signal with the pattern at each start sample.

    ``offsets[k]`` is where chip k of the pattern lies relative to the start, ``signs[k]`` is +-1.
    Tap by tap over a tile of positions (contiguous, SIMD) rather than position by position (a gather).
    """
    span = offsets[-1] + 1
    count = chips.shape[0] - span + 1
    if count <= 0:
        return np.empty(0, dtype=np.float32)
    npat = offsets.shape[0]
    out = np.empty(count, dtype=np.float32)
    corr = np.empty(_TILE, dtype=np.float32)
    total = np.empty(_TILE, dtype=np.float32)
    energy = np.empty(_TILE, dtype=np.float32)
    for t0 in range(0, count, _TILE):
        m = min(_TILE, count - t0)
        for i in range(m):
            corr[i] = 0.0
            total[i] = 0.0
            energy[i] = 0.0
        for k in range(npat):
            tap = chips[t0 + offsets[k] : t0 + offsets[k] + m]
            sign = signs[k]
            for i in range(m):
                v = tap[i]
                corr[i] += sign * v
                total[i] += v
                energy[i] += v * v
        for i in range(m):
            var = npat * energy[i] - total[i] * total[i]
            # float32 leaves a residue of ~1e-7 of the energy for a constant input: treat that as flat
            out[t0 + i] = corr[i] / math.sqrt(var) if var > 1e-5 * npat * energy[i] + 1e-20 else 0.0
    return out


def pattern_taps(pattern: int, nbits: int, samples_per_chip: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (samples) and signs of a sync pattern sent MSB first."""
    bits = [(pattern >> (nbits - 1 - k)) & 1 for k in range(nbits)]
    offsets = np.array([round(k * samples_per_chip) for k in range(nbits)], dtype=np.int64)
    signs = np.array([1.0 if b else -1.0 for b in bits], dtype=np.float32)
    return offsets, signs
