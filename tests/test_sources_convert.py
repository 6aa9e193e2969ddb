"""The IQ conversion kernels agree with plain numpy, both ways, for every raw value."""

from __future__ import annotations

import numpy as np
import pytest

from sdr_wmbus.dsp.convert import (
    complex64_to_cs8,
    complex64_to_cs16,
    complex64_to_cu8,
    cs8_to_complex64,
    cs16_to_complex64,
    cu8_to_complex64,
)

RNG = np.random.default_rng(7)


def as_complex(interleaved: np.ndarray) -> np.ndarray:
    """float I,Q,I,Q… (any float dtype) → complex64, rounded once."""
    return interleaved.astype(np.float32).view(np.complex64)


def test_cu8_matches_numpy_for_every_byte():
    raw = np.concatenate([np.arange(256, dtype=np.uint8), RNG.integers(0, 256, 10_000, dtype=np.uint8)])
    expected = as_complex((raw.astype(np.float64) - 127.5) / 127.5)
    np.testing.assert_array_equal(cu8_to_complex64(raw), expected)
    assert cu8_to_complex64(raw).dtype == np.complex64
    assert cu8_to_complex64(np.array([0, 255], np.uint8))[0] == -1 + 1j


def test_cs8_matches_numpy_for_every_value():
    raw = np.arange(-128, 128, dtype=np.int8)
    np.testing.assert_array_equal(cs8_to_complex64(raw), as_complex(raw.astype(np.float64) / 128))


def test_cs16_matches_numpy():
    raw = np.concatenate([np.array([-32768, 32767, 0, 1], np.int16), RNG.integers(-32768, 32768, 10_000)])
    raw = raw.astype(np.int16)
    np.testing.assert_array_equal(cs16_to_complex64(raw), as_complex(raw.astype(np.float64) / 32768))


@pytest.mark.parametrize(
    "kernel, dtype",
    [(cu8_to_complex64, np.uint8), (cs8_to_complex64, np.int8), (cs16_to_complex64, np.int16)],
)
def test_odd_trailing_value_is_ignored_and_empty_works(kernel, dtype):
    assert kernel(np.ones(5, dtype)).size == 2
    assert kernel(np.ones(1, dtype)).size == 0
    assert kernel(np.ones(0, dtype)).size == 0


def numpy_quantize(iq: np.ndarray, scale: float, offset: float, lo: int, hi: int, dtype) -> np.ndarray:
    values = np.empty(2 * iq.size, np.float64)
    values[0::2], values[1::2] = iq.real, iq.imag
    return np.clip(np.rint(values * scale + offset), lo, hi).astype(dtype)


@pytest.fixture
def wild_iq() -> np.ndarray:
    """Samples in range, out of range (clipped) and exactly on rounding ties."""
    parts = RNG.uniform(-1.3, 1.3, 20_000).astype(np.float32)
    ties = np.array([0.5 / 128, 1.5 / 128, -0.5 / 128, 0.5 / 32768, 1 / 255, 0, 1, -1], np.float32)
    return np.concatenate([parts, ties, -ties[::-1]]).view(np.complex64)


def test_to_cu8_matches_numpy(wild_iq):
    np.testing.assert_array_equal(
        complex64_to_cu8(wild_iq), numpy_quantize(wild_iq, 127.5, 127.5, 0, 255, np.uint8)
    )


def test_to_cs8_matches_numpy(wild_iq):
    np.testing.assert_array_equal(
        complex64_to_cs8(wild_iq), numpy_quantize(wild_iq, 128, 0, -128, 127, np.int8)
    )


def test_to_cs16_matches_numpy(wild_iq):
    expected = numpy_quantize(wild_iq, 32768, 0, -32768, 32767, np.int16)
    np.testing.assert_array_equal(complex64_to_cs16(wild_iq), expected)


def test_reverse_kernels_take_strided_input_and_map_nan_to_zero(wild_iq):
    np.testing.assert_array_equal(complex64_to_cs8(wild_iq[::3]), complex64_to_cs8(wild_iq[::3].copy()))
    nan = np.array([complex(np.nan, 1.0)], np.complex64)
    assert complex64_to_cs8(nan).tolist() == [0, 127]
    assert complex64_to_cs16(nan).tolist() == [0, 32767]
    assert complex64_to_cu8(nan).tolist() == [128, 255]


@pytest.mark.parametrize(
    "to_complex, from_complex, raw",
    [
        (cu8_to_complex64, complex64_to_cu8, np.arange(256, dtype=np.uint8)),
        (cs8_to_complex64, complex64_to_cs8, np.arange(-128, 128, dtype=np.int8)),
        (cs16_to_complex64, complex64_to_cs16, np.arange(-32768, 32768, dtype=np.int16)),
    ],
)
def test_raw_survives_a_round_trip(to_complex, from_complex, raw):
    np.testing.assert_array_equal(from_complex(to_complex(raw)), raw)
