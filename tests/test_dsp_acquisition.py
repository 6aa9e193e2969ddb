"""The chip-rate acquisition kernels (sdr_wmbus.dsp.sync) and the chip timing fit (sdr_wmbus.dsp.chips),
checked against direct computations and on signals whose timing is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdr_wmbus.dsp.chips import tone_chips
from sdr_wmbus.dsp.sync import clipped_chip_average, correlate_rates, gated_starts, preamble_bins
from sdr_wmbus.phy.encode import t1_chips
from sdr_wmbus.phy.receiver import SEARCH
from sdr_wmbus.phy.streaming import rate_offsets
from sdr_wmbus.synth import modulate_fsk


def test_clipped_chip_average():
    freq = np.array([0.1, 0.2, 5.0, -0.3, -9.0, 0.4], dtype=np.float32)
    got = clipped_chip_average(freq, 3, 1.0)
    clipped = np.clip(freq, -1.0, 1.0)
    expected = [clipped[n : n + 3].mean() for n in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def preamble_detector(
    block: int = 8, blocks: int = 8, threshold: float = 0.35, tones=(-0.09, -0.03, 0.03, 0.09)
):
    """State and parameters as the T1/C1 receiver sets them up at 4 samples per chip."""
    sps = 4.0
    offsets = np.array([(math.pi * (1 + e) / sps - 2 * math.pi / block) * block for e in tones])
    state = np.zeros(9 + 2 * len(tones))
    state[8] = -1
    return offsets, state, np.zeros((blocks, 4))


def alternating(n: int, sps: float, rate_error: float, carrier: float = 0.3) -> np.ndarray:
    """A chip-averaged preamble: a triangle wave of period 2 chips around a carrier (DC) level."""
    t = np.arange(n) * (1 + rate_error) / sps
    return (carrier + 0.8 * (2 * np.abs((t % 2) - 1) - 1)).astype(np.float32)


@pytest.mark.parametrize("rate_error", [-0.12, -0.05, 0.0, 0.06, 0.12])
def test_preamble_bins_find_a_preamble_at_any_rate_and_reject_noise(rate_error: float):
    offsets, state, history = preamble_detector()
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(2000) * 0.5).astype(np.float32)
    values = np.concatenate((noise, alternating(400, 4.0, rate_error), noise))
    bins = preamble_bins(values, 0, 8, offsets, 8, 0.35, state, history)
    inside = bins[2000 + 100 : 2000 + 400]
    assert (inside >= 0).all()  # a preamble all the way once the window is inside it
    nearest = np.abs(np.array([-0.09, -0.03, 0.03, 0.09]) - rate_error)
    assert nearest[np.bincount(inside).argmax()] <= nearest.min() + 1e-9  # the bin nearest the rate
    assert np.mean(bins[:2000] >= 0) < 0.05  # noise: a few per cent of windows
    # a constant (an unmodulated carrier) is no preamble
    offsets, state, history = preamble_detector()
    assert (preamble_bins(np.full(500, 0.7, np.float32), 0, 8, offsets, 8, 0.35, state, history) < 0).all()


def test_preamble_bins_do_not_depend_on_block_boundaries():
    rng = np.random.default_rng(2)
    values = np.concatenate(
        [(rng.standard_normal(3001) * 0.5).astype(np.float32), alternating(300, 4.0, 0.04)] * 3
    )
    offsets, state, history = preamble_detector()
    whole = preamble_bins(values, 5, 8, offsets, 8, 0.35, state, history)
    for step in (1, 7, 64, 1000):
        offsets, state, history = preamble_detector()
        parts = [
            preamble_bins(values[i : i + step], 5 + i, 8, offsets, 8, 0.35, state, history)
            for i in range(0, len(values), step)
        ]
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_gated_starts_against_a_direct_count():
    rng = np.random.default_rng(3)
    bin_lo, bin_hi = np.array([0, 2, 4, 6]), np.array([3, 5, 7, 10])
    for _ in range(300):
        count = int(rng.integers(1, 300))
        reach_lo = int(rng.integers(0, 20))
        reach_hi = reach_lo + int(rng.integers(0, 30))
        fired = rng.random(count + reach_hi) < 0.05
        bins = np.where(fired, rng.integers(0, 4, count + reach_hi), -1).astype(np.int8)
        starts, first, last = gated_starts(bins, count, reach_lo, reach_hi, bin_lo, bin_hi)
        expected = [s for s in range(count) if (bins[s + reach_lo : s + reach_hi + 1] >= 0).any()]
        assert starts.tolist() == expected
        for s, lo, hi in zip(starts, first, last, strict=True):
            window = bins[s + reach_lo : s + reach_hi + 1]
            window = window[window >= 0]
            assert lo <= bin_lo[window].min() and hi >= bin_hi[window].max()


def test_correlate_rates_against_a_direct_computation():
    rng = np.random.default_rng(4)
    chips = rng.standard_normal(3000).astype(np.float32)
    rates = [-0.1, -0.025, 0.0, 0.05]
    offsets = rate_offsets(SEARCH.bits, 4.0, rates)
    signs, segments = SEARCH.signs(), SEARCH.segments()
    variants = np.array(SEARCH.variants, dtype=np.float32)
    bias = np.array([0.0, 0.05, 0.05], dtype=np.float32)
    starts = np.array([5, 6, 7, 8, 100, 101, 500, 900, 901, 902], dtype=np.int64)
    first = np.array([0, 0, 0, 1, 0, 2, 3, 0, 0, 0])
    last = np.array([3, 3, 3, 2, 0, 3, 3, 1, 1, 1])
    score, hyp, var = correlate_rates(chips, starts, first, last, offsets, signs, segments, variants, bias)
    for i, s in enumerate(starts):
        best = (0.0, 0, 0)
        for h in range(first[i], last[i] + 1):
            v = chips[s + offsets[h]].astype(np.float64)
            norm = math.sqrt(len(v) * np.sum(v * v) - np.sum(v) ** 2)
            for k, form in enumerate(variants):
                value = np.sum(signs * form[segments] * v) / norm - bias[k]
                if value > best[0]:
                    best = (value, h, k)
        assert score[i] == pytest.approx(best[0], abs=1e-5)
        assert (hyp[i], var[i]) == best[1:]


def test_a_pattern_off_the_nominal_rate_matches_its_own_rate_hypothesis():
    sps, rate = 4.0, 0.075
    chips_per_sample = (1 + rate) / sps
    # the search pattern sent at +7.5 %, one frequency per sample, then chip-averaged as the receiver does
    # (value n: the mean over samples n..n+3, so chip k peaks where it begins)
    pattern = (SEARCH.signs() > 0).astype(np.uint8)
    raw = np.array(
        [2.0 * pattern[min(int(n * chips_per_sample), SEARCH.bits - 1)] - 1 for n in range(200)],
        dtype=np.float32,
    )
    raw = np.concatenate((np.zeros(50, np.float32), raw, np.zeros(50, np.float32)))
    values = clipped_chip_average(raw, 4, 10.0)
    rates = [0.0, 0.075]
    offsets = rate_offsets(SEARCH.bits, sps, rates)
    forms = np.array(SEARCH.variants, np.float32)

    def score(start: int, hypothesis: int) -> float:
        one = np.array([start], dtype=np.int64)
        h = np.array([hypothesis])
        return float(
            correlate_rates(
                values, one, h, h, offsets, SEARCH.signs(), SEARCH.segments(), forms, np.zeros(3, np.float32)
            )[0][0]
        )

    own = score(50, 1)
    assert own > 0.95  # the pattern at its own rate (whole-sample taps, chips of 3.7 samples)
    assert max(score(s, 0) for s in range(40, 60)) < own - 0.1  # at the nominal rate it is smeared


@pytest.mark.parametrize("jitter", [0.0, 3e-6])
def test_chip_timing_fit_finds_the_clock_through_the_jitter(jitter: float):
    """A T1 burst at +7 % with jittered transitions, demodulated from a start and chip period both a
    little off: the least-squares timing ends at the true clock, and the chips come out right."""
    rate, chip_rate = 400e3, 100e3 * 1.07
    frame = bytes.fromhex(
        "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"
    )
    chips = t1_chips(frame)
    iq = modulate_fsk(chips, rate, 100e3, 50e3, ppm=7e4, jitter_s=jitter, rng=np.random.default_rng(5))
    freq = np.angle(iq[1:] * np.conj(iq[:-1])).astype(np.float32)
    phase = np.concatenate(([0.0], np.cumsum(freq, dtype=np.float64)))
    true_sps = rate / chip_rate
    known = 48  # preamble and sync
    dev = 2 * math.pi * 50e3 / rate
    env1, env0, end, period = tone_chips(
        iq, phase, 0.3, true_sps * 1.004, chips[:known].astype(np.uint8), len(chips) - known, dev, -dev, 8
    )
    assert period == pytest.approx(true_sps, rel=2e-4)
    # (this modulator switches frequency at the first sample after a boundary: half a sample late)
    assert end == pytest.approx(len(chips) * true_sps + 0.5, abs=0.5)
    errors = int(np.sum((env1 > env0) != chips[known:]))
    assert errors <= (0 if jitter == 0 else len(chips) // 50)
