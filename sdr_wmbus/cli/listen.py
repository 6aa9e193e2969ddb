"""``sdr-wmbus listen``: live reception from an RTL-SDR stick or an rtl_tcp server."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from ..errors import ConfigError
from ..jit import warm_up
from ..listen import Listener, PpmTracker
from ..outputs.fanout import Outputs, add_output_arguments
from ..tables.phy import CENTER_T1_C1_HZ, CENTER_T1_C1_S1_HZ
from .options import (
    EXIT_ERROR,
    EXIT_OK,
    add_key_arguments,
    add_output_format_argument,
    add_radio_arguments,
    center_frequency,
    fail,
    load_keys,
    max_offset,
    output_style,
    parse_modes,
    sample_rate,
    setup_logging,
    warn_capture,
)

log = logging.getLogger("sdr_wmbus.listen")

DEFAULT_RATE = 1.6e6


def register(sub) -> None:
    lis = sub.add_parser(
        "listen",
        help="receive live from an RTL-SDR stick or an rtl_tcp server and decode the telegrams",
        description=(
            "Receive mode T1 and C1 telegrams live from an RTL-SDR (--device) or an rtl_tcp server "
            "(--rtl-tcp) and decode them: one JSON line per telegram, as replay prints them. Ctrl-C or "
            "SIGTERM stops it cleanly."
        ),
    )
    _add_arguments(lis)
    add_output_arguments(lis)

    lis.set_defaults(run=run)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--device", metavar="N|SERIAL", help="RTL-SDR by index or serial number (default 0)")
    where.add_argument(
        "--rtl-tcp", metavar="HOST:PORT", help="read from an rtl_tcp server (default port 1234)"
    )
    add_radio_arguments(
        parser,
        "sample rate (default 1.6M; 0.8M-3.2M)",
        "centre frequency (default 868.95M; 868.625M when S1 is received)",
    )
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


def _open_source(args: argparse.Namespace, rate: float, center: float, gain, ppm: int):
    if args.rtl_tcp:
        from ..sources.rtltcp import RtlTcpSource, parse_address

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
    from ..sources.rtlsdr import RtlSdrSource

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
    from ..sources import IQFileWriter

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


def run(args: argparse.Namespace) -> int:
    from ..decoder import TelegramDecoder
    from ..pipeline import RadioPipeline
    from ..sources import SourceError

    setup_logging(args.verbose)
    try:
        modes = parse_modes(args.modes)
        offset_range = max_offset(args)
        rate = sample_rate(args.rate, DEFAULT_RATE)
        default_center = CENTER_T1_C1_S1_HZ if "s" in modes else CENTER_T1_C1_HZ
        center = center_frequency(args.center, default_center)
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
        return fail(str(exc))
    if not args.quiet:
        warn_capture(pipeline.receiver, offset_range, rate)
    # Load (or compile) the radio kernels before the radio starts: a live source does not wait.
    warm_up(rate, center, modes)
    try:
        source.start()
    except SourceError as exc:
        outputs.close()
        return fail(str(exc), EXIT_ERROR)
    recording = None
    try:
        if args.save_iq:
            recording = _open_recording(args.save_iq, rate, center)
    except SourceError as exc:
        source.close()
        outputs.close()
        return fail(str(exc), EXIT_ERROR)
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
        return fail(f"{source.describe()}: {source.error}", EXIT_ERROR)
    if problem:
        return fail(problem, EXIT_ERROR)
    return EXIT_OK
