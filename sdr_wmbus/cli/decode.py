"""``sdr-wmbus decode``: telegrams given as hex (arguments, or one per line on stdin) -> one output each."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from ..errors import ConfigError
from ..input_lines import parse_line
from ..link.dll import LINK_CRC_CHOICES
from ..outputs.fanout import Outputs, OutputUnavailable, add_output_arguments
from .options import (
    EXIT_ERROR,
    EXIT_OK,
    add_key_arguments,
    add_output_format_argument,
    fail,
    load_keys,
    output_style,
)


def register(sub) -> None:
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
    add_key_arguments(dec)
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
    add_output_format_argument(dec)
    dec.add_argument("--format", choices=("json", "pretty"), help=argparse.SUPPRESS)  # the old spelling
    add_output_arguments(dec)

    dec.set_defaults(run=run)


NOT_TEXT = "\x00not text"  # marks an input line that is not UTF-8 text (reported, never decoded)


def _stdin_lines() -> Iterator[str]:
    """stdin read as bytes, line by line: one line that is not UTF-8 is one error, not the end."""
    for raw in sys.stdin.buffer:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield NOT_TEXT


def _lines(args: argparse.Namespace) -> Iterator[str]:
    sources: Iterable[str] = args.hex
    if not args.hex or args.hex == ["-"]:
        sources = _stdin_lines()
    for line in sources:
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def run(args: argparse.Namespace) -> int:
    from ..decoder import TelegramDecoder

    try:
        keys = load_keys(args)
    except ConfigError as exc:
        return fail(str(exc))
    decoder = TelegramDecoder(keys, driver=args.driver)
    try:
        if args.format:
            print("sdr-wmbus: note: decode --format is now --output-format", file=sys.stderr)
            args.output_format = args.format
        outputs = Outputs(args, batch=True, **output_style(args))
    except ConfigError as exc:
        return fail(str(exc))
    except OutputUnavailable as exc:
        print(f"sdr-wmbus: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    decoded = total = 0
    try:
        for line in _lines(args):
            total += 1
            parsed = parse_line(line) if line != NOT_TEXT else None
            if parsed is None:
                result = {"error": "not a hex telegram: the line is not text (UTF-8)"}
            elif parsed.frame is None:
                result = {"error": parsed.error}
            else:
                link_crc = args.link_crc if args.link_crc != "auto" else parsed.link_crc
                already = args.already_decrypted or parsed.already_decrypted
                result = decoder.decode(parsed.frame, already_decrypted=already, link_crc=link_crc)
            if "error" not in result:
                decoded += 1
            outputs.write(result)
    finally:
        problem = outputs.close()
    if problem:
        print(f"sdr-wmbus: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    if total and not decoded:
        return EXIT_ERROR
    return EXIT_OK
