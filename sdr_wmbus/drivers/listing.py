"""``sdr-wmbus drivers``: which meters are supported, with what fields; and ``--check`` for a user's
own driver file (it loads, and its tests pass)."""

from __future__ import annotations

from .spec import DriverSpec, FieldSpec
from .testing import mismatches


def field_label(spec: FieldSpec) -> str:
    """A field as a user sees it in the output (templates shown as N)."""
    name = spec.output_name(0, 0, 0)
    if spec.templated:
        name = spec.name.replace("{storage}", "N").replace("{tariff}", "N").replace("{subunit}", "N")
        name = f"{name}_{spec.unit}" if spec.unit else name
    return name


def _detects(driver: DriverSpec) -> str:
    parts = []
    for detect in driver.detect:
        text = "/".join(detect.manufacturers)
        if detect.versions:
            text += " v" + ",".join(f"{v:02x}" for v in detect.versions)
        if detect.device_types:
            text += " t" + ",".join(f"{t:02x}" for t in detect.device_types)
        parts.append(text)
    return "; ".join(parts)


def rows(drivers: list[DriverSpec]) -> list[dict]:
    """One row per driver, sorted by name."""
    out = []
    for driver in sorted(drivers, key=lambda d: d.name):
        fields = [field_label(f) for f in driver.fields if not f.hidden]
        if driver.status.enabled:
            fields.append("status")
        out.append(
            {
                "name": driver.name,
                "aliases": list(driver.aliases),
                "title": driver.title,
                "meter_type": driver.meter_type,
                "manufacturers": sorted({m for d in driver.detect for m in d.manufacturers}),
                "detects": _detects(driver),
                "fields": fields,
                "tests": len(driver.tests),
                "source": "built-in" if driver.builtin else driver.path,
            }
        )
    return out


def render_text(table: list[dict], with_fields: bool = False) -> str:
    width = max((len(r["name"]) for r in table), default=4)
    makers = min(max((len(",".join(r["manufacturers"])) for r in table), default=3), 24)
    lines = []
    for row in table:
        aliases = f" (also {', '.join(row['aliases'])})" if row["aliases"] else ""
        lines.append(
            f"{row['name']:<{width}}  {row['meter_type']:<15} {','.join(row['manufacturers']):<{makers}} "
            f"{row['title']}{aliases}"
        )
        if with_fields:
            lines.append(f"{'':<{width}}  fields: {', '.join(row['fields'])}")
    lines.append(f"{len(table)} drivers")
    return "\n".join(lines)


def render_markdown(table: list[dict]) -> str:
    """The README's table of supported meters."""
    lines = [
        "| driver | meter | type | manufacturers | also known as |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        lines.append(
            f"| `{row['name']}` | {row['title']} | {row['meter_type'].replace('_', ' ')} | "
            f"{', '.join(row['manufacturers'])} | {', '.join(row['aliases'])} |"
        )
    return "\n".join(lines)


def check(driver: DriverSpec) -> list[str]:
    """Problems with a driver file's tests (one line each); empty when every test passes."""
    problems = []
    if not driver.tests:
        problems.append(f"{driver.path}: no [[test]]: add a telegram and the fields it must print")
    for test in driver.tests:
        for problem in mismatches(driver, test):
            problems.append(f"{driver.path}:{test.line}: {problem}")
    return problems
