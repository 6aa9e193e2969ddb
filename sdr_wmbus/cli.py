"""Command line: ``sdr-wmbus decode`` (and, as the radio arrives, replay/listen/synth/bench)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from . import __version__
from .commands import add_key_arguments, add_max_offset_argument
from .errors import ConfigError
from .input_lines import parse_line
from .link.dll import LINK_CRC_CHOICES
from .outputs.fanout import Outputs, OutputUnavailable, add_output_arguments

EXIT_OK = 0
EXIT_NOTHING_DECODED = 1
EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"sdr-wmbus: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    from .drivers import driver_names

    parser = argparse.ArgumentParser(
        prog="sdr-wmbus",
        description="Wireless M-Bus receiver and telegram decoder.",
    )
    parser.add_argument("--version", action="version", version=f"sdr-wmbus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    dec = sub.add_parser(
        "decode",
        help="decode telegrams given as hex (arguments, or one per line on stdin)",
        description=(
            "Decode wM-Bus telegrams given as hex, with or without link-layer CRCs, or rtl_wmbus output "
            "lines (T1;1;1;...;0xHEX). With no HEX or '-', reads one telegram per line from stdin and writes "
            "exactly one JSON line per non-empty input line, in order."
        ),
    )
    dec.add_argument("hex", nargs="*", metavar="HEX", help="telegram(s) as hex; '-' or none: read stdin")
    keys = dec.add_mutually_exclusive_group()
    keys.add_argument("--key", metavar="HEX", help="AES-128 key (32 hex digits) for every meter")
    keys.add_argument("--meters", metavar="FILE", help="TOML file with [[meter]] id/key/name/driver entries")
    dec.add_argument("--driver", metavar="NAME", help=f"force a driver ({', '.join(driver_names())})")
    dec.add_argument(
        "--already-decrypted",
        action="store_true",
        help="the encrypted part was already decrypted (as decoders print it in debug logs)",
    )
    dec.add_argument(
        "--link-crc",
        choices=LINK_CRC_CHOICES,
        default="auto",
        help="link-layer CRCs in bare hex: none (as rtl_wmbus and wmbusmeters print frames), present "
        "(they must check), auto (default: by length and by which CRCs check)",
    )
    dec.add_argument("--format", choices=("json", "pretty"), default="json", help="output format")
    add_output_arguments(dec)

    rep = sub.add_parser(
        "replay",
        help="demodulate a recorded IQ file (or stdin) and decode its telegrams",
        description=(
            "Demodulate mode T1 and C1 (frame A and B) telegrams from an IQ recording and decode them. "
            "Rate, centre and format come from the options, SigMF metadata or a file name such as "
            "rtlsdr_868.950M_1M6_x.cu8. Writes one JSON line per telegram and a summary on stderr."
        ),
    )
    rep.add_argument("file", metavar="FILE", help="IQ file, SigMF recording, or '-' for stdin")
    rep.add_argument("--rate", metavar="HZ", help="sample rate, e.g. 1.6M, 2400k, 1600000")
    rep.add_argument("--center", metavar="HZ", help="centre frequency the recording was tuned to (868.95M)")
    rep.add_argument("--format", choices=("cu8", "cs8", "cs16", "cf32", "sigmf"), help="IQ sample format")
    rep.add_argument("--modes", default="t,c", help="modes to receive: any of t, c, s (default t,c)")
    add_max_offset_argument(rep)
    add_key_arguments(rep)
    rep.add_argument("--output-format", choices=("json", "pretty"), default="json", help="output format")
    rep.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    rep.add_argument(
        "--raw-only",
        action="store_true",
        help="no decoding: raw frames for a central 'serve' (no keys needed)",
    )
    add_output_arguments(rep)

    lis = sub.add_parser(
        "listen",
        help="receive live from an RTL-SDR stick or an rtl_tcp server and decode the telegrams",
        description=(
            "Receive mode T1 and C1 telegrams live from an RTL-SDR (--device) or an rtl_tcp server "
            "(--rtl-tcp) and decode them: one JSON line per telegram, as replay prints them. Ctrl-C or "
            "SIGTERM stops it cleanly."
        ),
    )
    from .listen import add_listen_arguments

    add_listen_arguments(lis)
    add_output_arguments(lis)

    srv = sub.add_parser(
        "serve",
        help="central decoder: decode the raw frames that receivers publish to MQTT, publish readings",
        description=(
            "Subscribe to <prefix>/raw/+ (frames published by 'listen --raw-only --mqtt'), decode them with "
            "the meters file and publish readings on <prefix>/meter/<id>, with Home Assistant discovery. "
            "Copies of one telegram heard by several receivers are published once, with the best RSSI and "
            "the list of receivers. Several instances share the load with --share GROUP."
        ),
    )
    from .serve import add_serve_arguments

    add_serve_arguments(srv)
    add_output_arguments(srv)

    syn = sub.add_parser(
        "synth",
        help="write a synthetic T1/C1 IQ test signal",
        description="Write an IQ file with chosen telegrams, mode, rate, offset, chip-rate error and noise, "
        "plus the list of what was sent.",
    )
    from .synth import add_synth_arguments

    add_synth_arguments(syn)

    ben = sub.add_parser(
        "bench",
        help="measure demodulation throughput (samples/s, multiple of real time)",
        description="Demodulate a file (or a built-in synthetic T1+C1 signal) on one core and report "
        "complex samples per second, the multiple of real time at 1.6 and 2.4 Msps, JIT warm-up and peak "
        "memory.",
    )
    ben.add_argument("file", nargs="?", metavar="FILE", help="IQ file (default: synthetic signal)")
    ben.add_argument("--rate", metavar="HZ", help="sample rate (for files without one in the name)")
    ben.add_argument("--format", choices=("cu8", "cs8", "cs16", "cf32", "sigmf"), help="IQ sample format")
    ben.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic signal")
    ben.add_argument("--repeat", type=int, default=3, help="passes over the signal (best is reported)")
    ben.add_argument("--modes", default="t,c", help="receivers to run: any of t, c, s (default t,c)")
    add_max_offset_argument(ben)
    return parser


def _load_keys(args: argparse.Namespace):
    from .security.keys import KeyStore, parse_key

    if args.meters:
        return KeyStore.from_file(args.meters)
    store = KeyStore()
    if args.key:
        store.default_key = parse_key(args.key, "--key")
    return store


def _lines(args: argparse.Namespace) -> Iterator[str]:
    sources: Iterable[str] = args.hex
    if not args.hex or args.hex == ["-"]:
        sources = sys.stdin
    for line in sources:
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def cmd_decode(args: argparse.Namespace) -> int:
    from .decoder import TelegramDecoder
    from .drivers import driver_names

    if args.driver and args.driver not in driver_names():
        return _fail(f"unknown driver {args.driver!r}; known drivers: {', '.join(driver_names())}")
    try:
        keys = _load_keys(args)
    except ConfigError as exc:
        return _fail(str(exc))
    for meter in keys.meters.values():
        if meter.driver and meter.driver not in driver_names():
            return _fail(
                f"meter {meter.id}: unknown driver {meter.driver!r}; "
                f"known drivers: {', '.join(driver_names())}"
            )
    decoder = TelegramDecoder(keys, driver=args.driver)
    try:
        outputs = Outputs(args, pretty=args.format == "pretty", batch=True)
    except ConfigError as exc:
        return _fail(str(exc))
    except OutputUnavailable as exc:
        print(f"sdr-wmbus: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_DECODED
    decoded = total = 0
    try:
        for line in _lines(args):
            total += 1
            parsed = parse_line(line)
            if parsed.frame is None:
                result = {"error": parsed.error}
            else:
                link_crc = args.link_crc if args.link_crc != "auto" else parsed.link_crc
                result = decoder.decode(
                    parsed.frame, already_decrypted=args.already_decrypted, link_crc=link_crc
                )
            if "error" not in result:
                decoded += 1
            outputs.write(result)
    finally:
        problem = outputs.close()
    if problem:
        print(f"sdr-wmbus: error: {problem}", file=sys.stderr)
        return EXIT_NOTHING_DECODED
    if total and not decoded:
        return EXIT_NOTHING_DECODED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "decode":
            return cmd_decode(args)
        if args.command == "replay":
            from .commands import cmd_replay

            return cmd_replay(args)
        if args.command == "listen":
            from .listen import cmd_listen

            return cmd_listen(args)
        if args.command == "serve":
            from .serve import cmd_serve

            return cmd_serve(args)
        if args.command == "synth":
            from .synth import run_synth

            return run_synth(args)
        if args.command == "bench":
            from .commands import cmd_bench

            return cmd_bench(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
