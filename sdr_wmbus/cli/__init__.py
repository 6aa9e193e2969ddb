"""The command line: ``sdr-wmbus COMMAND``. One module per command (``register`` adds its parser,
``run`` does it); what the commands share is in :mod:`.options`."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import analyze, bench, decode, drivers, listen, replay, serve, synth
from .options import EXIT_OK, EXIT_USAGE

COMMANDS = (decode, replay, listen, serve, drivers, analyze, synth, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdr-wmbus",
        description="Wireless M-Bus receiver and telegram decoder.",
    )
    parser.add_argument("--version", action="version", version=f"sdr-wmbus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
