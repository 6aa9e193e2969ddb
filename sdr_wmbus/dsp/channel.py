"""Channel selection: shift the wanted carrier to 0 Hz and low-pass/decimate to a few samples per chip.

The decimation factor is chosen so that any input rate from 0.8 to 3.2 Msps lands at 400-800 kS/s
(4-8 samples per 100 kcps chip); the filter is a Hamming-windowed sinc for the T1/C1 channel
(deviation 50 kHz + half the chip rate + a carrier offset of up to +-60 kHz).
State (filter history, mixer phase by absolute sample index) is kept across blocks, so the output does
not depend on how the input is cut into blocks.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import kernel

TARGET_RATE = 400_000.0
PASSBAND_HZ = 150_000.0


_TILE = 1024  # outputs per pass: the accumulators stay in L1 while every tap is added
# Value-safe fast-math flags only (no reassociation, no contraction): LLVM vectorises across outputs and
# every output still gets bit-identical arithmetic, wherever a block starts.
_VECTOR_FLAGS = {"nnan", "ninf", "nsz"}


@kernel("complex64[::1], complex64[::1], float32[::1], int64, int64", fastmath=_VECTOR_FLAGS)
def fir_decimate(
    history: np.ndarray, block: np.ndarray, taps: np.ndarray, decim: int, first: int
) -> np.ndarray:
    """Filter ``history + block`` with real ``taps`` and keep every ``decim``-th output.

    ``history`` holds the len(taps)-1 samples before the block; output i is centred on the input
    sample at ``first + i*decim`` counted from the start of ``block`` (after the history).
    Polyphase: each tile's input is split into ``decim`` streams of real and imaginary parts, so each
    tap is one contiguous multiply-add over the tile's outputs (SIMD) instead of a strided gather.
    """
    ntaps = taps.shape[0]
    nhist = history.shape[0]
    n_all = nhist + block.shape[0]
    total = block.shape[0]
    count = 0 if first >= total else (total - 1 - first) // decim + 1
    out = np.empty(count, dtype=np.complex64)
    if count == 0:
        return out
    rows = _TILE + (ntaps - 1) // decim + 1
    re = np.zeros((decim, rows), dtype=np.float32)
    im = np.zeros((decim, rows), dtype=np.float32)
    acc_re = np.empty(_TILE, dtype=np.float32)
    acc_im = np.empty(_TILE, dtype=np.float32)
    for t0 in range(0, count, _TILE):
        m = min(_TILE, count - t0)
        base = first + t0 * decim  # first input of output t0, counted from the history's start
        for j in range(m + (ntaps - 1) // decim + 1):
            for p in range(decim):
                n = base + j * decim + p
                if n < nhist:
                    v = history[n]
                elif n < n_all:
                    v = block[n - nhist]
                else:
                    v = 0j
                re[p, j] = v.real
                im[p, j] = v.imag
        for i in range(m):
            acc_re[i] = 0.0
            acc_im[i] = 0.0
        for k in range(ntaps):
            p = k % decim
            q = k // decim
            tap = taps[k]
            part_re = re[p, q : q + m]
            part_im = im[p, q : q + m]
            for i in range(m):
                acc_re[i] += tap * part_re[i]
                acc_im[i] += tap * part_im[i]
        for i in range(m):
            out[t0 + i] = complex(acc_re[i], acc_im[i])
    return out


MIX_TABLE = 1024  # local-oscillator samples per table: one cos/sin pair per this many input samples


def mixer_table(step: float) -> np.ndarray:
    """exp(-j*step*k) for k < MIX_TABLE (complex64), the oscillator within one table-long stretch."""
    return np.exp(-1j * step * np.arange(MIX_TABLE)).astype(np.complex64)


@kernel("complex64[::1], complex64[::1], float64, int64", fastmath=_VECTOR_FLAGS)
def mix(block: np.ndarray, table: np.ndarray, step: float, first_index: int) -> np.ndarray:
    """Multiply by exp(-j*step*n), n the absolute sample index (``first_index`` for the block's first),
    to move a carrier at +step rad/sample to 0 Hz.

    The oscillator at n = c*T + k (T = len(table)) is exp(-j*step*c*T) * table[k]: one cos/sin per
    stretch, a table look-up per sample. No recurrence, so the loop vectorises, and each sample's
    oscillator depends on its absolute index only, whatever the block boundaries.
    """
    size = table.shape[0]
    count = block.shape[0]
    out = np.empty_like(block)
    n = 0
    while n < count:
        absolute = first_index + n
        stretch = absolute // size
        k0 = absolute - stretch * size
        angle = step * float(stretch * size)  # libm reduces large arguments exactly
        c_re = np.float32(math.cos(angle))
        c_im = np.float32(-math.sin(angle))
        m = min(count - n, size - k0)
        for i in range(m):
            t = table[k0 + i]
            o_re = c_re * t.real - c_im * t.imag
            o_im = c_re * t.imag + c_im * t.real
            v = block[n + i]
            out[n + i] = complex(v.real * o_re - v.imag * o_im, v.real * o_im + v.imag * o_re)
        n += m
    return out


def lowpass_taps(ntaps: int, cutoff_hz: float, rate: float) -> np.ndarray:
    """Linear-phase low-pass FIR: a sinc cut off at ``cutoff_hz`` (-6 dB) under a Hamming window,
    scaled to unit gain at DC (the same taps as scipy.signal.firwin's defaults, without importing
    scipy, which alone would cost a receiver 75 MB of memory)."""
    middle = (ntaps - 1) / 2
    band = cutoff_hz / (rate / 2)  # relative to Nyquist
    n = np.arange(ntaps)
    taps = band * np.sinc(band * (n - middle))
    if ntaps > 1:
        taps *= 0.54 - 0.46 * np.cos(2 * math.pi * n / (ntaps - 1))
    return taps / taps.sum()


def decimation_for(rate: float) -> int:
    """Integer factor that brings ``rate`` to 400-800 kS/s."""
    if not 0.79e6 <= rate <= 3.21e6:
        raise ValueError(f"sample rate {rate:.0f} Hz is outside 0.8-3.2 Msps")
    return max(1, int(rate // TARGET_RATE))


class ChannelFilter:
    """Stateful block: input rate -> baseband at ``rate / decim`` with the carrier at 0 Hz."""

    def __init__(self, rate: float, shift_hz: float = 0.0) -> None:
        self.in_rate = float(rate)
        self.decim = decimation_for(rate)
        self.out_rate = self.in_rate / self.decim
        ntaps = 6 * self.decim + 1 if self.decim > 1 else 1
        if self.decim > 1:
            self.taps = lowpass_taps(ntaps, PASSBAND_HZ, self.in_rate).astype(np.float32)
        else:
            self.taps = np.ones(1, dtype=np.float32)
        self.history = np.zeros(len(self.taps) - 1, dtype=np.complex64)
        self.shift_hz = float(shift_hz)
        self._step = 2.0 * math.pi * self.shift_hz / self.in_rate
        self._mixer_table = mixer_table(self._step)
        self.samples_in = 0  # absolute index of the next input sample
        self._next_output = 0  # absolute input index of the next kept output

    def process(self, block: np.ndarray) -> np.ndarray:
        block = np.ascontiguousarray(block, dtype=np.complex64)
        if self.shift_hz:
            block = mix(block, self._mixer_table, self._step, self.samples_in)
        first = self._next_output - self.samples_in
        out = fir_decimate(self.history, block, self.taps, self.decim, first)
        self._next_output += len(out) * self.decim
        self.samples_in += len(block)
        keep = len(self.history)
        if keep:
            if len(block) >= keep:
                self.history = block[-keep:].copy()
            else:
                self.history = np.concatenate((self.history, block))[-keep:]
        return out
