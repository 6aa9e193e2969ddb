"""Command line: ``sdr-wmbus decode`` (and, as the radio arrives, replay/listen/synth/bench)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from . import __version__
from .errors import ConfigError
from .input_lines import parse_line
from .outputs.jsonl import JsonLinesOutput

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
    dec.add_argument("--format", choices=("json", "pretty"), default="json", help="output format")
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
    output = JsonLinesOutput(pretty=args.format == "pretty")
    decoded = total = 0
    for line in _lines(args):
        total += 1
        parsed = parse_line(line)
        if parsed.frame is None:
            result = {"error": parsed.error}
        else:
            result = decoder.decode(parsed.frame, already_decrypted=args.already_decrypted)
        if "error" not in result:
            decoded += 1
        output.write(result)
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
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
