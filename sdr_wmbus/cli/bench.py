"""``sdr-wmbus bench``: demodulation throughput on one core (a file, or a synthetic busy band)."""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator

import numpy as np

from ..errors import ConfigError
from .options import (
    EXIT_OK,
    IQ_FORMATS,
    add_radio_arguments,
    fail,
    max_offset,
    open_recording,
    parse_modes,
    sample_rate,
)


def register(sub) -> None:
    ben = sub.add_parser(
        "bench",
        help="measure demodulation throughput (samples/s, multiple of real time)",
        description="Demodulate a file (or a built-in synthetic T1+C1 signal) on one core and report "
        "complex samples per second, the multiple of real time at 1.6 and 2.4 Msps, how the radio kernels "
        "ran and how long they took to load, and peak memory.",
    )
    ben.add_argument("file", nargs="?", metavar="FILE", help="IQ file (default: synthetic signal)")
    add_radio_arguments(
        ben,
        "sample rate (files without one in their name; the synthetic signal: 1.6M)",
        "centre frequency of the file (868.95M)",
    )
    ben.add_argument("--format", choices=IQ_FORMATS, help="IQ sample format")
    ben.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic signal")
    ben.add_argument("--repeat", type=int, default=3, help="passes over the signal (best is reported)")
    ben.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import platform

    from ..kernels import resolve
    from ..phy.combined import CombinedReceiver
    from ..sources import SourceError
    from ..synth import busy_band_blocks

    try:
        modes = parse_modes(args.modes)
        offset_range = max_offset(args)
        if args.file:
            with open_recording(args) as source:  # for the rate, and to fail early on a bad file
                rate = source.info.rate
            what = args.file

            def blocks() -> Iterator[np.ndarray]:
                with open_recording(args) as source:
                    yield from source.blocks()

        else:
            rate = sample_rate(args.rate, 1.6e6)
            what = f"synthetic T1+C1 signal, {args.seconds:g} s at {rate / 1e6:g} Msps"

            def blocks() -> Iterator[np.ndarray]:
                return busy_band_blocks(args.seconds, rate)

    except (ConfigError, SourceError, ValueError) as exc:
        return fail(str(exc))
    # Arguments checked first: a first run's compile (and its message) only for a benchmark that runs.
    started = time.perf_counter()
    backend = resolve()
    CombinedReceiver(1.6e6, modes=modes).process(np.zeros(65536, dtype=np.complex64))
    warmup = time.perf_counter() - started
    try:
        best = float("inf")
        telegrams = samples = 0
        # Each pass streams the signal again (from the file, or synthesised anew): memory stays that of
        # the receiver, whatever the length. Only the receiver's work is timed.
        for _ in range(max(1, args.repeat)):
            receiver = CombinedReceiver(rate, modes=modes, max_offset_hz=offset_range)
            cpu = 0.0
            frames = samples = 0
            for block in blocks():
                began = time.process_time()
                frames += len(receiver.process(block))
                cpu += time.process_time() - began
                samples += len(block)
            began = time.process_time()
            frames += len(receiver.flush())
            cpu += time.process_time() - began
            best = min(best, cpu)
            telegrams = frames
    except (ConfigError, SourceError, ValueError) as exc:
        return fail(str(exc))
    speed = samples / max(best, 1e-9)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"input: {what} ({samples:,} complex samples), {telegrams} telegrams decoded")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, Python {platform.python_version()}, "
        f"one core (process CPU time)"
    )
    print(
        f"throughput: {speed / 1e6:.1f} M complex samples/s = {speed / 1.6e6:.1f}x real time at 1.6 Msps, "
        f"{speed / 2.4e6:.1f}x at 2.4 Msps"
    )
    how = "compiled ahead of time" if backend == "aot" else "numba's JIT (from its cache when present)"
    print(f"radio kernels: {how}, ready in {warmup:.2f} s (first block)")
    print(f"peak memory (max RSS; the signal is streamed, not held): {peak_mib:.0f} MiB")
    return EXIT_OK
