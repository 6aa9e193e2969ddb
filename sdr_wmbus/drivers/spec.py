"""Driver files: what a driver is, and the loader that checks one.

A driver is a TOML file (``sdr_wmbus/drivers/defs/<name>.toml``, or a user's own in a folder given with
``--drivers``): which meters it detects, and for each output field how it is found among the telegram's
records, in which unit it is shown, which words a status code becomes, or how it is computed. Its test
telegrams and the expected output sit in the same file. The format is described in
``sdr_wmbus/drivers/FORMAT.md``; every mistake in a file is one :class:`DriverFileError` that names the
file and line.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .formula import Formula, FormulaError
from .units import DISPLAY_UNITS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class DriverFileError(ValueError):
    """A driver file that cannot be used; the message names the file and the line."""


MEASUREMENTS = ("instantaneous", "maximum", "minimum", "error", "any")
FORMATS = ("number", "int", "text", "hex", "readable", "date", "datetime", "datetime_minutes", "raw")
MISSING = ("omit", "null")
METER_TYPES = (
    "water",
    "warm_water",
    "heat",
    "cooling",
    "heat_cooling",
    "gas",
    "electricity",
    "hca",
    "smoke_detector",
    "room_sensor",
    "pressure_sensor",
    "door_window",
    "pulse_counter",
    "radio_converter",
    "generic",
)
#: Combinable VIFEs that change only the scale, never the meaning: ignored when matching records.
NEUTRAL_MODIFIERS = frozenset({"multiplicative_correction"})
_NAME_RE = re.compile(r"^[a-z0-9_]+$")
_ALIAS_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")  # wmbusmeters' older names have hyphens: engelmann-faw
_TEMPLATE_RE = re.compile(r"\{(?:(\d+)\s*-\s*)?(storage|tariff|subunit)\s*(?:([+-])\s*(\d+))?\}")
# Upper-case letters too: some wmbusmeters names have them (hydrodigit's January_total_m3).
_FIELD_NAME_RE = re.compile(r"^[A-Za-z0-9_{}+\- ]+$")


@dataclass(frozen=True)
class Detect:
    """One (manufacturer, version, device type[, CI]) pattern; None in a slot matches anything."""

    manufacturers: tuple[str, ...]
    versions: tuple[int, ...] | None
    device_types: tuple[int, ...] | None
    cis: tuple[int, ...] | None


@dataclass(frozen=True)
class Match:
    """Which record a field takes: by VIF quantity and addressing, or by its exact DIF/VIF bytes."""

    quantities: tuple[str, ...] | None = None
    dif_vifs: tuple[bytes, ...] | None = None
    measurement: str = "instantaneous"
    storage: tuple[int, int] = (0, 0)
    tariff: tuple[int, int] = (0, 0)
    subunit: tuple[int, int] = (0, 0)
    modifiers: frozenset[str] | None = frozenset()  # None: any
    manufacturer_vifes: bytes | None = None  # the VIFEs after the 0xFF marker VIFE, exactly (None: any)


@dataclass(frozen=True)
class LookupRule:
    """Words for a status or code value: ``bits`` (one word per set bit) or ``index`` (one per value)."""

    kind: str  # "bits" | "index"
    mask: int
    words: dict[int, str]
    shift: int = 0
    unknown: str = "UNKNOWN_{value:02X}"  # a set bit / value with no word
    together: bool = True  # bits: the set bits without a word make one word (their sum), not one each


@dataclass(frozen=True)
class FieldSpec:
    """One output field of a driver."""

    name: str  # the stem, possibly templated: {storage}, {tariff}, {subunit}, {storage - 1}, {32 - storage}
    unit: str | None = None  # display unit; also the name's suffix
    match: Match | None = None
    index: int = (
        0  # take the n-th matching record (1-based); 0: every match for templated names, else the first
    )
    format: str = "number"
    scale: float = 1.0
    offset: float = 0.0
    mask: int | None = None  # the value is these bits of the record's raw data, shifted down to bit 0
    lookup: tuple[LookupRule, ...] = ()
    lookup_default: str = ""  # the value when no rule gives a word
    sort_words: bool = True  # the looked-up words sorted alphabetically (as wmbusmeters prints them)
    formula: Formula | None = None
    missing: object = "omit"  # "omit", "null", or a value to print when nothing matched
    invalid: tuple[object, ...] = ()  # raw values that mean "no value" (-> null)
    when_invalid: object = None  # printed when the matched record holds no value (default null)
    hidden: bool = False  # computed for status/formulas, not printed
    from_hook: bool = False  # the driver's hook supplies it
    remember: bool = False  # kept from the meter's earlier telegrams when this one does not carry it
    # Home Assistant presentation; inferred from unit and name when not given.
    title: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    diagnostic: bool = False

    @cached_property
    def templated(self) -> bool:
        return bool(_TEMPLATE_RE.search(self.name))

    @cached_property
    def simple_number(self) -> bool:
        """A plain reading: the record's number converted into the field's unit, nothing else."""
        return (
            self.unit is not None
            and self.format == "number"
            and not self.lookup
            and self.mask is None
            and not self.invalid
            and self.scale == 1.0
            and not self.offset
        )

    def output_name(self, storage: int = 0, tariff: int = 0, subunit: int = 0) -> str:
        """The name as printed, templates filled in and the unit suffix added."""
        key = (storage, tariff, subunit)
        names = self.__dict__.setdefault("_names", {})  # cached: the same few numbers come again
        name = names.get(key)
        if name is None:
            name = names[key] = self._output_name(storage, tariff, subunit)
        return name

    def _output_name(self, storage: int, tariff: int, subunit: int) -> str:
        numbers = {"storage": storage, "tariff": tariff, "subunit": subunit}

        def fill(found: re.Match) -> str:
            value = numbers[found.group(2)]
            if found.group(1):  # {32 - storage}: counted down from a number
                value = int(found.group(1)) - value
            if found.group(3):
                value = value + int(found.group(4)) if found.group(3) == "+" else value - int(found.group(4))
            return str(value)

        stem = _TEMPLATE_RE.sub(fill, self.name)
        return f"{stem}_{self.unit}" if self.unit else stem


@dataclass(frozen=True)
class StatusSpec:
    """How the ``status`` field is built: TPL status byte words plus the words of some fields."""

    tpl: bool = True
    fields: tuple[str, ...] = ()  # output names whose words join the status
    tpl_bits: dict[int, str] = field(default_factory=dict)  # words for bits 2-7 (5-7: manufacturer's)
    enabled: bool = True
    name: str = "status"  # the field it is printed as (a meter may use "status" for something else)


@dataclass(frozen=True)
class DriverTest:
    """A telegram and the fields the driver must print for it."""

    telegram: str
    expected: dict
    key: str | None = None
    already_decrypted: bool = False
    preceding: tuple[str, ...] = ()
    comment: str = ""
    forced: bool = False  # decode with this driver named, as a meters file would (not detected)
    link_crc: str = "none"
    line: int = 0


@dataclass(frozen=True)
class DriverSpec:
    """A driver as loaded from its file."""

    name: str
    title: str
    meter_type: str
    detect: tuple[Detect, ...]
    fields: tuple[FieldSpec, ...]
    aliases: tuple[str, ...] = ()
    hook: str | None = None
    proprietary: bool = False  # the payload is not EN 13757-3 records: the hook reads it
    descrambles: bool = False  # the hook undoes a manufacturer security mode the stack leaves alone
    priority: int = 0
    generic_names: bool = False  # also print generic names for the records no field takes
    expand_profiles: bool = False  # inverse compact profiles also give one "synthetic" record per element
    status: StatusSpec = field(default_factory=StatusSpec)
    tests: tuple[DriverTest, ...] = ()
    description: str = ""
    path: str = ""
    builtin: bool = True
    media: str | None = None  # printed as `media` instead of the device type's name

    @cached_property
    def remembered_fields(self) -> list[FieldSpec]:
        """Record fields kept from a meter's earlier telegrams (formulas are remembered after they run)."""
        return [spec for spec in self.fields if spec.remember and spec.formula is None]

    def field_named(self, output_name: str) -> FieldSpec | None:
        for spec in self.fields:
            if not spec.templated and spec.output_name() == output_name:
                return spec
        return None


# ---------------------------------------------------------------------------------------------- loading
_TOP_KEYS = {
    "name",
    "title",
    "description",
    "aliases",
    "meter_type",
    "media",
    "detect",
    "hook",
    "payload",
    "descrambles",
    "priority",
    "status",
    "use",
    "generic_names",
    "expand_profiles",
    "field",
    "test",
}
_FIELD_KEYS = {
    "name",
    "unit",
    "match",
    "index",
    "format",
    "scale",
    "offset",
    "mask",
    "lookup",
    "lookup_default",
    "sort_words",
    "formula",
    "missing",
    "invalid",
    "when_invalid",
    "hidden",
    "from_hook",
    "remember",
    "title",
    "device_class",
    "state_class",
    "diagnostic",
    "info",
}
_MATCH_KEYS = {
    "vif",
    "dif_vif",
    "measurement",
    "storage",
    "tariff",
    "subunit",
    "modifiers",
    "manufacturer_vifes",
}
_DETECT_KEYS = {"manufacturer", "version", "device_type", "ci"}
_TEST_KEYS = {
    "telegram",
    "expected",
    "key",
    "already_decrypted",
    "preceding",
    "comment",
    "forced",
    "link_crc",
}
_STATUS_KEYS = {"tpl", "fields", "tpl_bits", "enabled", "name"}
_LOOKUP_KEYS = {"bits", "index", "words", "shift", "unknown", "unknown_bits", "combine_unknown"}


class _Where:
    """Finds the line of the n-th ``[[section]]`` of a file, for error messages."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, header: str, number: int) -> int:
        count = -1
        for index, line in enumerate(self.lines):
            if line.strip().startswith(f"[[{header}]]"):
                count += 1
                if count == number:
                    return index + 1
        return 1

    def line_of_key(self, key: str) -> int:
        for index, line in enumerate(self.lines):
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return index + 1
        return 1

    def error(self, line: int, message: str) -> DriverFileError:
        return DriverFileError(f"{self.path}:{line}: {message}")


def _ints(value: object, what: str) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if isinstance(item, str):
            try:
                item = int(item, 0)
            except ValueError:
                raise ValueError(f"{what}: {item!r} is not a number") from None
        if not isinstance(item, int) or isinstance(item, bool):
            raise ValueError(f"{what}: {item!r} is not a number")
        out.append(item)
    return tuple(out)


ANY_NUMBER = (0, 1 << 40)


def _range(value: object, what: str) -> tuple[int, int]:
    if value == "any":
        return ANY_NUMBER
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(f"{what}: give a number or [first, last]")
        low, high = _ints(value, what)
        if low > high:
            raise ValueError(f"{what}: {low} is after {high}")
        return low, high
    (single,) = _ints(value, what)
    return single, single


def _unknown_keys(table: dict, allowed: set[str], what: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ValueError(f"unknown {what} key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _parse_detect(entry: object) -> Detect:
    if not isinstance(entry, dict):
        raise ValueError("detect: each entry is a table such as { manufacturer = 'KAM', version = 0x1b }")
    _unknown_keys(entry, _DETECT_KEYS, "detect")
    if "manufacturer" not in entry:
        raise ValueError("detect: each entry needs a manufacturer")
    manufacturers = entry["manufacturer"]
    manufacturers = tuple(manufacturers if isinstance(manufacturers, list) else [manufacturers])
    for code in manufacturers:
        if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
            raise ValueError(f"detect: manufacturer {code!r} is not a three-letter code such as 'KAM'")
    return Detect(
        manufacturers,
        _ints(entry["version"], "detect version") if "version" in entry else None,
        _ints(entry["device_type"], "detect device_type") if "device_type" in entry else None,
        _ints(entry["ci"], "detect ci") if "ci" in entry else None,
    )


def _parse_match(table: object) -> Match:
    if isinstance(table, str):  # shorthand: match = "volume"
        table = {"vif": table}
    if not isinstance(table, dict):
        raise ValueError("match: a table such as { vif = 'volume', storage = 1 }")
    _unknown_keys(table, _MATCH_KEYS, "match")
    quantities = dif_vifs = None
    if "vif" in table:
        vif = table["vif"]
        quantities = tuple(vif if isinstance(vif, list) else [vif])
    if "dif_vif" in table:
        keys = table["dif_vif"]
        try:
            dif_vifs = tuple(bytes.fromhex(k) for k in (keys if isinstance(keys, list) else [keys]))
        except (ValueError, TypeError):
            raise ValueError(f"match: dif_vif {keys!r} is not hex such as '02FF20'") from None
    if quantities is None and dif_vifs is None:
        raise ValueError("match: give vif (a record quantity) or dif_vif (exact record bytes)")
    measurement = table.get("measurement", "any" if dif_vifs else "instantaneous")
    if measurement not in MEASUREMENTS:
        raise ValueError(f"match: measurement {measurement!r} is not one of {', '.join(MEASUREMENTS)}")
    any_address = dif_vifs is not None  # exact bytes say storage, tariff and subunit already
    full = ANY_NUMBER
    modifiers = table.get("modifiers", "any" if any_address else [])
    manufacturer_vifes = None
    if "manufacturer_vifes" in table:
        try:
            manufacturer_vifes = bytes.fromhex(str(table["manufacturer_vifes"]))
        except ValueError:
            raise ValueError(
                f"match: manufacturer_vifes {table['manufacturer_vifes']!r} is not hex such as '8100'"
            ) from None
    return Match(
        quantities=quantities,
        dif_vifs=dif_vifs,
        measurement=measurement,
        storage=_range(table["storage"], "storage")
        if "storage" in table
        else (full if any_address else (0, 0)),
        tariff=_range(table["tariff"], "tariff") if "tariff" in table else (full if any_address else (0, 0)),
        subunit=_range(table["subunit"], "subunit")
        if "subunit" in table
        else (full if any_address else (0, 0)),
        modifiers=None if modifiers == "any" else frozenset(modifiers),
        manufacturer_vifes=manufacturer_vifes,
    )


def _parse_lookup(rules: object) -> tuple[LookupRule, ...]:
    if isinstance(rules, dict):
        rules = [rules]
    if not isinstance(rules, list):
        raise ValueError("lookup: a table or a list of tables")
    out = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise ValueError("lookup: each rule is a table such as { bits = 0x0F, words = { 0x01 = 'DRY' } }")
        _unknown_keys(rule, _LOOKUP_KEYS, "lookup")
        kinds = [k for k in ("bits", "index") if k in rule]
        if len(kinds) != 1:
            raise ValueError("lookup: each rule has either bits = MASK or index = MASK")
        kind = kinds[0]
        (mask,) = _ints(rule[kind], f"lookup {kind}")
        unknown_bits = rule.get("unknown_bits", "together")
        if unknown_bits not in ("each", "together"):
            raise ValueError("lookup: unknown_bits is 'each' or 'together' (with bits = MASK only)")
        words = {}
        for key, word in dict(rule.get("words", {})).items():
            (number,) = _ints(key, "lookup words")
            if not isinstance(word, str):
                raise ValueError(f"lookup: word for {key} must be text")
            words[number] = word
        out.append(
            LookupRule(
                kind,
                mask,
                words,
                int(rule.get("shift", 0)),
                str(rule.get("unknown", "UNKNOWN_{value:02X}")),
                unknown_bits == "together" or bool(rule.get("combine_unknown", False)),
            )
        )
    return tuple(out)


def _parse_field(table: object, library: dict[str, dict] | None = None) -> FieldSpec:
    if not isinstance(table, dict):
        raise ValueError("each [[field]] is a table")
    _unknown_keys(table, _FIELD_KEYS, "field")
    name = table.get("name")
    if not isinstance(name, str) or not _FIELD_NAME_RE.match(name):
        raise ValueError(f"field name {name!r}: letters, digits and _ (templates: {{storage}})")
    unit = table.get("unit")
    if unit is not None and unit not in DISPLAY_UNITS:
        raise ValueError(f"field {name}: unknown unit {unit!r} (known: {', '.join(DISPLAY_UNITS)})")
    fmt = table.get("format", "number" if unit else "raw")
    if fmt not in FORMATS:
        raise ValueError(f"field {name}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    formula = None
    if "formula" in table:
        try:
            formula = Formula(str(table["formula"]))
        except FormulaError as exc:
            raise ValueError(f"field {name}: {exc}") from None
    match = _parse_match(table["match"]) if "match" in table else None
    sources = sum(x is not None and x is not False for x in (match, formula, table.get("from_hook") or None))
    per_record = match is not None and formula is not None and not table.get("from_hook")
    if sources != 1 and not per_record:
        raise ValueError(
            f"field {name}: give exactly one of match, formula or from_hook = true "
            "(or match and formula: the formula computed for each matching record)"
        )
    if table.get("remember") and _TEMPLATE_RE.search(name):
        raise ValueError(f"field {name}: remember = true needs a name without templates")
    missing = table.get("missing", "omit")
    invalid = table.get("invalid", [])
    if "when_invalid" in table and not isinstance(table["when_invalid"], (str, int, float)):
        raise ValueError(f"field {name}: when_invalid is a value to print, such as ''")
    return FieldSpec(
        name=name,
        unit=unit,
        match=match,
        index=int(table.get("index", 0)),
        format=fmt,
        scale=float(table.get("scale", 1.0)),
        mask=_mask(table, name),
        offset=float(table.get("offset", 0.0)),
        lookup=_parse_lookup(table["lookup"]) if "lookup" in table else (),
        lookup_default=str(table.get("lookup_default", "")),
        sort_words=bool(table.get("sort_words", True)),
        formula=formula,
        missing=missing,
        invalid=tuple(invalid if isinstance(invalid, list) else [invalid]),
        when_invalid=table.get("when_invalid"),
        hidden=bool(table.get("hidden", False)),
        from_hook=bool(table.get("from_hook", False)),
        remember=bool(table.get("remember", False)),
        title=table.get("title"),
        device_class=table.get("device_class"),
        state_class=table.get("state_class"),
        diagnostic=bool(table.get("diagnostic", False)),
    )


def _mask(table: dict, name: str) -> int | None:
    if "mask" not in table:
        return None
    (mask,) = _ints(table["mask"], f"field {name} mask")
    if mask <= 0:
        raise ValueError(f"field {name}: mask must have at least one bit set")
    return mask


def _parse_status(table: object) -> StatusSpec:
    if not isinstance(table, dict):
        raise ValueError("status: a table such as { tpl = true, fields = ['error_flags'] }")
    _unknown_keys(table, _STATUS_KEYS, "status")
    bits = {}
    for key, word in dict(table.get("tpl_bits", {})).items():
        (number,) = _ints(key, "status tpl_bits")
        if number & ~0xFC or bin(number).count("1") != 1:
            raise ValueError(
                f"status tpl_bits: 0x{number:02X} is not one bit of 0x04-0x80 (0x20, 0x40, 0x80 are the "
                "manufacturer's; 0x04, 0x08, 0x10 rename POWER_LOW, PERMANENT_ERROR, TEMPORARY_ERROR)"
            )
        bits[number] = str(word)
    fields = table.get("fields", [])
    name = table.get("name", "status")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"status name {name!r}: lower-case letters, digits and _")
    return StatusSpec(
        tpl=bool(table.get("tpl", True)),
        fields=tuple(fields if isinstance(fields, list) else [fields]),
        tpl_bits=bits,
        enabled=bool(table.get("enabled", True)),
        name=name,
    )


def _parse_test(table: object) -> DriverTest:
    import json

    if not isinstance(table, dict):
        raise ValueError("each [[test]] is a table")
    _unknown_keys(table, _TEST_KEYS, "test")
    expected = table.get("expected")
    if isinstance(expected, str):
        try:
            expected = json.loads(expected)
        except ValueError as exc:
            raise ValueError(f"test expected: not JSON ({exc})") from None
    if not isinstance(expected, dict) or "telegram" not in table:
        raise ValueError("test: needs telegram (hex) and expected (a JSON object of the fields printed)")
    preceding = table.get("preceding", [])
    return DriverTest(
        telegram=str(table["telegram"]),
        expected=expected,
        key=table.get("key"),
        already_decrypted=bool(table.get("already_decrypted", False)),
        preceding=tuple(preceding),
        comment=str(table.get("comment", "")),
        forced=bool(table.get("forced", False)),
        link_crc=str(table.get("link_crc", "none")),
    )


def parse_driver(
    text: str, path: str, library: dict[str, dict] | None = None, builtin: bool = True
) -> DriverSpec:
    """Check and load one driver file's text; DriverFileError names the file and line of any mistake."""
    where = _Where(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        match = re.search(r"line (\d+)", str(exc))
        line = line or (int(match.group(1)) if match else 1)
        raise where.error(line, f"not valid TOML: {str(exc).split(' (at line')[0]}") from None
    try:
        _unknown_keys(data, _TOP_KEYS, "top-level")
    except ValueError as exc:
        key = sorted(set(data) - _TOP_KEYS)[0]
        raise where.error(where.line_of_key(key), str(exc)) from None

    def top(key: str, check):  # type: ignore[no-untyped-def]
        try:
            return check(data[key]) if key in data else None
        except (ValueError, TypeError) as exc:
            raise where.error(where.line_of_key(key), str(exc)) from None

    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise where.error(where.line_of_key("name"), f"name {name!r}: lower-case letters, digits and _")
    meter_type = data.get("meter_type", "generic")
    if meter_type not in METER_TYPES:
        raise where.error(
            where.line_of_key("meter_type"),
            f"meter_type {meter_type!r} is not one of {', '.join(METER_TYPES)}",
        )
    detect = top("detect", lambda v: tuple(_parse_detect(e) for e in (v if isinstance(v, list) else [v])))
    payload = data.get("payload", "records")
    if payload not in ("records", "proprietary"):
        raise where.error(where.line_of_key("payload"), "payload is 'records' or 'proprietary'")
    fields: list[FieldSpec] = []
    for used in data.get("use", []):
        if library is None or used not in library:
            raise where.error(where.line_of_key("use"), f"use: no library field {used!r}")
        fields.append(_parse_field(library[used]))
    for number, table in enumerate(data.get("field", [])):
        try:
            fields.append(_parse_field(table))
        except (ValueError, TypeError) as exc:
            raise where.error(where.line_of("field", number), str(exc)) from None
    tests = []
    for number, table in enumerate(data.get("test", [])):
        line = where.line_of("test", number)
        try:
            test = _parse_test(table)
        except (ValueError, TypeError) as exc:
            raise where.error(line, str(exc)) from None
        tests.append(DriverTest(**{**test.__dict__, "line": line}))
    hook = data.get("hook")
    if hook is not None and not (isinstance(hook, str) and _NAME_RE.match(hook)):
        raise where.error(where.line_of_key("hook"), f"hook {hook!r}: the name of a built-in hook module")
    if any(f.from_hook for f in fields) and hook is None:
        raise where.error(where.line_of_key("from_hook"), "fields from_hook need a hook")
    media = data.get("media")
    if media is not None and not (isinstance(media, str) and media):
        raise where.error(where.line_of_key("media"), "media: a text such as 'water'")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and _ALIAS_RE.match(a) for a in aliases):
        raise where.error(
            where.line_of_key("aliases"), "aliases: a list of names such as ['multical21'] (a-z, 0-9, _, -)"
        )
    return DriverSpec(
        name=name,
        title=str(data.get("title", name)),
        meter_type=meter_type,
        detect=detect or (),
        fields=tuple(fields),
        aliases=tuple(aliases),
        hook=hook,
        proprietary=payload == "proprietary",
        descrambles=bool(data.get("descrambles", False)),
        priority=int(data.get("priority", 0)),
        generic_names=bool(data.get("generic_names", False)),
        expand_profiles=bool(data.get("expand_profiles", False)),
        status=top("status", _parse_status) or StatusSpec(),
        tests=tuple(tests),
        description=str(data.get("description", "")),
        path=path,
        builtin=builtin,
        media=media,
    )


def load_driver_file(path: Path, library: dict[str, dict] | None = None, builtin: bool = True) -> DriverSpec:
    """Load one driver file (one clear error for a file that cannot be read)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise DriverFileError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise DriverFileError(f"{path}: not UTF-8 text") from None
    return parse_driver(text, str(path), library, builtin)


def load_library(path: Path) -> dict[str, dict]:
    """Shared field definitions by output name (``use = ["total_m3"]`` in a driver)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    library = {}
    for table in data.get("field", []):
        spec = _parse_field(table)
        library[spec.output_name()] = table
    return library
