"""Chip decisions for one candidate frame: non-coherent tone detection with chip timing fitted as it goes.

Each chip is the envelope difference between the two FSK tones (carrier offset +- deviation), each
correlated over the chip's samples: the ideal non-coherent detector for 2-FSK, better than slicing the
FM discriminator at low SNR.

Timing: a meter's chip clock is a crystal, off by a fixed amount but steady over a frame, while each
transition may wander by a few microseconds (EN 13757-4 allows +-3 us, a third of a T1 chip). So the
chip starts are a straight line, t_k = a + b * k, fitted by least squares through every transition
measured so far: the known chips of preamble and sync first, then each decided transition of the frame.
Where a transition lies comes from the integrated discriminator (the unwrapped phase): the mean
frequency over a chip-long window centred on the assumed boundary is zero when it is right and moves
linearly with the error. Jitter averages out as transitions accumulate (a loop that corrects a little
at each transition would chase it instead), and the chip rate is known better the longer the frame.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import kernel


@kernel(inline="always")
def _phase_at(phase: np.ndarray, x: float) -> float:
    """Unwrapped phase at a fractional sample position (linear interpolation)."""
    n = int(math.floor(x))
    if n < 0:
        return phase[0]
    if n >= phase.shape[0] - 1:
        return phase[phase.shape[0] - 1]
    frac = x - n
    return phase[n] + frac * (phase[n + 1] - phase[n])


@kernel(inline="always")
def _boundary(phase: np.ndarray, t: float, period: float, rising: bool, center: float, swing: float) -> float:
    """Where the transition assumed at ``t`` lies, from the phase; NaN when it cannot be measured.

    A window one chip long centred on the assumed boundary holds (0.5 + d) of the previous chip when
    the real boundary is d chips later, so its mean frequency is off the carrier by d times the swing.
    """
    if t - 0.5 * period < 0 or t + 0.5 * period >= phase.shape[0] - 1:
        return math.nan
    straddle = (_phase_at(phase, t + 0.5 * period) - _phase_at(phase, t - 0.5 * period)) / period
    late = -(straddle - center) * (1.0 if rising else -1.0) / swing
    if abs(late) >= 0.45:  # beyond that, a click or a wrong decision, not a measurement
        return math.nan
    return t + late * period


@kernel(
    "complex64[::1], float64[::1], float64, float64, uint8[::1], int64, float64, float64, int64, float64, "
    "boolean"
)
def tone_chips(
    iq: np.ndarray,
    phase: np.ndarray,
    start: float,
    samples_per_chip: float,
    known: np.ndarray,
    nchips: int,
    w_one: float,
    w_zero: float,
    settle: int,
    window: float = 1.0,
    manchester: bool = False,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Envelopes of tone 1 and tone 0 for ``nchips`` chips after the ``known`` ones (their difference is
    the soft chip).

    ``start``: sample position where the first known chip begins, ``samples_per_chip`` the estimate of
    the acquisition (the fit starts from both and takes over after ``settle`` transitions; it may move
    the chip period by at most 3 %); ``known``: chips (0/1) sent before the ones wanted (preamble tail,
    sync); ``w_one``/``w_zero``: tone frequencies in rad/sample; ``phase``: unwrapped phase of ``iq``
    (cumulative FM discriminator), same indexing. ``window``: the share of each chip, around its
    middle, that the tones are measured over (at least two samples); less than 1 when transitions
    jitter by a good part of a chip, so that a chip shortened from both sides is not outweighed by its
    neighbours. ``manchester``: the chips after the known ones come in pairs "01"/"10" (mode S), so
    each pair is decided as a whole (3 dB surer than a chip) before its transitions are measured.
    Returns (envelope of tone 1, envelope of tone 0, position after the last chip, chip period).
    Chips past the end of ``iq`` are 0.
    """
    env_one = np.zeros(nchips, dtype=np.float32)
    env_zero = np.zeros(nchips, dtype=np.float32)
    nknown = known.shape[0]
    total = nknown + nchips
    chips = np.zeros(total, dtype=np.int8)
    first = start
    period = samples_per_chip
    low = 0.97 * samples_per_chip
    high = 1.03 * samples_per_chip
    center = 0.5 * (w_one + w_zero)
    swing = abs(w_one - w_zero)
    n_total = iq.shape[0]
    step1_c = math.cos(w_one)
    step1_s = math.sin(w_one)
    step0_c = math.cos(w_zero)
    step0_s = math.sin(w_zero)
    count = 0
    sum_k = 0.0
    sum_kk = 0.0
    sum_t = 0.0
    sum_kt = 0.0
    for k in range(total):
        t = first + period * k
        decided = k  # the chips from here to k are decided now
        if k < nknown:
            chips[k] = known[k]
        else:
            # The samples that lie within the chip (the first at or after its start): each one's phase
            # has then advanced at this chip's frequency since the previous sample.
            a = int(math.ceil(t + 0.5 * (1.0 - window) * period))
            b = max(a + 2, int(math.ceil(t + 0.5 * (1.0 + window) * period)))
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
            e1 = math.sqrt(r1 * r1 + i1 * i1)
            e0 = math.sqrt(r0 * r0 + i0 * i0)
            j = k - nknown
            env_one[j] = e1
            env_zero[j] = e0
            if not manchester:
                chips[k] = 1 if e1 > e0 else 0
            elif j % 2 == 0:
                continue  # the first chip of a pair: decided with the second
            else:
                one = (e1 - e0) - (env_one[j - 1] - env_zero[j - 1]) > 0  # "01" is a 1
                chips[k - 1] = 0 if one else 1
                chips[k] = 1 if one else 0
                decided = k - 1
        for m in range(decided, k + 1):
            if m == 0 or chips[m] == chips[m - 1]:
                continue
            at = _boundary(phase, first + period * m, period, chips[m] == 1, center, swing)
            if math.isnan(at):
                continue
            count += 1
            sum_k += m
            sum_kk += m * m
            sum_t += at
            sum_kt += m * at
            if count >= settle:
                det = count * sum_kk - sum_k * sum_k
                if det > 0:
                    slope = (count * sum_kt - sum_k * sum_t) / det
                    if low <= slope <= high:
                        period = slope
                        first = (sum_t - slope * sum_k) / count
    return env_one, env_zero, first + period * total, period
