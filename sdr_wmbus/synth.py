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

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

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
) -> np.ndarray:
    """Continuous-phase 2-FSK of ``chips`` at unit amplitude (complex64): chip 1 = offset + deviation.

    The chip clock runs ``ppm`` parts per million fast (a meter's crystal error), and sample n lies at
    t = n / sample_rate with chip index floor(t * chip_rate), so any sample rate works, including ones
    with a non-integer number of samples per chip. The phase is the running sum of the instantaneous
    frequency, so it stays continuous across chip boundaries as in a real FSK transmitter.
    """
    chips = np.asarray(chips, dtype=np.uint8)
    if sample_rate <= 0 or chip_rate <= 0:
        raise ValueError("sample rate and chip rate must be positive")
    actual_chip_rate = chip_rate * (1.0 + ppm * 1e-6)
    n_chips = len(chips)
    if n_chips == 0:
        return np.zeros(0, dtype=np.complex64)
    # Samples whose time falls inside the burst; the tiny slack keeps exact ratios from adding a sample.
    n_samples = int(math.ceil(n_chips * sample_rate / actual_chip_rate - 1e-9))
    # Multiply before dividing so that exact ratios (e.g. 24 samples per chip) give exact chip edges.
    chip_index = np.floor(np.arange(n_samples, dtype=np.float64) * actual_chip_rate / sample_rate)
    chip_index = np.minimum(chip_index.astype(np.int64), n_chips - 1)
    frequency = offset_hz + deviation * (2.0 * chips[chip_index].astype(np.float64) - 1.0)
    cycles = np.empty(n_samples, dtype=np.float64)
    cycles[0] = 0.0
    np.cumsum(frequency[:-1] / sample_rate, out=cycles[1:])
    angle = 2.0 * np.pi * np.mod(cycles, 1.0) + phase
    return np.exp(1j * angle).astype(np.complex64)


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

    Record keys: index, mode ('T1'/'C1'/'S1'), frame_format, hex (CRC-free frame), start_sample and
    end_sample (the burst is iq[start_sample:end_sample]), sync_sample (first sample of the sync word,
    after the preamble), offset_hz, baseband_hz, ppm, ecn0_db.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate:g}")
    if frame_format not in ("A", "B"):
        raise ValueError(f"frame format must be 'A' or 'B', got {frame_format!r}")
    if not telegrams:
        raise ValueError("no telegrams to synthesise")
    if gap_s < 0 or lead_s < 0:
        raise ValueError("gap and lead-in must not be negative")
    modes = _modes_for(mode, len(telegrams))
    if frame_format == "B" and "C1" not in modes:
        raise ValueError("modes T1 and S1 send frame format A only; use mode 'c' or 'mixed' for format B")
    frames = []
    for index, telegram in enumerate(telegrams):
        try:
            frames.append(check_frame(telegram))
        except ValueError as exc:
            raise ValueError(f"telegram {index} ({bytes(telegram).hex().upper()}): {exc}") from None

    rng = np.random.default_rng(seed)
    noise_chip_rate = CHIP_RATE_S1 if all(m == "S1" for m in modes) else CHIP_RATE_T1
    lead = int(round(lead_s * sample_rate))
    gap = int(round(gap_s * sample_rate))
    pieces: list[np.ndarray] = [np.zeros(lead, dtype=np.complex64)]
    position = lead
    sent: list[dict] = []
    for index, (frame, air_mode) in enumerate(zip(frames, modes, strict=True)):
        offset = _draw(offset_hz, rng, "offset")
        ppm_value = _draw(ppm, rng, "ppm")
        phase = float(rng.uniform(0.0, 2.0 * np.pi))
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
        baseband = (carrier - center) + offset
        if abs(baseband) + deviation >= sample_rate / 2:
            raise ValueError(
                f"telegram {index}: carrier at {baseband / 1e3:+.1f} kHz ± {deviation / 1e3:g} kHz "
                f"does not fit in {sample_rate / 1e6:g} Msps (±{sample_rate / 2e3:g} kHz)"
            )
        burst = modulate_fsk(chips, sample_rate, chip_rate, deviation, baseband, ppm_value, phase)
        burst *= np.float32(amplitude)
        actual_chip_rate = chip_rate * (1.0 + ppm_value * 1e-6)
        sync_offset = int(math.ceil(sync_chip * sample_rate / actual_chip_rate - 1e-9))
        sent.append(
            {
                "index": index,
                "mode": air_mode,
                "frame_format": fmt,
                "hex": frame.hex().upper(),
                "start_sample": position,
                "end_sample": position + len(burst),
                "sync_sample": position + sync_offset,
                "offset_hz": offset,
                "baseband_hz": baseband,
                "ppm": ppm_value,
                "ecn0_db": _burst_ecn0(ecn0_db, chip_rate, noise_chip_rate),
            }
        )
        pieces.append(burst)
        pieces.append(np.zeros(gap, dtype=np.complex64))
        position += len(burst) + gap
    iq = np.concatenate(pieces)
    if ecn0_db is not None:
        # T1 and C1 run at 100 kcps, so one noise level gives both the same Ec/N0.
        iq = add_noise(iq, ecn0_db, sample_rate, noise_chip_rate, rng, signal_power=amplitude**2)
    return iq, sent


def _burst_ecn0(ecn0_db: float | None, chip_rate: float, noise_chip_rate: float) -> float | None:
    """Ec/N0 of one burst's chips when the noise level was set for chips at ``noise_chip_rate``."""
    if ecn0_db is None:
        return None
    return ecn0_db + 10.0 * math.log10(noise_chip_rate / chip_rate)


# --- command line -------------------------------------------------------------------------------

_SI_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_si(text: str) -> float:
    """A number with an optional k/M/G suffix: '1.6M', '1600k', '1600000', '-40k', '1.6e6'."""
    cleaned = text.strip().replace("_", "")
    scale = 1.0
    if cleaned and cleaned[-1] in _SI_SUFFIXES:
        scale = _SI_SUFFIXES[cleaned[-1]]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (examples: 1.6M, 1600k, 1600000)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def parse_value_or_range(text: str) -> FloatOrRange:
    """'X' or 'LO:HI' (each with an optional k/M/G suffix) for fixed or per-telegram random values."""
    if ":" in text:
        low_text, _, high_text = text.partition(":")
        low, high = parse_si(low_text), parse_si(high_text)
        if low > high:
            raise argparse.ArgumentTypeError(f"range {text!r} has LO > HI")
        return (low, high)
    return parse_si(text)


def _positive_si(text: str) -> float:
    value = parse_si(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = parse_si(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sdr-wmbus synth`` (the parser is the sub-command's)."""
    parser.add_argument(
        "output", metavar="OUTPUT", help="IQ file to write, format from the extension ('-': stdout, cu8)"
    )
    parser.add_argument(
        "--telegram",
        dest="telegrams",
        action="append",
        default=[],
        metavar="HEX",
        help="telegram to send (repeatable); CRC-free or with link-layer CRCs",
    )
    parser.add_argument(
        "--telegrams-file",
        metavar="FILE",
        help="file with one telegram per line (hex or rtl_wmbus line; '#' comments)",
    )
    parser.add_argument(
        "--mode",
        choices=("t", "c", "s", "mixed", "all"),
        default="t",
        help="T1, C1, S1, T1/C1 alternating (mixed) or T1/C1/S1 in turn (all); default t",
    )
    parser.add_argument(
        "--frame-format", choices=("A", "B"), default="A", help="frame format of C1 telegrams (default A)"
    )
    parser.add_argument("--rate", type=_positive_si, default=1.6e6, metavar="HZ", help="sample rate (1.6M)")
    parser.add_argument(
        "--center", type=parse_si, default=CENTER_T1_C1_HZ, metavar="HZ", help="tuning frequency (868.95M)"
    )
    parser.add_argument(
        "--offset",
        type=parse_value_or_range,
        default=0.0,
        metavar="HZ|LO:HI",
        help="carrier offset, fixed or drawn per telegram (write --offset=-40k:40k for negative LO)",
    )
    parser.add_argument(
        "--ppm",
        type=parse_value_or_range,
        default=0.0,
        metavar="PPM|LO:HI",
        help="chip-rate error in ppm, fixed or drawn per telegram (--ppm=-50:50 for negative LO)",
    )
    parser.add_argument(
        "--ecn0", type=float, default=None, metavar="DB", help="Ec/N0 in dB (chip energy / noise density)"
    )
    parser.add_argument(
        "--gap", type=_non_negative_float, default=0.01, metavar="S", help="seconds between bursts (0.01)"
    )
    parser.add_argument(
        "--amplitude", type=_positive_si, default=0.5, metavar="A", help="burst amplitude, full scale 1 (0.5)"
    )
    parser.add_argument("--repeat", type=_positive_int, default=1, metavar="N", help="send the list N times")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (0)")
    parser.add_argument("--format", choices=IQ_FORMATS, default=None, help="IQ format (default: from OUTPUT)")
    parser.add_argument(
        "--list", metavar="FILE", help="where to write what was sent, JSON lines (OUTPUT.telegrams.jsonl)"
    )


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


def _read_telegrams(args: argparse.Namespace) -> list[bytes]:
    """CRC-free frames from --telegram and --telegrams-file, or the defaults; ValueError on bad input."""
    from .input_lines import parse_line
    from .link.dll import normalize_frame

    sources: list[tuple[str, str]] = [(f"--telegram {i + 1}", text) for i, text in enumerate(args.telegrams)]
    if args.telegrams_file:
        try:
            lines = Path(args.telegrams_file).read_text().splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read {args.telegrams_file}: {exc.strerror or exc}") from None
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                sources.append((f"{args.telegrams_file}:{number}", line))
    if not sources:
        sources = [(f"default telegram {i + 1}", text) for i, text in enumerate(DEFAULT_TELEGRAMS)]
    frames = []
    for where, text in sources:
        parsed = parse_line(text)
        if parsed.frame is None:
            raise ValueError(f"{where}: {parsed.error}")
        try:
            frame, _, ignored = normalize_frame(parsed.frame.data)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if ignored:
            raise ValueError(f"{where}: {ignored} bytes after the end of the frame")
        frames.append(frame)
    return frames


def run_synth(args: argparse.Namespace) -> int:
    """``sdr-wmbus synth``: write the IQ file and the list of sent telegrams; 0 on success, 2 on errors."""

    def fail(message: str) -> int:
        print(f"sdr-wmbus: error: {message}", file=sys.stderr)
        return 2

    # '-' writes to stdout; cu8 there by default, as rtl_sdr pipes carry it.
    fmt = args.format or ("cu8" if args.output == "-" else iq_format_for(args.output))
    if fmt is None:
        known = ", ".join(IQ_FORMATS)
        return fail(f"cannot tell the IQ format from {args.output!r}; give --format ({known})")
    try:
        telegrams = _read_telegrams(args) * args.repeat
        iq, sent = synthesize(
            telegrams,
            mode=args.mode,
            frame_format=args.frame_format,
            sample_rate=args.rate,
            center=args.center,
            offset_hz=args.offset,
            ppm=args.ppm,
            ecn0_db=args.ecn0,
            gap_s=args.gap,
            amplitude=args.amplitude,
            seed=args.seed,
        )
    except ValueError as exc:
        return fail(str(exc))
    try:
        from .sources import write_iq
    except ImportError:
        return fail("writing IQ files needs sdr_wmbus.sources.write_iq, which this build lacks")
    gain = scale_for_integer_format(iq) if fmt in INTEGER_FORMATS else 1.0
    if gain != 1.0:
        iq = iq * np.float32(gain)
    list_path = args.list
    if list_path is None and args.output != "-":
        list_path = args.output + ".telegrams.jsonl"
    try:
        description = f"sdr-wmbus synth: {len(sent)} telegrams, mode {args.mode}, seed {args.seed}"
        write_iq(args.output, iq, fmt, args.rate, args.center, description)
        if list_path:
            with open(list_path, "w") as handle:
                for entry in sent:
                    handle.write(json.dumps(entry) + "\n")
    except (OSError, ValueError) as exc:
        return fail(f"cannot write output: {exc}")
    counts = {m: sum(1 for e in sent if e["mode"] == m) for m in ("T1", "C1", "S1")}
    summary = ", ".join(f"{n} {m}" for m, n in counts.items() if n)
    plural = "s" if len(sent) != 1 else ""
    print(
        f"sdr-wmbus synth: {len(sent)} telegram{plural} ({summary}), {len(iq)} samples "
        f"({len(iq) / args.rate:.3f} s at {args.rate / 1e6:g} Msps) -> {args.output} [{fmt}]"
        + (f", scaled by {gain:.3g} to avoid clipping" if gain != 1.0 else "")
        + (f", list -> {list_path}" if list_path else ""),
        file=sys.stderr,
    )
    return 0
