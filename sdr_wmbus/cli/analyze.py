"""``sdr-wmbus analyze``: one telegram explained layer by layer and record by record."""

from __future__ import annotations

import argparse
import json

from ..errors import ConfigError
from ..input_lines import parse_line
from ..link.dll import LINK_CRC_CHOICES
from .options import EXIT_ERROR, EXIT_OK, add_key_arguments, fail, load_keys


def register(sub) -> None:
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

    ana.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze, render
    from ..decoder import TelegramDecoder

    try:
        keys = load_keys(args)
    except ConfigError as exc:
        return fail(str(exc))
    parsed = parse_line(args.hex)
    if parsed.frame is None:
        return fail(str(parsed.error))
    link_crc = args.link_crc if args.link_crc != "auto" else parsed.link_crc
    decoder = TelegramDecoder(keys, driver=args.driver)
    already = args.already_decrypted or parsed.already_decrypted
    analysis = analyze(decoder, parsed.frame, already, link_crc)
    if args.json:
        print(json.dumps(analysis.to_json(), indent=2, ensure_ascii=False, default=str))
    else:
        print(render(analysis))
    return EXIT_OK if "error" not in analysis.result else EXIT_ERROR
