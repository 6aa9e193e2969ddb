"""FM discriminator: instantaneous frequency (radians per sample) between consecutive samples."""

from __future__ import annotations

import numpy as np

from ..kernels import kernel


@kernel(inline="always")
def fast_atan2(y: float, x: float) -> float:
    """atan2 within 0.0015 rad (a minimax polynomial of the octant angle): several times cheaper than
    libm's, far finer than the FM noise it measures."""
    ax = abs(x)
    ay = abs(y)
    big = max(ax, ay)
    if big == 0.0:
        return 0.0
    a = min(ax, ay) / big
    s = a * a
    r = ((-0.0464964749 * s + 0.15931422) * s - 0.327622764) * s * a + a
    if ay > ax:
        r = 1.57079637 - r
    if x < 0:
        r = 3.14159274 - r
    if y < 0:
        r = -r
    return r


@kernel("complex64[::1], complex128")
def discriminate(block: np.ndarray, previous: complex) -> np.ndarray:
    """arg(x[n] * conj(x[n-1])); ``previous`` is the sample before the block (state across blocks)."""
    out = np.empty(block.shape[0], dtype=np.float32)
    p = previous
    for n in range(block.shape[0]):
        v = block[n]
        re = v.real * p.real + v.imag * p.imag
        im = v.imag * p.real - v.real * p.imag
        out[n] = fast_atan2(im, re)
        p = v
    return out
