"""Raw interleaved IQ <-> complex64 conversion kernels.

Everything downstream of a source works on complex64 scaled to about ±1.0, whatever the SDR wrote:
cu8 (rtl_sdr: unsigned 8-bit, value − 127.5, /127.5), cs8 (signed 8-bit, /128) and cs16 (int16
little-endian, /32768). cf32 needs no kernel: a little-endian byte view already is complex64.
The reverse kernels (for writers) round to nearest (ties to even) and clip; NaN becomes zero.
Kernels are pure (arrays in, new arrays out), so they may run in any thread.
"""

from __future__ import annotations

import numpy as np

from ..kernels import kernel

# 256-entry table: exact (x - 127.5) / 127.5 in float32 and faster than arithmetic per byte.
_CU8_LEVELS = ((np.arange(256) - 127.5) / 127.5).astype(np.float32)


@kernel("uint8[::1]")
def cu8_to_complex64(raw):
    """uint8 I,Q,I,Q… → complex64; a trailing odd byte is ignored."""
    n = raw.size // 2
    out = np.empty(2 * n, np.float32)
    for j in range(2 * n):
        out[j] = _CU8_LEVELS[raw[j]]
    return out.view(np.complex64)


@kernel("int8[::1]")
def cs8_to_complex64(raw):
    """int8 I,Q,I,Q… → complex64 (/128); a trailing odd value is ignored."""
    n = raw.size // 2
    out = np.empty(2 * n, np.float32)
    scale = np.float32(1.0 / 128.0)
    for j in range(2 * n):
        out[j] = np.float32(raw[j]) * scale
    return out.view(np.complex64)


@kernel("int16[::1]")
def cs16_to_complex64(raw):
    """int16 (native order; view '<i2' data first) I,Q,I,Q… → complex64 (/32768)."""
    n = raw.size // 2
    out = np.empty(2 * n, np.float32)
    scale = np.float32(1.0 / 32768.0)
    for j in range(2 * n):
        out[j] = np.float32(raw[j]) * scale
    return out.view(np.complex64)


@kernel(inline="always")
def _quantize(x, scale, offset, lo, hi):
    """round(x * scale + offset) clipped to [lo, hi]; NaN counts as 0."""
    v = float(x)
    if v != v:
        v = 0.0
    v = np.rint(v * scale + offset)
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


@kernel("complex64[::1]")
def complex64_to_cu8(iq):
    """complex → uint8 I,Q,I,Q… (x * 127.5 + 127.5, rounded, clipped to 0..255)."""
    n = iq.size
    out = np.empty(2 * n, np.uint8)
    for i in range(n):
        out[2 * i] = np.uint8(_quantize(iq[i].real, 127.5, 127.5, 0.0, 255.0))
        out[2 * i + 1] = np.uint8(_quantize(iq[i].imag, 127.5, 127.5, 0.0, 255.0))
    return out


@kernel("complex64[::1]")
def complex64_to_cs8(iq):
    """complex → int8 I,Q,I,Q… (x * 128, rounded, clipped to -128..127)."""
    n = iq.size
    out = np.empty(2 * n, np.int8)
    for i in range(n):
        out[2 * i] = np.int8(_quantize(iq[i].real, 128.0, 0.0, -128.0, 127.0))
        out[2 * i + 1] = np.int8(_quantize(iq[i].imag, 128.0, 0.0, -128.0, 127.0))
    return out


@kernel("complex64[::1]")
def complex64_to_cs16(iq):
    """complex → int16 (native order) I,Q,I,Q… (x * 32768, rounded, clipped to -32768..32767)."""
    n = iq.size
    out = np.empty(2 * n, np.int16)
    for i in range(n):
        out[2 * i] = np.int16(_quantize(iq[i].real, 32768.0, 0.0, -32768.0, 32767.0))
        out[2 * i + 1] = np.int16(_quantize(iq[i].imag, 32768.0, 0.0, -32768.0, 32767.0))
    return out
