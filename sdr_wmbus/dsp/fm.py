"""FM discriminator: instantaneous frequency (radians per sample) between consecutive samples."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def discriminate(block: np.ndarray, previous: complex) -> np.ndarray:
    """arg(x[n] * conj(x[n-1])); ``previous`` is the sample before the block (state across blocks)."""
    out = np.empty(block.shape[0], dtype=np.float32)
    p = previous
    for n in range(block.shape[0]):
        v = block[n]
        re = v.real * p.real + v.imag * p.imag
        im = v.imag * p.real - v.real * p.imag
        out[n] = math.atan2(im, re)
        p = v
    return out
