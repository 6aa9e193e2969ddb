"""Command line: ``sdr-wmbus decode`` (and, as the radio arrives, replay/listen/synth/bench)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from . import __version__
from .commands import (
    add_key_arguments,
    add_max_offset_argument,
    add_output_format_argument,
    load_keys,
    output_style,
)
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
    add_output_format_argument(rep)
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

    drv = sub.add_parser(
        "drivers",
        help="list the supported meters (drivers) and their fields; check your own driver file",
        description="List every driver: name, meter type, manufacturers, the meter, wmbusmeters aliases. "
        "With --check, load driver files of your own and run their [[test]] telegrams.",
    )
    drv.add_argument("--fields", action="store_true", help="also list each driver's fields")
    drv.add_argument("--json", action="store_true", help="as JSON")
    drv.add_argument("--markdown", action="store_true", help="as a Markdown table (the README's)")
    drv.add_argument("--drivers", metavar="PATH", action="append", default=[], help="add your driver files")
    drv.add_argument("--check", metavar="PATH", nargs="+", help="check these driver files (or folders)")

    ana = sub.add_parser(
        "analyze",
        help="explain a telegram: layers, records with their DIF/VIF bytes, and what each driver prints",
        description="Explain one telegram as a person debugging a meter wants to read it: each layer "
        "(DLL, ELL, AFL, TPL) with its bytes, each record with its DIF/VIF bytes, storage, tariff, "
        "subunit, value and unit, then the drivers that could decode it, best first. Keys are used, "
        "never shown.",
    )
    ana.add_argument("hex", metavar="HEX", help="the telegram as hex (or an rtl_wmbus or telegram=|..| line)")
    add_key_arguments(ana)
    ana.add_argument("--already-decrypted", action="store_true", help="the encrypted part is plaintext")
    ana.add_argument("--link-crc", choices=LINK_CRC_CHOICES, default="auto", help="link-layer CRCs present?")
    ana.add_argument("--json", action="store_true", help="as JSON")

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


def cmd_decode(args: argparse.Namespace) -> int:
    from .decoder import TelegramDecoder

    try:
        keys = load_keys(args)
    except ConfigError as exc:
        return _fail(str(exc))
    decoder = TelegramDecoder(keys, driver=args.driver)
    try:
        if args.format:
            print("sdr-wmbus: note: decode --format is now --output-format", file=sys.stderr)
            args.output_format = args.format
        outputs = Outputs(args, batch=True, **output_style(args))
    except ConfigError as exc:
        return _fail(str(exc))
    except OutputUnavailable as exc:
        print(f"sdr-wmbus: error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_DECODED
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
        return EXIT_NOTHING_DECODED
    if total and not decoded:
        return EXIT_NOTHING_DECODED
    return EXIT_OK


def cmd_drivers(args: argparse.Namespace) -> int:
    import json

    from .drivers import DriverFileError, load_user_drivers, registry, use_user_drivers
    from .drivers.listing import check, render_markdown, render_text, rows

    try:
        if args.check:
            use_user_drivers([*args.drivers, *args.check])  # detection must see the files checked
            problems = []
            count = 0
            for path in args.check:
                for driver in load_user_drivers(path):
                    count += 1
                    problems += check(driver)
            for problem in problems:
                print(problem)
            print(
                f"{count} driver file(s) checked: "
                + ("all tests pass" if not problems else f"{len(problems)} problem(s)")
            )
            return EXIT_OK if not problems else EXIT_NOTHING_DECODED
        if args.drivers:
            use_user_drivers(args.drivers)
    except DriverFileError as exc:
        return _fail(str(exc))
    table = rows(list(registry().drivers.values()))
    if args.json:
        print(json.dumps(table, indent=2, ensure_ascii=False))
    elif args.markdown:
        print(render_markdown(table))
    else:
        print(render_text(table, with_fields=args.fields))
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    import json

    from .analyze import analyze, render
    from .decoder import TelegramDecoder

    try:
        keys = load_keys(args)
    except ConfigError as exc:
        return _fail(str(exc))
    parsed = parse_line(args.hex)
    if parsed.frame is None:
        return _fail(str(parsed.error))
    link_crc = args.link_crc if args.link_crc != "auto" else parsed.link_crc
    decoder = TelegramDecoder(keys, driver=args.driver)
    already = args.already_decrypted or parsed.already_decrypted
    analysis = analyze(decoder, parsed.frame, already, link_crc)
    if args.json:
        print(json.dumps(analysis.to_json(), indent=2, ensure_ascii=False, default=str))
    else:
        print(render(analysis))
    return EXIT_OK if "error" not in analysis.result else EXIT_NOTHING_DECODED


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
        if args.command == "drivers":
            return cmd_drivers(args)
        if args.command == "analyze":
            return cmd_analyze(args)
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
