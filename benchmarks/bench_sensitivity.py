"""Sensitivity: share of 50-byte T1, C1 (and S1) telegrams decoded versus Ec/N0, with random carrier
offsets (+-20 kHz) and chip-rate errors (+-100 ppm), beside the ideal hard-decision non-coherent 2-FSK curve.

Ec/N0 = signal power x chip duration / (complex noise variance / sample rate) (see sdr_wmbus.synth); for
S1 the chip is an S1 chip (Manchester: two chips per bit, so Eb/N0 = Ec/N0 + 3 dB).
Run: python3 benchmarks/bench_sensitivity.py [--count 100] [--rate 1.6e6] [--modes T1,C1,S1]
     [--plot benchmarks/sensitivity.png]
With --chip-rate-errors -10,-5,0,5,10 (percent): for each chip-rate error, the sweep over Ec/N0 and the
Ec/N0 at which 90 % of the telegrams decode (linear interpolation between the levels around it).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from sdr_wmbus.link.dll import format_a_length
from sdr_wmbus.phy.combined import CombinedReceiver
from sdr_wmbus.synth import synthesize

TELEGRAM_BYTES = 50


def random_telegrams(count: int, rng: np.random.Generator) -> list[bytes]:
    """Frames of 50 bytes (L = 49): a plausible header and random payload."""
    out = []
    for _ in range(count):
        body = bytes(rng.integers(0, 256, TELEGRAM_BYTES - 11, dtype=np.uint8))
        out.append(
            bytes([TELEGRAM_BYTES - 1, 0x44, 0x2D, 0x2C])
            + bytes(rng.integers(0, 256, 6, dtype=np.uint8))
            + b"\x7a"
            + body
        )
    return out


def ideal_share(ecn0_db: float, mode: str) -> float:
    """Hard-decision non-coherent 2-FSK: chip error p = exp(-Ec/2N0)/2; a frame needs every chip right."""
    p = 0.5 * math.exp(-(10 ** (ecn0_db / 10)) / 2)
    nbytes = format_a_length(TELEGRAM_BYTES - 1)
    chips = {"T1": 12, "C1": 8, "S1": 16}[mode] * nbytes
    return (1 - p) ** chips


def measure(
    mode: str, ecn0_db: float, count: int, rate: float, seed: int, chip_rate_error_pct: float = 0.0
) -> float:
    rng = np.random.default_rng(seed)
    telegrams = random_telegrams(count, rng)
    iq, sent = synthesize(
        telegrams,
        mode=mode[0].lower(),
        frame_format="A",
        sample_rate=rate,
        offset_hz=(-20e3, 20e3),
        ppm=(-100.0, 100.0),
        ecn0_db=ecn0_db,
        seed=seed,
        gap_s=0.004,
        chip_rate_error_pct=chip_rate_error_pct,
    )
    receiver = CombinedReceiver(rate, modes=mode[0].lower())
    frames = []
    for i in range(0, len(iq), 262144):
        frames += receiver.process(iq[i : i + 262144])
    frames += receiver.flush()
    got = {(f.data.hex(), f.mode) for f in frames}
    return sum((s["hex"].lower(), mode) in got for s in sent) / len(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1.6e6)
    parser.add_argument("--from-db", type=float, default=6.0)
    parser.add_argument("--to-db", type=float, default=14.0)
    parser.add_argument("--step", type=float, default=1.0)
    parser.add_argument("--modes", default="T1,C1", help="modes to sweep: any of T1, C1, S1")
    parser.add_argument("--plot", help="write a PNG plot here")
    parser.add_argument(
        "--chip-rate-errors", help="comma-separated chip-rate errors in percent: the 90 %% point for each"
    )
    args = parser.parse_args()
    if args.chip_rate_errors:
        chip_rate_curve(args)
        return
    levels = np.arange(args.from_db, args.to_db + 1e-9, args.step)
    modes = [m.strip().upper() for m in args.modes.split(",")]
    rows = []
    print(
        f"{'Ec/N0 dB':>8} "
        + " ".join(f"{m:>6}" for m in modes)
        + " "
        + " ".join(f"{'ideal ' + m:>9}" for m in modes)
        + f"   ({args.count} telegrams each)"
    )
    for level in levels:
        shares = [
            measure(m, level, args.count, args.rate, seed=int(level * 10) + i) for i, m in enumerate(modes)
        ]
        ideals = [ideal_share(level, m) for m in modes]
        rows.append((level, *shares, *ideals))
        print(
            f"{level:8.1f} "
            + " ".join(f"{x:6.0%}" for x in shares)
            + " "
            + " ".join(f"{x:9.0%}" for x in ideals),
            flush=True,
        )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        data = np.array(rows)
        plt.figure(figsize=(7, 4.5))
        for i, mode in enumerate(modes):
            plt.plot(data[:, 0], 100 * data[:, 1 + i], "os^"[i % 3] + "-", label=f"sdr_wmbus {mode}")
        for i, mode in enumerate(modes):
            plt.plot(data[:, 0], 100 * data[:, 1 + len(modes) + i], "--", label=f"ideal hard-decision {mode}")
        plt.axhline(90, color="grey", lw=0.5)
        plt.xlabel("Ec/N0 (dB)")
        plt.ylabel("telegrams decoded (%)")
        plt.title(f"50-byte telegrams, ±20 kHz, ±100 ppm, {args.rate / 1e6:.1f} Msps")
        plt.grid(alpha=0.3)
        plt.legend()
        plt.savefig(args.plot, dpi=100, bbox_inches="tight")
        print(f"plot: {args.plot}")


def ninety_percent_point(levels: np.ndarray, shares: list[float]) -> float | None:
    """Ec/N0 where the share decoded first reaches 90 %, interpolated between the levels around it."""
    for i, share in enumerate(shares):
        if share >= 0.9:
            if i == 0:
                return None  # already at the lowest level: sweep lower
            low, high = shares[i - 1], share
            return float(levels[i - 1] + (0.9 - low) / (high - low) * (levels[i] - levels[i - 1]))
    return None


def chip_rate_curve(args: argparse.Namespace) -> None:
    """The 90 % point per mode for each chip-rate error."""
    levels = np.arange(args.from_db, args.to_db + 1e-9, args.step)
    modes = [m.strip().upper() for m in args.modes.split(",")]
    errors = [float(e) for e in args.chip_rate_errors.split(",")]
    print(f"90 % points (Ec/N0 dB) over chip-rate error, {args.count} telegrams per level, levels {levels}")
    print("| chip-rate error | " + " | ".join(modes) + " |")
    print("|---|" + "---|" * len(modes))
    for error in errors:
        points = []
        for i, mode in enumerate(modes):
            shares = []
            for level in levels:
                seed = int(level * 10) + i + int(round((error + 50) * 100))  # non-negative
                shares.append(measure(mode, level, args.count, args.rate, seed, error))
                if shares[-1] >= 0.99:
                    break
            point = ninety_percent_point(levels[: len(shares)], shares)
            curve = " ".join(f"{x:.0%}" for x in shares)
            points.append("n/a" if point is None else f"{point:.1f} ({curve})")
        print(f"| {error:+g} % | " + " | ".join(points) + " |", flush=True)


if __name__ == "__main__":
    main()
