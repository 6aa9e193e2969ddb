"""``sdr-wmbus drivers``: the supported meters and their fields; ``--check`` for a user's driver files."""

from __future__ import annotations

import argparse
import json

from .options import EXIT_ERROR, EXIT_OK, fail


def register(sub) -> None:
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

    drv.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..drivers import DriverFileError, load_user_drivers, registry, use_user_drivers
    from ..drivers.listing import check, render_markdown, render_text, rows

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
            return EXIT_OK if not problems else EXIT_ERROR
        if args.drivers:
            use_user_drivers(args.drivers)
    except DriverFileError as exc:
        return fail(str(exc))
    table = rows(list(registry().drivers.values()))
    if args.json:
        print(json.dumps(table, indent=2, ensure_ascii=False))
    elif args.markdown:
        print(render_markdown(table))
    else:
        print(render_text(table, with_fields=args.fields))
    return EXIT_OK
