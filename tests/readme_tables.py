"""The README's generated tables: supported meters (from the driver files) and the documented
differences from wmbusmeters (from tests/test_corpus.py). ``python3 tests/readme_tables.py --write``
rewrites them in README.md; tests/test_readme.py fails when they are out of date."""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def drivers_table() -> str:
    from sdr_wmbus.drivers import builtin_drivers
    from sdr_wmbus.drivers.listing import render_markdown, rows

    return render_markdown(rows(builtin_drivers()))


def differences_table() -> str:
    sys.path.insert(0, str(HERE))
    from test_corpus import DOCUMENTED_DIFFERENCES

    grouped: dict[tuple[str, str], list[str]] = {}
    for (driver, field), reason in sorted(DOCUMENTED_DIFFERENCES.items()):
        grouped.setdefault((driver, reason), []).append(field)
    lines = ["| driver | field | what we print, and why |", "|---|---|---|"]
    for (driver, reason), fields in sorted(grouped.items()):
        shown = ", ".join(f"`{f}`" for f in fields[:3]) + (
            f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
        )
        lines.append(f"| `{driver}` | {shown} | {reason} |")
    return "\n".join(lines)


def _section(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:begin -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def rendered(text: str) -> str:
    text = _section("drivers").sub(lambda m: m.group(1) + drivers_table() + "\n" + m.group(3), text)
    return _section("differences").sub(lambda m: m.group(1) + differences_table() + "\n" + m.group(3), text)


if __name__ == "__main__":
    current = README.read_text()
    if "--write" in sys.argv:
        README.write_text(rendered(current))
    else:
        print(drivers_table() + "\n\n" + differences_table())
