"""Synthetic T1/C1/S1 test signals: known telegrams as complex baseband IQ, with noise and radio errors.

The receiver is tested and benchmarked against these signals, because with a synthetic signal we know
exactly what was sent, where, at which frequency offset, chip-rate error and Ec/N0.

Noise level convention (``add_noise``, ``synthesize(ecn0_db=...)``): Ec/N0 is the energy per *chip*
over the noise power spectral density,

    Ec/N0 = P_signal * T_chip / (sigma^2 / f_s)

where P_signal is the mean power of a burst (amplitude squared), T_chip = 1 / chip_rate, sigma^2 the
variance of the complex noise (both I and Q together) and f_s the sample rate, so sigma^2 / f_s is the
noise density across the sampled band. The result does not depend on the sample rate. For C1 (NRZ)
Eb/N0 = Ec/N0; for T1 (3-of-6, 12 chips per 8 bits) Eb/N0 = Ec/N0 + 1.76 dB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .phy.encode import c1_chips, check_frame, s1_chips, t1_chips
from .tables.phy import (
    C1_PREAMBLE_PAIRS,
    CENTER_S1_HZ,
    CENTER_T1_C1_HZ,
    CHIP_RATE_C1,
    CHIP_RATE_S1,
    CHIP_RATE_T1,
    DEVIATION_C1_HZ,
    DEVIATION_S1_HZ,
    DEVIATION_T1_HZ,
    S1_PREAMBLE_PAIRS,
    T1_PREAMBLE_PAIRS,
)

# Real telegrams (CRC-free, L as in format A) used when the command line names none: spec V13 (Qundis
# Q caloric heat cost allocator, plain, T1) and V6 (Kamstrup Multical 21, ELL + AES, C1).
DEFAULT_TELEGRAMS: tuple[str, ...] = (
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422",
    "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24",
)

IQ_FORMATS = ("cu8", "cs8", "cs16", "cf32", "sigmf")
_FORMAT_BY_SUFFIX = {
    ".cu8": "cu8",
    ".cs8": "cs8",
    ".cs16": "cs16",
    ".cf32": "cf32",
    ".fc32": "cf32",
    ".cfile": "cf32",
    ".sigmf": "sigmf",
    ".sigmf-data": "sigmf",
    ".sigmf-meta": "sigmf",
}

FloatOrRange = float | tuple[float, float]


def modulate_fsk(
    chips: np.ndarray,
    sample_rate: float,
    chip_rate: float = CHIP_RATE_T1,
    deviation: float = DEVIATION_T1_HZ,
    offset_hz: float = 0.0,
    ppm: float = 0.0,
    phase: float = 0.0,
    jitter_s: float = 0.0,
    bt: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Continuous-phase 2-FSK of ``chips`` at unit amplitude (complex64): chip 1 = offset + deviation.

    The chip clock runs ``ppm`` parts per million fast (a meter's crystal error), and sample n lies at
    t = n / sample_rate with chip index floor(t * chip_rate), so any sample rate works, including ones
    with a non-integer number of samples per chip. The phase is the running sum of the instantaneous
    frequency, so it stays continuous across chip boundaries as in a real FSK transmitter.

    ``jitter_s``: every chip boundary moves by a uniform draw within +-jitter_s (from ``rng``), as a
    meter's transitions wander (EN 13757-4 allows +-3 us in mode T). ``bt``: Gaussian frequency shaping
    (GFSK) with this bandwidth-time product; 0 is plain FSK.
    """
    chips = np.asarray(chips, dtype=np.uint8)
    if sample_rate <= 0 or chip_rate <= 0:
        raise ValueError("sample rate and chip rate must be positive")
    actual_chip_rate = chip_rate * (1.0 + ppm * 1e-6)
    n_chips = len(chips)
    if n_chips == 0:
        return np.zeros(0, dtype=np.complex64)
    if jitter_s:
        bounds = chip_bounds(n_chips, sample_rate, actual_chip_rate, jitter_s, rng)
        n_samples = int(math.ceil(bounds[-1] - 1e-9))
        chip_index = np.searchsorted(bounds[1:-1], np.arange(n_samples, dtype=np.float64), side="right")
    else:
        # Samples whose time falls inside the burst; the tiny slack keeps exact ratios from adding a sample.
        n_samples = int(math.ceil(n_chips * sample_rate / actual_chip_rate - 1e-9))
        # Multiply before dividing so that exact ratios (e.g. 24 samples per chip) give exact chip edges.
        chip_index = np.floor(np.arange(n_samples, dtype=np.float64) * actual_chip_rate / sample_rate)
        chip_index = np.minimum(chip_index.astype(np.int64), n_chips - 1)
    level = 2.0 * chips[chip_index].astype(np.float64) - 1.0
    if bt:
        level = gaussian_shape(level, bt, sample_rate / actual_chip_rate)
    frequency = offset_hz + deviation * level
    cycles = np.empty(n_samples, dtype=np.float64)
    cycles[0] = 0.0
    np.cumsum(frequency[:-1] / sample_rate, out=cycles[1:])
    angle = 2.0 * np.pi * np.mod(cycles, 1.0) + phase
    return np.exp(1j * angle).astype(np.complex64)


def chip_bounds(
    n_chips: int,
    sample_rate: float,
    chip_rate: float,
    jitter_s: float,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Sample positions of the n_chips + 1 chip boundaries, the inner ones jittered by +-jitter_s."""
    samples_per_chip = sample_rate / chip_rate
    if not 0 <= jitter_s < 0.5 / chip_rate:
        raise ValueError(
            f"jitter {jitter_s * 1e6:g} us must be less than half a chip ({0.5e6 / chip_rate:.2f} us)"
        )
    bounds = np.arange(n_chips + 1, dtype=np.float64) * samples_per_chip
    if jitter_s and n_chips > 1:
        if rng is None:
            raise ValueError("jitter needs a random generator")
        bounds[1:-1] += rng.uniform(-jitter_s, jitter_s, n_chips - 1) * sample_rate
    return bounds


def gaussian_shape(level: np.ndarray, bt: float, samples_per_chip: float) -> np.ndarray:
    """NRZ levels (+-1 per sample) through the Gaussian filter of GFSK with bandwidth-time product ``bt``.

    sigma = sqrt(ln 2) / (2 pi BT) chips; the burst's first and last levels extend beyond its ends (the
    transmitter sits on that tone before and after).
    """
    if not 0.1 <= bt <= 10:
        raise ValueError(f"BT must be between 0.1 and 10 (0.5 is usual for GFSK), got {bt:g}")
    sigma = math.sqrt(math.log(2.0)) / (2.0 * math.pi * bt) * samples_per_chip
    half = max(1, int(math.ceil(4.0 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.concatenate((np.full(half, level[0]), level, np.full(half, level[-1])))
    return np.convolve(padded, taps, mode="valid")


def noise_variance(signal_power: float, ecn0_db: float, sample_rate: float, chip_rate: float) -> float:
    """Complex noise variance that gives ``ecn0_db`` for bursts of ``signal_power`` (see module doc)."""
    return signal_power * sample_rate / (chip_rate * 10.0 ** (ecn0_db / 10.0))


def add_noise(
    iq: np.ndarray,
    ecn0_db: float,
    sample_rate: float,
    chip_rate: float,
    rng: np.random.Generator,
    signal_power: float | None = None,
) -> np.ndarray:
    """``iq`` plus circular complex white Gaussian noise at the requested Ec/N0 (complex64).

    ``signal_power`` is the power of the bursts; by default the mean power of ``iq``, which is right
    for a signal without gaps. Pass it explicitly when ``iq`` has silent stretches between bursts.
    """
    iq = np.asarray(iq)
    if signal_power is None:
        signal_power = float(np.mean(np.abs(iq) ** 2)) if len(iq) else 0.0
    variance = noise_variance(signal_power, ecn0_db, sample_rate, chip_rate)
    return _plus_noise(iq, variance, rng)


def _plus_noise(iq: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """``iq`` plus complex noise of ``variance``; drawing a signal in pieces draws the same noise."""
    noise = rng.standard_normal(2 * len(iq), dtype=np.float32).view(np.complex64)
    noise *= np.float32(math.sqrt(variance / 2.0))
    return (iq + noise).astype(np.complex64)


def _draw(value: FloatOrRange, rng: np.random.Generator, name: str) -> float:
    """A fixed value, or a uniform draw from a (lo, hi) range."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} range must be (lo, hi), got {value!r}")
        low, high = float(value[0]), float(value[1])
        if low > high:
            raise ValueError(f"{name} range ({low:g}, {high:g}) has lo > hi")
        return float(rng.uniform(low, high))
    return float(value)


def _modes_for(mode: str, count: int) -> list[str]:
    """Air mode per telegram: all T1, all C1, all S1, alternating T1, C1 ('mixed'), or T1, C1, S1 ('all')."""
    key = mode.lower()
    if key in ("t", "t1"):
        return ["T1"] * count
    if key in ("c", "c1"):
        return ["C1"] * count
    if key in ("s", "s1"):
        return ["S1"] * count
    if key == "mixed":
        return ["T1" if i % 2 == 0 else "C1" for i in range(count)]
    if key == "all":
        return [("T1", "C1", "S1")[i % 3] for i in range(count)]
    raise ValueError(f"mode must be 't', 'c', 's', 'mixed' or 'all', got {mode!r}")


# Chips of the sync word proper, where --sync-errors flips chips: T1 0000111101, C1 the first 0x543D,
# S1 the 18-chip sync.
_SYNC_WORD_CHIPS = {"T1": 10, "C1": 16, "S1": 18}


def _check_chip_string(extra_chips: str) -> np.ndarray:
    if any(c not in "01" for c in extra_chips):
        raise ValueError(f"extra chips must be a string of 0 and 1, got {extra_chips!r}")
    return np.array([int(c) for c in extra_chips], dtype=np.uint8)


@dataclass
class _Burst:
    """One telegram's place in the stream and everything needed to modulate it when its turn comes."""

    start: int
    length: int
    chips: np.ndarray
    chip_rate: float
    deviation: float
    baseband: float
    ppm: float
    phase: float
    jitter_seed: int | None


class Synthesizer:
    """A synthetic signal, planned up front and produced block by block (memory flat in its length).

    ``sent`` (the record of every burst) and ``total_samples`` are known as soon as it is built;
    ``blocks()`` yields the samples. ``synthesize`` is the same signal as one array.
    """

    def __init__(
        self,
        telegrams: Sequence[bytes],
        mode: str = "t",
        frame_format: str = "A",
        sample_rate: float = 1.6e6,
        center: float = CENTER_T1_C1_HZ,
        offset_hz: FloatOrRange = 0.0,
        ppm: FloatOrRange = 0.0,
        ecn0_db: float | None = None,
        gap_s: float = 0.01,
        amplitude: float = 0.5,
        seed: int = 0,
        lead_s: float = 0.005,
        chip_rate_error_pct: FloatOrRange = 0.0,
        jitter_s: float = 0.0,
        deviation_hz: FloatOrRange | None = None,
        bt: float = 0.0,
        extra_chips: str = "",
        missing_chips: int = 0,
        sync_errors: int = 0,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate:g}")
        if frame_format not in ("A", "B"):
            raise ValueError(f"frame format must be 'A' or 'B', got {frame_format!r}")
        if not telegrams:
            raise ValueError("no telegrams to synthesise")
        if gap_s < 0 or lead_s < 0:
            raise ValueError("gap and lead-in must not be negative")
        if jitter_s < 0:
            raise ValueError(f"jitter must not be negative, got {jitter_s * 1e6:g} us")
        if bt and not 0.1 <= bt <= 10:
            raise ValueError(f"BT must be between 0.1 and 10 (0.5 is usual for GFSK), got {bt:g}")
        if missing_chips < 0 or sync_errors < 0:
            raise ValueError("missing chips and sync errors must not be negative")
        extra = _check_chip_string(extra_chips)
        modes = _modes_for(mode, len(telegrams))
        if frame_format == "B" and "C1" not in modes:
            raise ValueError("modes T1 and S1 send frame format A only; use mode 'c' or 'mixed' for format B")
        frames = []
        for index, telegram in enumerate(telegrams):
            try:
                frames.append(check_frame(telegram))
            except ValueError as exc:
                raise ValueError(f"telegram {index} ({bytes(telegram).hex().upper()}): {exc}") from None

        self.sample_rate = sample_rate
        self.amplitude = amplitude
        rng = np.random.default_rng(seed)
        noise_chip_rate = CHIP_RATE_S1 if all(m == "S1" for m in modes) else CHIP_RATE_T1
        self.noise_var = (
            None if ecn0_db is None else noise_variance(amplitude**2, ecn0_db, sample_rate, noise_chip_rate)
        )
        position = int(round(lead_s * sample_rate))
        gap = int(round(gap_s * sample_rate))
        self.bursts: list[_Burst] = []
        self.sent: list[dict] = []
        for index, (frame, air_mode) in enumerate(zip(frames, modes, strict=True)):
            # Draw order: offset, ppm and phase first, as before these options existed, so a seed gives
            # the same signal as it always did when they are not used.
            offset = _draw(offset_hz, rng, "offset")
            ppm_value = _draw(ppm, rng, "ppm")
            phase = float(rng.uniform(0.0, 2.0 * np.pi))
            ppm_value += 1e4 * _draw(chip_rate_error_pct, rng, "chip-rate error")
            if ppm_value <= -0.5e6:
                raise ValueError(f"telegram {index}: chip-rate error {ppm_value / 1e4:g} % is not a rate")
            carrier = CENTER_T1_C1_HZ
            if air_mode == "T1":
                chips = t1_chips(frame)
                chip_rate, deviation, fmt = CHIP_RATE_T1, DEVIATION_T1_HZ, "A"
                sync_chip = 2 * T1_PREAMBLE_PAIRS
            elif air_mode == "C1":
                chips = c1_chips(frame, frame_format)
                chip_rate, deviation, fmt = CHIP_RATE_C1, DEVIATION_C1_HZ, frame_format
                sync_chip = 2 * C1_PREAMBLE_PAIRS
            else:
                chips = s1_chips(frame)
                chip_rate, deviation, fmt, carrier = CHIP_RATE_S1, DEVIATION_S1_HZ, "A", CENTER_S1_HZ
                sync_chip = 2 * S1_PREAMBLE_PAIRS
            if deviation_hz is not None:
                deviation = _draw(deviation_hz, rng, "deviation")
                if deviation <= 0:
                    raise ValueError(f"telegram {index}: deviation must be positive, got {deviation:g} Hz")
            flipped: list[int] = []
            if len(extra) or missing_chips or sync_errors:
                if missing_chips > sync_chip:
                    raise ValueError(f"cannot remove {missing_chips} chips from a {sync_chip}-chip preamble")
                sync_length = _SYNC_WORD_CHIPS[air_mode]
                if sync_errors > sync_length:
                    raise ValueError(f"the {air_mode} sync word has only {sync_length} chips to flip")
                chips = np.concatenate((chips[: sync_chip - missing_chips], extra, chips[sync_chip:]))
                sync_chip += len(extra) - missing_chips
                if sync_errors:
                    flipped = sorted(int(k) for k in rng.choice(sync_length, sync_errors, replace=False))
                    chips[sync_chip + np.array(flipped)] ^= 1
            jitter_seed = int(rng.integers(2**63)) if jitter_s else None
            baseband = (carrier - center) + offset
            if abs(baseband) + deviation >= sample_rate / 2:
                raise ValueError(
                    f"telegram {index}: carrier at {baseband / 1e3:+.1f} kHz ± {deviation / 1e3:g} kHz "
                    f"does not fit in {sample_rate / 1e6:g} Msps (±{sample_rate / 2e3:g} kHz)"
                )
            actual_chip_rate = chip_rate * (1.0 + ppm_value * 1e-6)
            if jitter_s:
                bounds = chip_bounds(
                    len(chips), sample_rate, actual_chip_rate, jitter_s, np.random.default_rng(jitter_seed)
                )
                length = int(math.ceil(bounds[-1] - 1e-9))
                sync_offset = int(math.ceil(bounds[sync_chip] - 1e-9))
            else:
                length = int(math.ceil(len(chips) * sample_rate / actual_chip_rate - 1e-9))
                sync_offset = int(math.ceil(sync_chip * sample_rate / actual_chip_rate - 1e-9))
            self.bursts.append(
                _Burst(position, length, chips, chip_rate, deviation, baseband, ppm_value, phase, jitter_seed)
            )
            self.sent.append(
                {
                    "index": index,
                    "mode": air_mode,
                    "frame_format": fmt,
                    "hex": frame.hex().upper(),
                    "start_sample": position,
                    "end_sample": position + length,
                    "sync_sample": position + sync_offset,
                    "offset_hz": offset,
                    "baseband_hz": baseband,
                    "ppm": ppm_value,
                    "deviation_hz": deviation,
                    "ecn0_db": _burst_ecn0(ecn0_db, chip_rate, noise_chip_rate),
                }
            )
            if jitter_s:
                self.sent[-1]["jitter_us"] = jitter_s * 1e6
            if bt:
                self.sent[-1]["bt"] = bt
            if len(extra) or missing_chips:
                self.sent[-1]["extra_chips"] = extra_chips
                self.sent[-1]["missing_chips"] = missing_chips
            if sync_errors:
                self.sent[-1]["sync_errors"] = flipped
            position += length + gap
        self.total_samples = position
        # The noise continues the seed's random stream after the draws above (as it always has); its
        # state is kept so that every pass over blocks() gives the same signal.
        self._noise_state = rng.bit_generator.state
        self.jitter_s = jitter_s
        self.bt = bt
        self.burst_samples = sum(b.length for b in self.bursts)

    def _modulate(self, burst: _Burst) -> np.ndarray:
        rng = None if burst.jitter_seed is None else np.random.default_rng(burst.jitter_seed)
        iq = modulate_fsk(
            burst.chips,
            self.sample_rate,
            burst.chip_rate,
            burst.deviation,
            burst.baseband,
            burst.ppm,
            burst.phase,
            jitter_s=self.jitter_s,
            bt=self.bt,
            rng=rng,
        )
        iq *= np.float32(self.amplitude)
        return iq

    def blocks(self, block_samples: int = 262144) -> Iterator[np.ndarray]:
        """The signal in chunks of ``block_samples`` (the last may be shorter); one burst is modulated
        at a time, and the noise is drawn in order, so any chunk size gives the same samples."""
        if block_samples < 1:
            raise ValueError(f"block_samples must be at least 1, not {block_samples}")
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = self._noise_state
        upcoming = iter(self.bursts)
        burst = next(upcoming, None)
        current: tuple[_Burst, np.ndarray] | None = None
        for start in range(0, self.total_samples, block_samples):
            end = min(start + block_samples, self.total_samples)
            chunk = np.zeros(end - start, dtype=np.complex64)
            while burst is not None and burst.start < end:
                if current is None or current[0] is not burst:
                    current = (burst, self._modulate(burst))
                lo, hi = max(start, burst.start), min(end, burst.start + burst.length)
                chunk[lo - start : hi - start] = current[1][lo - burst.start : hi - burst.start]
                if burst.start + burst.length > end:
                    break  # continues in the next chunk
                burst = next(upcoming, None)
            if self.noise_var is not None:
                chunk = _plus_noise(chunk, self.noise_var, rng)
            yield chunk

    def integer_gain(self) -> float:
        """Gain (<= 1) that keeps the signal from clipping in cu8/cs8/cs16 (full scale 1), decided from
        the plan (amplitude, noise level, share of time in bursts) rather than from the samples, so the
        file can be written as it is produced: with noise whose peaks would clip (amplitude + 5 sigma per
        component above full scale), signal and noise are scaled to 4 sigma of headroom on the RMS, as a
        receiver's gain would; Ec/N0 does not change."""
        noise = 0.0 if self.noise_var is None else self.noise_var / 2.0
        peak = self.amplitude + 5.0 * math.sqrt(noise)
        if peak <= 1.0:
            return 1.0
        fill = self.burst_samples / max(self.total_samples, 1)
        component_rms = math.sqrt(noise + fill * self.amplitude**2 / 2.0)
        return min(1.0, 1.0 / (_CLIP_HEADROOM_SIGMA * component_rms))


def synthesize(
    telegrams: Sequence[bytes],
    mode: str = "t",
    frame_format: str = "A",
    sample_rate: float = 1.6e6,
    center: float = CENTER_T1_C1_HZ,
    offset_hz: FloatOrRange = 0.0,
    ppm: FloatOrRange = 0.0,
    ecn0_db: float | None = None,
    gap_s: float = 0.01,
    amplitude: float = 0.5,
    seed: int = 0,
    lead_s: float = 0.005,
    **impairments,
) -> tuple[np.ndarray, list[dict]]:
    """IQ of ``telegrams`` sent one after the other, and a record of what was sent where.

    Telegrams are CRC-free frames (L as in format A); the CRCs are added as the mode requires. The
    stream is ``lead_s`` of silence, then each burst followed by ``gap_s`` of silence; silence is
    noise when ``ecn0_db`` is given, else zeros. ``center`` is the receiver's tuning: the T1/C1
    carrier (868.95 MHz) appears at 868.95 MHz - center + offset, the S1 carrier (868.3 MHz) at
    868.3 MHz - center + offset. Ec/N0 is that of T1/C1 chips; S1 chips are 3.05 times longer, so in a
    signal with both an S1 burst gets 4.85 dB more (its record says so); an S1-only signal gets
    ``ecn0_db`` for its own chips. ``offset_hz`` and ``ppm`` (chip-rate
    error) are fixed or (lo, hi) ranges drawn per telegram; the record keeps the drawn values. The
    burst phase is random. Everything random comes from ``seed``, so a seed reproduces the signal.

    ``impairments`` (see Synthesizer): ``chip_rate_error_pct`` (fixed or range, added to ``ppm``),
    ``jitter_s`` (per transition), ``deviation_hz`` (fixed or range; default the mode's), ``bt``
    (Gaussian shaping), ``extra_chips`` (a string of chips sent between preamble and sync word),
    ``missing_chips`` (preamble chips left out before the sync word), ``sync_errors`` (chips of the
    sync word sent inverted).

    Record keys: index, mode ('T1'/'C1'/'S1'), frame_format, hex (CRC-free frame), start_sample and
    end_sample (the burst is iq[start_sample:end_sample]), sync_sample (first sample of the sync word,
    after the preamble and any extra chips), offset_hz, baseband_hz, ppm (the whole chip-rate error),
    deviation_hz, ecn0_db; jitter_us, bt, extra_chips/missing_chips, sync_errors (the flipped chips'
    positions) when used.
    """
    plan = Synthesizer(
        telegrams, mode, frame_format, sample_rate, center, offset_hz, ppm, ecn0_db, gap_s, amplitude,
        seed, lead_s, **impairments,
    )  # fmt: skip
    iq = np.concatenate(list(plan.blocks(1 << 20)))
    return iq, plan.sent


def _burst_ecn0(ecn0_db: float | None, chip_rate: float, noise_chip_rate: float) -> float | None:
    """Ec/N0 of one burst's chips when the noise level was set for chips at ``noise_chip_rate``."""
    if ecn0_db is None:
        return None
    return ecn0_db + 10.0 * math.log10(noise_chip_rate / chip_rate)


def busy_band_blocks(seconds: float, rate: float, block: int = 262144) -> Iterator[np.ndarray]:
    """A busy 868.95 MHz band: T1 and C1 telegrams of varied length in noise (Ec/N0 15 dB), ``seconds``
    long, produced block by block (the signal is never held whole)."""
    rng = np.random.default_rng(7)
    telegrams = []
    bursts = int(seconds / 0.055) + 4  # ~50 ms gaps: enough telegrams to fill the requested time
    for length in ((20, 49, 120, 230) * (bursts // 4 + 1))[:bursts]:
        telegrams.append(
            bytes([length, 0x44, 0x2D, 0x2C]) + bytes(rng.integers(0, 256, length - 3, np.uint8))
        )
    plan = Synthesizer(
        telegrams,
        mode="mixed",
        sample_rate=rate,
        offset_hz=(-20e3, 20e3),
        ppm=(-100.0, 100.0),
        ecn0_db=15.0,
        gap_s=0.05,
        seed=7,
    )
    left = int(seconds * rate)
    for chunk in plan.blocks(block):
        if left <= 0:
            return
        yield chunk[:left]
        left -= len(chunk)


def busy_band(seconds: float, rate: float) -> np.ndarray:
    """The same band as one array (for scripts that want it whole)."""
    return np.concatenate(list(busy_band_blocks(seconds, rate)))


INTEGER_FORMATS = ("cu8", "cs8", "cs16")
_CLIP_HEADROOM_SIGMA = 4.0  # integer formats clip at full scale 1; keep noisy signals 4 sigma below it


def scale_for_integer_format(iq: np.ndarray) -> float:
    """Gain (<= 1) that keeps ``iq`` from clipping when stored as cu8/cs8/cs16 (full scale 1).

    Noise at a low Ec/N0 spreads over the whole sample rate and easily exceeds full scale; scaling
    signal and noise together leaves Ec/N0 unchanged, as a receiver's gain setting would.
    """
    if len(iq) == 0:
        return 1.0
    peak = float(np.max(np.abs(iq.view(np.float32))))
    if peak <= 1.0:
        return 1.0
    component_rms = math.sqrt(float(np.mean(np.abs(iq) ** 2)) / 2.0)
    return min(1.0, 1.0 / (_CLIP_HEADROOM_SIGMA * component_rms))


def iq_format_for(path: str) -> str | None:
    """The IQ format an output file name implies, or None."""
    name = path.lower()
    for suffix, fmt in _FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return fmt
    return None
