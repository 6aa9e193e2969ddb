"""``sdr-wmbus listen``: live reception from an RTL-SDR stick or an rtl_tcp server.

The source's reader thread fills a bounded queue (sources/live.py); this loop drains it through the
same pipeline as ``replay``. A hole in the stream (blocks dropped because we fell behind, or an rtl_tcp
server that went away) restarts the receiver after the hole, so no frame is stitched across it, and
is counted. SIGINT and SIGTERM stop the source; what was already received is still decoded and every
output is flushed before the exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import statistics
import sys
import time
from collections import defaultdict, deque

import numpy as np

from .commands import (
    EXIT_ERROR,
    EXIT_OK,
    _fail,
    _modes,
    _number,
    add_key_arguments,
    add_max_offset_argument,
    add_output_format_argument,
    frame_counts,
    load_keys,
    max_offset,
    mode_counts,
    output_style,
    setup_logging,
    warn_capture,
)
from .dsp.convert import cu8_to_complex64
from .errors import ConfigError
from .jit import warm_up
from .outputs.fanout import Outputs
from .tables.phy import CENTER_T1_C1_HZ, CENTER_T1_C1_S1_HZ

log = logging.getLogger("sdr_wmbus.listen")

DEFAULT_RATE = 1.6e6
AUTO_PPM_MIN_FRAMES = 3  # frames before the first automatic correction
OFFSETS_PER_METER = 16  # most recent carrier offsets kept per meter


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--device", metavar="N|SERIAL", help="RTL-SDR by index or serial number (default 0)")
    where.add_argument(
        "--rtl-tcp", metavar="HOST:PORT", help="read from an rtl_tcp server (default port 1234)"
    )
    parser.add_argument("--rate", metavar="HZ", help="sample rate (default 1.6M; 0.8M-3.2M)")
    parser.add_argument(
        "--center", metavar="HZ", help="centre frequency (default 868.95M; 868.625M when S1 is received)"
    )
    parser.add_argument("--modes", default="t,c", help="modes to receive: any of t, c, s (default t,c)")
    add_max_offset_argument(parser)
    parser.add_argument("--gain", default="auto", help="tuner gain in dB, or 'auto' (default)")
    parser.add_argument(
        "--ppm",
        default="0",
        help="frequency correction of the dongle in ppm, or 'auto' to measure it from the meters heard",
    )
    parser.add_argument("--bias-tee", action="store_true", help="power an antenna amplifier over the coax")
    add_key_arguments(parser)
    parser.add_argument(
        "--raw-only",
        action="store_true",
        help="no decoding, no keys: raw frames with radio metadata (to MQTT for a central 'serve')",
    )
    add_output_format_argument(parser)
    parser.add_argument(
        "--save-iq",
        metavar="FILE",
        help="also record the received signal (cu8; SigMF when FILE ends in .sigmf-meta/.sigmf-data/.sigmf)",
    )
    parser.add_argument(
        "--stats-interval", type=float, default=60.0, metavar="S", help="seconds between stats lines at -v"
    )
    parser.add_argument("--queue-blocks", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="stats every minute (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr at the end")


class PpmTracker:
    """The dongle's frequency error, from the carrier offsets the receiver measures for each meter.

    Every meter's own crystal is off by a few ppm too, so the estimate is the median over meters of
    each meter's median offset. Offsets are stored as dongle ppm (a carrier that appears low means a
    dongle whose oscillator runs fast: positive ppm), including the correction applied when measured.
    """

    def __init__(self, center: float, applied: int = 0) -> None:
        self.center = center
        self.applied = applied
        self.frames = 0
        self.per_meter: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=OFFSETS_PER_METER))
        self.offsets_hz: dict[str, float] = {}

    def add(self, meter_id: str, offset_hz: float) -> None:
        self.frames += 1
        self.offsets_hz[meter_id] = offset_hz
        self.per_meter[meter_id].append(self.applied - offset_hz / self.center * 1e6)

    def estimate(self) -> float | None:
        if not self.per_meter:
            return None
        return statistics.median(statistics.median(values) for values in self.per_meter.values())

    def correction(self) -> int | None:
        """A new whole-ppm correction when the estimate has moved by at least 1 ppm, else None."""
        estimate = self.estimate()
        if estimate is None or self.frames < AUTO_PPM_MIN_FRAMES:
            return None
        wanted = int(round(estimate))
        return wanted if wanted != self.applied else None


def _open_source(args: argparse.Namespace, rate: float, center: float, gain, ppm: int):
    if args.rtl_tcp:
        from .sources.rtltcp import RtlTcpSource, parse_address

        host, port = parse_address(args.rtl_tcp)
        return RtlTcpSource(
            host,
            port,
            rate,
            center,
            gain=gain,
            ppm=ppm,
            bias_tee=args.bias_tee,
            queue_blocks=args.queue_blocks,
        )
    from .sources.rtlsdr import RtlSdrSource

    return RtlSdrSource(
        rate,
        center,
        device=args.device,
        gain=gain,
        ppm=ppm,
        bias_tee=args.bias_tee,
        queue_blocks=args.queue_blocks,
    )


def _open_recording(path: str, rate: float, center: float):
    from .sources import IQFileWriter

    lower = path.lower()
    if lower.endswith((".sigmf-meta", ".sigmf-data", ".sigmf")):
        base = path[: -len(".sigmf")] if lower.endswith(".sigmf") else path
        return IQFileWriter(base, "sigmf", rate, center, "live RTL-SDR reception (sdr-wmbus listen)", "cu8")
    return IQFileWriter(path, "cu8", rate, center)


def _parse_gain(text: str):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        gain = float(text)
    except ValueError:
        raise ConfigError(f"--gain: expected a number of dB or 'auto', got {text!r}") from None
    if not 0.0 <= gain <= 60.0:
        raise ConfigError(f"--gain: {gain:g} dB is outside 0-60 dB")
    return gain


def _parse_ppm(text: str) -> tuple[int, bool]:
    if text.strip().lower() == "auto":
        return 0, True
    try:
        ppm = int(text)
    except ValueError:
        raise ConfigError(f"--ppm: expected a whole number of ppm or 'auto', got {text!r}") from None
    if abs(ppm) > 500:
        raise ConfigError(f"--ppm: {ppm} is outside -500..500")
    return ppm, False


class Listener:
    """Runs one source through the pipeline into the outputs, with live statistics."""

    def __init__(self, source, pipeline, outputs, recording, ppm: PpmTracker, auto_ppm: bool, args) -> None:
        self.source = source
        self.pipeline = pipeline
        self.outputs = outputs
        self.recording = recording
        self.ppm = ppm
        self.auto_ppm = auto_ppm
        self.stats_interval = args.stats_interval
        self.verbose = args.verbose
        self.telegrams = 0
        self.chip_rates: dict[str, float] = {}  # meter id -> last chip-rate error (ppm)
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self._last_stats = (self.started, self.cpu_started, 0)

    def run(self) -> None:
        next_stats = self.started + self.stats_interval
        for item in self.source.chunks():
            if isinstance(item, np.ndarray):
                if self.recording is not None:
                    self.recording.write_raw(item)
                self._emit(self.pipeline.process(cu8_to_complex64(item)))
            else:
                log.warning(
                    "gap in the signal: %.1f s (%d samples) lost: %s", item.seconds, item.samples, item.reason
                )
                self._emit(self.pipeline.gap(item.samples))
            if time.monotonic() >= next_stats:
                if self.verbose:
                    self.print_stats()
                self.outputs.status(self.status())
                next_stats = time.monotonic() + self.stats_interval
        self._emit(self.pipeline.flush())

    def _emit(self, results: list[dict]) -> None:
        for result in results:
            self.telegrams += 1
            offset = result.get("freq_offset_hz")
            if "id" in result and offset is not None:
                self.ppm.add(str(result["id"]), float(offset))
            if "id" in result and result.get("chip_rate_error_ppm") is not None:
                self.chip_rates[str(result["id"])] = float(result["chip_rate_error_ppm"])
            self.outputs.receive(result)
        if results and self.auto_ppm:
            wanted = self.ppm.correction()
            if wanted is not None:
                log.info(
                    "dongle frequency error about %+.1f ppm: correcting by %+d ppm",
                    self.ppm.estimate(),
                    wanted,
                )
                self.ppm.applied = wanted
                self.source.set_ppm(wanted)

    def status(self) -> dict:
        """Receiver status for MQTT (retained on <prefix>/receiver/<name>/status)."""
        src = self.source.stats
        estimate = self.ppm.estimate()
        return {
            "source": self.source.describe(),
            "uptime_s": round(time.monotonic() - self.started, 1),
            "samples": src.samples,
            "telegrams": self.telegrams,
            **self.pipeline.stats(),
            "duplicates": self.pipeline.duplicates,
            "dropped_blocks": src.dropped_blocks,
            "gaps": src.gaps,
            "reconnects": src.reconnects,
            "ppm_estimate": None if estimate is None else round(estimate, 1),
            "ppm_applied": self.ppm.applied,
        }

    def summary(self) -> str:
        wall = time.monotonic() - self.started
        cpu = time.process_time() - self.cpu_started
        stats = self.pipeline.stats()
        src = self.source.stats
        estimate = self.ppm.estimate()
        ppm_text = (
            f"dongle {estimate:+.1f} ppm from {len(self.ppm.per_meter)} meters"
            if estimate is not None
            else "dongle ppm unknown (no meter heard)"
        )
        speed = src.samples / max(wall, 1e-9) / 1e6
        return (
            f"{src.samples:,} samples in {wall:.1f} s ({speed:.2f} M samples/s, "
            f"CPU {100 * cpu / max(wall, 1e-9):.1f} %): {frame_counts(stats, self.pipeline.duplicates)}; "
            f"dropped {src.dropped_blocks} blocks "
            f"({src.dropped_samples:,} samples), {src.gaps} gaps ({src.gap_seconds:.1f} s), "
            f"{src.reconnects} reconnects; {ppm_text}"
        )

    def print_stats(self) -> None:
        now, cpu_now = time.monotonic(), time.process_time()
        then, cpu_then, samples_then = self._last_stats
        src = self.source.stats
        interval = max(now - then, 1e-9)
        stats = self.pipeline.stats()
        parts = []
        for meter, hz in sorted(self.ppm.offsets_hz.items()):
            chip = self.chip_rates.get(meter)
            clock = f" chip clock {chip:+.0f} ppm" if chip is not None else ""
            parts.append(f"{meter} {hz:+.0f} Hz{clock}")
        meters = ", ".join(parts) or "none yet"
        print(
            f"sdr-wmbus: stats: {(src.samples - samples_then) / interval / 1e6:.2f} M samples/s, "
            f"CPU {100 * (cpu_now - cpu_then) / interval:.1f} %, frames {mode_counts(stats)}, "
            f"lost to CRC errors {stats['crc_failures']}, sync hits on noise {stats['false_syncs']}, "
            f"dropped {src.dropped_blocks} "
            f"blocks, gaps {src.gaps}; meter carrier offsets and chip clocks: {meters}",
            file=sys.stderr,
            flush=True,
        )
        self._last_stats = (now, cpu_now, src.samples)


def cmd_listen(args: argparse.Namespace) -> int:
    from .decoder import TelegramDecoder
    from .pipeline import RadioPipeline
    from .sources import SourceError

    setup_logging(args.verbose)
    try:
        modes = _modes(args.modes)
        offset_range = max_offset(args)
        rate = _number(args.rate, "--rate") or DEFAULT_RATE
        default_center = CENTER_T1_C1_S1_HZ if "s" in modes else CENTER_T1_C1_HZ
        center = _number(args.center, "--center") or default_center
        gain = _parse_gain(args.gain)
        ppm, auto_ppm = _parse_ppm(args.ppm)
        if args.stats_interval <= 0:
            raise ConfigError("--stats-interval must be positive")
        keys = load_keys(args)
        decoder = None if args.raw_only else TelegramDecoder(keys, driver=args.driver)
        pipeline = RadioPipeline(rate, center, modes, decoder, offset_range)
        source = _open_source(args, rate, center, gain, ppm)
        outputs = Outputs(args, raw_only=args.raw_only, **output_style(args))
    except (ConfigError, SourceError, ValueError) as exc:
        return _fail(str(exc))
    if not args.quiet:
        warn_capture(pipeline.receiver, offset_range, rate)
    # Load (or compile) the numba kernels before the radio starts: a live source does not wait.
    warm_up(rate, center, modes)
    try:
        source.start()
    except SourceError as exc:
        outputs.close()
        return _fail(str(exc), EXIT_ERROR)
    recording = None
    try:
        if args.save_iq:
            recording = _open_recording(args.save_iq, rate, center)
    except SourceError as exc:
        source.close()
        outputs.close()
        return _fail(str(exc), EXIT_ERROR)
    log.info("listening on %s at %.6g MHz, %.6g Msps", source.describe(), center / 1e6, rate / 1e6)

    def stop(signum, frame) -> None:
        source.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    listener = Listener(source, pipeline, outputs, recording, PpmTracker(center, ppm), auto_ppm, args)
    try:
        listener.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        source.close()
        if recording is not None:
            recording.close()
        outputs.status(listener.status())
        problem = outputs.close()
    if not args.quiet:
        print(f"sdr-wmbus: {listener.summary()}", file=sys.stderr)
        if outputs.filter.filtered:
            print(
                f"sdr-wmbus: {outputs.filter.filtered} telegrams left out by --only/--ignore", file=sys.stderr
            )
    if source.error:
        return _fail(f"{source.describe()}: {source.error}", EXIT_ERROR)
    if problem:
        return _fail(problem, EXIT_ERROR)
    return EXIT_OK
