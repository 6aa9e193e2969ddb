"""The radio commands of the CLI: ``replay`` and ``bench`` (``decode`` and ``synth`` live beside them)."""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from collections.abc import Iterator

import numpy as np

from .errors import ConfigError
from .outputs.fanout import Outputs, OutputUnavailable

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """--key / --key-file / --meters / --driver / --drivers, the same for every command that decodes."""
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key", metavar="HEX", help="AES-128 key (32 hex digits) for every meter")
    keys.add_argument(
        "--key-file", metavar="FILE", help="file holding the key for every meter (not shown in ps)"
    )
    keys.add_argument(
        "--meters",
        metavar="PATH",
        help="meters file (TOML [[meter]] entries, or a wmbusmeters meter file) or a folder of them "
        "(e.g. /etc/wmbusmeters.d)",
    )
    parser.add_argument("--driver", metavar="NAME", help="force a driver (name or wmbusmeters alias)")
    parser.add_argument(
        "--drivers",
        metavar="PATH",
        action="append",
        default=[],
        help="your own driver file or folder of *.toml driver files (repeatable)",
    )


OUTPUT_FORMATS = ("auto", "human", "json", "pretty")


def add_output_format_argument(parser: argparse.ArgumentParser) -> None:
    """--output-format, the same for every command that prints telegrams."""
    parser.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default="auto",
        help="human (a line per telegram, a table of meters at the end), json (a JSON object per line), "
        "pretty (indented JSON); auto (default): human on a terminal, json otherwise",
    )


def output_style(args: argparse.Namespace) -> dict:
    """Keyword arguments for Outputs from --output-format (auto: people on a terminal get lines)."""
    style = getattr(args, "output_format", "auto") or "auto"
    if style == "auto":
        style = "human" if sys.stdout.isatty() else "json"
    return {"pretty": style == "pretty", "human": style == "human"}


def load_keys(args: argparse.Namespace):
    """The key store from --key/--key-file/--meters, with the user's drivers loaded and the drivers
    named in the meters file checked; ConfigError (one line, never quoting a key) otherwise."""
    from .drivers import DriverFileError, driver_names, use_user_drivers
    from .errors import ConfigError
    from .security.keys import KeyStore, parse_key, read_key_file

    if args.meters:
        store = KeyStore.from_file(args.meters)
    else:
        store = KeyStore()
        if args.key:
            store.default_key = parse_key(args.key, "--key")
        elif getattr(args, "key_file", None):
            store.default_key = read_key_file(args.key_file)
    folders = [*store.driver_folders, *getattr(args, "drivers", [])]
    if folders:
        try:
            use_user_drivers(folders)
        except DriverFileError as exc:
            raise ConfigError(str(exc)) from None
    known = driver_names()
    if getattr(args, "driver", None) and args.driver not in known:
        raise ConfigError(f"unknown driver {args.driver!r} (sdr-wmbus drivers lists them)")
    for meter in [*store.meters.values(), *(config for _, config in store.patterns)]:
        if meter.driver and meter.driver not in known:
            raise ConfigError(
                f"meter {meter.id}: unknown driver {meter.driver!r} (sdr-wmbus drivers lists them)"
            )
    args.key_store = store  # the outputs ask which meters the file lists (Home Assistant discovery)
    return store


def setup_logging(verbose: int) -> None:
    """Warnings always, progress at -v, debugging at -vv: one line each, on stderr."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="sdr-wmbus: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"sdr-wmbus: error: {message}", file=sys.stderr)
    return code


def _number(text: str | None, what: str) -> float | None:
    from .synth import parse_si

    if text is None:
        return None
    try:
        return parse_si(text)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def add_max_offset_argument(parser: argparse.ArgumentParser) -> None:
    """--max-offset, the same for replay, listen and bench."""
    parser.add_argument(
        "--max-offset",
        metavar="HZ",
        default="60k",
        help="largest carrier offset to receive (default 60k, one channel per mode); more, e.g. 150k for a "
        "dongle off by up to 100 ppm, adds side channels, each costing as much CPU again",
    )


def max_offset(args: argparse.Namespace) -> float:
    value = _number(args.max_offset, "--max-offset")
    if value is None or not 0 <= value <= 500e3:
        raise ConfigError(f"--max-offset: expected 0 to 500k Hz, got {args.max_offset!r}")
    return value


def warn_capture(receiver, wanted_hz: float, rate: float) -> None:
    """One line on stderr when the sampled band cannot hold the carrier range asked for."""
    for group, (low, high) in receiver.capture_hz.items():
        reach = min(-low, high)
        if reach < wanted_hz:
            name = "T1/C1" if group == "tc" else "S1"
            span = f"{low / 1e3:+.0f}..{high / 1e3:+.0f} kHz"
            print(
                f"sdr-wmbus: warning: {name} carriers received within {span} only: a wider range does not "
                f"fit in {rate / 1e6:g} Msps at this centre",
                file=sys.stderr,
            )


def _modes(text: str) -> str:
    modes = {m.strip().lower() for m in text.split(",") if m.strip()}
    unknown = modes - {"t", "c", "s", "t1", "c1", "s1"}
    if unknown or not modes:
        raise ConfigError(f"--modes: expected a list of t, c and s (e.g. t,c or t,c,s), got {text!r}")
    return "".join(sorted({m[0] for m in modes}))


def mode_counts(stats) -> str:
    """'T1 3, C1 2' (and S1 when it was received), for summaries."""
    get = stats.get if isinstance(stats, dict) else lambda name: getattr(stats, name)
    text = f"T1 {get('frames_t1')}, C1 {get('frames_c1')}"
    return text + (f", S1 {get('frames_s1')}" if get("frames_s1") else "")


def frame_counts(stats, duplicates: int) -> str:
    """What the radio heard, in numbers that add up: frames per mode = telegrams + duplicates; frames
    lost to a CRC error (their first block checked); sync-word hits that were only noise."""
    get = stats.get if isinstance(stats, dict) else lambda name: getattr(stats, name)
    frames = get("frames_t1") + get("frames_c1") + get("frames_s1")
    return (
        f"{frames} frames ({mode_counts(stats)}) = {frames - duplicates} telegrams + {duplicates} "
        f"duplicates; {get('crc_failures')} lost to CRC errors; {get('false_syncs')} sync hits on noise"
    )


def _open(args: argparse.Namespace):
    from .sources import open_iq

    return open_iq(
        args.file,
        fmt=args.format,
        rate=_number(args.rate, "--rate"),
        center=_number(getattr(args, "center", None), "--center"),
    )


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal and the length is known."""

    def __init__(self, total: int | None) -> None:
        self.total = total if sys.stderr.isatty() else None
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.total or time.monotonic() - self.last < 0.2:
            return
        self.last = time.monotonic()
        share = min(done / self.total, 1.0)
        bar = "#" * int(30 * share)
        print(f"\r[{bar:<30}] {share:6.1%}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.total:
            print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)


def cmd_replay(args: argparse.Namespace) -> int:
    from .decoder import TelegramDecoder
    from .pipeline import RadioPipeline
    from .sources import SourceError
    from .tables.phy import CENTER_T1_C1_HZ

    try:
        modes = _modes(args.modes)
        offset_range = max_offset(args)
        keys = load_keys(args)
        source = _open(args)
    except (ConfigError, SourceError) as exc:
        return _fail(str(exc))
    info = source.info
    center = info.center if info.center is not None else CENTER_T1_C1_HZ
    try:
        decoder = None if args.raw_only else TelegramDecoder(keys, driver=args.driver)
        pipeline = RadioPipeline(info.rate, center, modes, decoder, offset_range)
        outputs = Outputs(args, batch=True, raw_only=args.raw_only, **output_style(args))
    except (ValueError, ConfigError) as exc:
        return _fail(str(exc))
    except OutputUnavailable as exc:
        return _fail(str(exc), EXIT_ERROR)
    if not args.quiet:
        warn_capture(pipeline.receiver, offset_range, info.rate)
    from .jit import warm_up

    jit_s = warm_up(info.rate, center, modes, quiet=args.quiet)  # not part of the throughput below
    progress = Progress(source.total_samples)
    count = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    interrupted = False
    try:
        with source:
            for block in source.blocks():
                for result in pipeline.process(block):
                    outputs.receive(result)
                    count += 1
                progress.update(source.samples_read)
            for result in pipeline.flush():
                outputs.receive(result)
                count += 1
    except KeyboardInterrupt:  # Ctrl-C: what was decoded is flushed and summed up, then exit 130
        interrupted = True
    progress.close()
    problem = outputs.close()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if not args.quiet and outputs.filter.filtered:
        print(f"sdr-wmbus: {outputs.filter.filtered} telegrams left out by --only/--ignore", file=sys.stderr)
    if not args.quiet:
        seconds = source.samples_read / info.rate
        print(
            f"sdr-wmbus: {source.samples_read:,} samples ({seconds:.2f} s at {info.rate / 1e6:g} Msps) in "
            f"{wall:.2f} s ({source.samples_read / max(cpu, 1e-9) / 1e6:.1f} M samples/s of CPU, "
            f"{seconds / max(wall, 1e-9):.1f}x real time): "
            f"{frame_counts(pipeline.stats(), pipeline.duplicates)}; "
            f"radio kernels loaded in {jit_s:.1f} s{' (interrupted)' if interrupted else ''}",
            file=sys.stderr,
        )
    if interrupted:
        return 130
    if problem:
        return _fail(problem, EXIT_ERROR)
    if source.stray_bytes:
        return _fail(
            f"{info.path}: truncated IQ file: {source.stray_bytes} bytes at the end do not make a whole "
            f"sample (all whole samples were decoded)",
            EXIT_ERROR,
        )
    return EXIT_OK


def synthetic_blocks(seconds: float, rate: float, block: int = 262144) -> Iterator[np.ndarray]:
    """A busy 868.95 MHz band: T1 and C1 telegrams of varied length in noise (Ec/N0 15 dB), ``seconds``
    long, produced block by block (the signal is never held whole)."""
    from .synth import Synthesizer

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


def _synthetic_signal(seconds: float, rate: float) -> np.ndarray:
    """The same band as one array (for scripts that want it whole)."""
    return np.concatenate(list(synthetic_blocks(seconds, rate)))


def cmd_bench(args: argparse.Namespace) -> int:
    import platform

    from .phy.combined import CombinedReceiver
    from .sources import SourceError

    started = time.perf_counter()
    try:
        modes = _modes(args.modes)
        offset_range = max_offset(args)
    except ConfigError as exc:
        return _fail(str(exc))
    CombinedReceiver(1.6e6, modes=modes).process(np.zeros(65536, dtype=np.complex64))
    warmup = time.perf_counter() - started
    try:
        if args.file:
            with _open(args) as source:  # for the rate, and to fail early on a bad file
                rate = source.info.rate
            what = args.file

            def blocks() -> Iterator[np.ndarray]:
                with _open(args) as source:
                    yield from source.blocks()

        else:
            rate = _number(args.rate, "--rate") or 1.6e6
            what = f"synthetic T1+C1 signal, {args.seconds:g} s at {rate / 1e6:g} Msps"

            def blocks() -> Iterator[np.ndarray]:
                return synthetic_blocks(args.seconds, rate)

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
        return _fail(str(exc))
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
    print(f"JIT warm-up (first block, kernels from the numba cache when present): {warmup:.2f} s")
    print(f"peak memory (max RSS; the signal is streamed, not held): {peak_mib:.0f} MiB")
    return EXIT_OK
