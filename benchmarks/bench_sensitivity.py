"""Sensitivity: share of 50-byte T1 and C1 telegrams decoded versus Ec/N0, with random carrier offsets
(+-20 kHz) and chip-rate errors (+-100 ppm), beside the ideal hard-decision non-coherent 2-FSK curve.

Ec/N0 = signal power x chip duration / (complex noise variance / sample rate) (see sdr_wmbus.synth).
Run: python3 benchmarks/bench_sensitivity.py [--count 100] [--rate 1.6e6] [--plot benchmarks/sensitivity.png]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from sdr_wmbus.link.dll import format_a_length
from sdr_wmbus.phy.receiver import T1C1Receiver
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
    chips = 12 * nbytes if mode == "T1" else 8 * nbytes
    return (1 - p) ** chips


def measure(mode: str, ecn0_db: float, count: int, rate: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    telegrams = random_telegrams(count, rng)
    iq, sent = synthesize(
        telegrams,
        mode="t" if mode == "T1" else "c",
        frame_format="A",
        sample_rate=rate,
        offset_hz=(-20e3, 20e3),
        ppm=(-100.0, 100.0),
        ecn0_db=ecn0_db,
        seed=seed,
        gap_s=0.004,
    )
    receiver = T1C1Receiver(rate)
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
    parser.add_argument("--plot", help="write a PNG plot here")
    args = parser.parse_args()
    levels = np.arange(args.from_db, args.to_db + 1e-9, args.step)
    rows = []
    print(
        f"{'Ec/N0 dB':>8} {'T1':>6} {'C1':>6} {'ideal T1':>9} {'ideal C1':>9}   ({args.count} telegrams each)"
    )
    for level in levels:
        t1 = measure("T1", level, args.count, args.rate, seed=int(level * 10))
        c1 = measure("C1", level, args.count, args.rate, seed=int(level * 10) + 1)
        rows.append((level, t1, c1, ideal_share(level, "T1"), ideal_share(level, "C1")))
        print(f"{level:8.1f} {t1:6.0%} {c1:6.0%} {rows[-1][3]:9.0%} {rows[-1][4]:9.0%}", flush=True)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        data = np.array(rows)
        plt.figure(figsize=(7, 4.5))
        plt.plot(data[:, 0], 100 * data[:, 1], "o-", label="sdr_wmbus T1")
        plt.plot(data[:, 0], 100 * data[:, 2], "s-", label="sdr_wmbus C1")
        plt.plot(data[:, 0], 100 * data[:, 3], "--", label="ideal hard-decision T1")
        plt.plot(data[:, 0], 100 * data[:, 4], ":", label="ideal hard-decision C1")
        plt.axhline(90, color="grey", lw=0.5)
        plt.xlabel("Ec/N0 (dB)")
        plt.ylabel("telegrams decoded (%)")
        plt.title(f"50-byte telegrams, ±20 kHz, ±100 ppm, {args.rate / 1e6:.1f} Msps")
        plt.grid(alpha=0.3)
        plt.legend()
        plt.savefig(args.plot, dpi=100, bbox_inches="tight")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
