"""Chip decisions for one candidate frame: non-coherent tone detection with symbol-timing tracking.

Each chip is the envelope difference between the two FSK tones (carrier offset +- deviation), each
correlated over the chip's samples: the ideal non-coherent detector for 2-FSK, better than slicing the
FM discriminator at low SNR. Symbol timing follows a Gardner loop on the integrated discriminator
(the unwrapped phase): the mean frequency over a chip-long window centred on a chip boundary is zero
when the timing is right and grows linearly with the timing error, so chip-rate errors of a few hundred
ppm over a 3,500-chip frame are tracked.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _phase_at(phase: np.ndarray, x: float) -> float:
    """Unwrapped phase at a fractional sample position (linear interpolation)."""
    n = int(math.floor(x))
    if n < 0:
        return phase[0]
    if n >= phase.shape[0] - 1:
        return phase[phase.shape[0] - 1]
    frac = x - n
    return phase[n] + frac * (phase[n + 1] - phase[n])


@njit(cache=True, nogil=True)
def tone_chips(
    iq: np.ndarray,
    phase: np.ndarray,
    start: float,
    samples_per_chip: float,
    nchips: int,
    w_one: float,
    w_zero: float,
    loop_gain: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Envelopes of tone 1 and tone 0 for each chip (their difference is the soft chip).

    ``start``: sample position where chip 0 begins; ``w_one``/``w_zero``: tone frequencies in rad/sample;
    ``phase``: unwrapped phase of ``iq`` (cumulative FM discriminator), same indexing.
    Returns (envelope of tone 1, envelope of tone 0, position after the last chip).
    Chips past the end of ``iq`` are 0.
    """
    env_one = np.zeros(nchips, dtype=np.float32)
    env_zero = np.zeros(nchips, dtype=np.float32)
    t = start
    sps = samples_per_chip
    center = 0.5 * (w_one + w_zero)
    swing = abs(w_one - w_zero)
    previous_mid = 0.0
    n_total = iq.shape[0]
    step1_c = math.cos(w_one)
    step1_s = math.sin(w_one)
    step0_c = math.cos(w_zero)
    step0_s = math.sin(w_zero)
    for k in range(nchips):
        a = int(math.floor(t + 0.5))
        b = int(math.floor(t + sps + 0.5))
        if b > n_total or a < 1:
            break
        r1 = 0.0
        i1 = 0.0
        r0 = 0.0
        i0 = 0.0
        # Local oscillators exp(-j w n) from the chip's first sample on, advanced by a rotation per
        # sample: four trigonometric calls per chip instead of four per sample.
        c1 = math.cos(w_one * a)
        s1 = math.sin(w_one * a)
        c0 = math.cos(w_zero * a)
        s0 = math.sin(w_zero * a)
        for n in range(a, b):
            v = iq[n]
            r1 += v.real * c1 + v.imag * s1
            i1 += v.imag * c1 - v.real * s1
            r0 += v.real * c0 + v.imag * s0
            i0 += v.imag * c0 - v.real * s0
            c1, s1 = c1 * step1_c - s1 * step1_s, s1 * step1_c + c1 * step1_s
            c0, s0 = c0 * step0_c - s0 * step0_s, s0 * step0_c + c0 * step0_s
        env_one[k] = math.sqrt(r1 * r1 + i1 * i1)
        env_zero[k] = math.sqrt(r0 * r0 + i0 * i0)
        # Gardner timing error on the mean frequency: chip k, and a window straddling its start.
        mid = (_phase_at(phase, t + sps) - _phase_at(phase, t)) / sps - center
        if k > 0 and (mid > 0) != (previous_mid > 0):
            straddle = (_phase_at(phase, t + 0.5 * sps) - _phase_at(phase, t - 0.5 * sps)) / sps - center
            error = straddle * (previous_mid - mid) / (swing * swing)
            error = min(max(error, -0.5), 0.5)  # discriminator clicks must not throw the timing off
            t += loop_gain * error * sps
        previous_mid = mid
        t += sps
    return env_one, env_zero, t
