"""Applying a driver to a decoded telegram: find each field's record, convert, look up, compute.

The driver is data (:mod:`.spec`); this is the one matcher every driver goes through. Records are
grouped once per telegram by quantity and by exact header, so a field looks at only the records that
can match it.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING

from ..app.records import short_decimal
from ..errors import DecodeError
from .spec import NEUTRAL_MODIFIERS, DriverSpec, FieldSpec, LookupRule, Match
from .status import OK, join_status, tpl_status_words
from .units import UnitMismatch, conversion, convert

if TYPE_CHECKING:
    from ..app.records import Record
    from ..telegram import Telegram

Hook = Callable[["Telegram"], dict]
HookRecords = Callable[["Telegram"], "list[Record]"]
_HOOKS: dict[str, tuple[Hook, HookRecords | None]] = {}


def _no_fields(telegram: Telegram) -> dict:
    return {}


def _hook(name: str) -> tuple[Hook, HookRecords | None]:
    if name not in _HOOKS:
        try:
            module = importlib.import_module(f"sdr_wmbus.drivers.hooks.{name}")
        except ModuleNotFoundError:
            raise DecodeError(f"driver hook {name!r} does not exist") from None
        decode = getattr(module, "decode", None)
        records = getattr(module, "records", None)
        if decode is None and records is None:
            raise DecodeError(f"driver hook {name!r} has neither decode() nor records()")
        _HOOKS[name] = (decode or _no_fields, records)
    return _HOOKS[name]


def hook_function(name: str) -> Hook:
    """The ``decode(telegram) -> dict`` of built-in hook module ``name`` (no fields if it has none)."""
    return _hook(name)[0]


def hook_records(name: str) -> HookRecords | None:
    """The ``records(telegram) -> list[Record]`` of hook module ``name``, if it has one: records the
    hook reads out of a proprietary block, which the driver's fields match like the telegram's own."""
    return _hook(name)[1]


class RecordIndex:
    """A telegram's records, grouped for matching."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.by_quantity: dict[str, list[Record]] = defaultdict(list)
        self.by_header: dict[bytes, list[Record]] = defaultdict(list)
        for record in records:
            self.by_quantity[record.quantity].append(record)
            self.by_header[record.header].append(record)

    def candidates(self, match: Match) -> list[Record]:
        if match.dif_vifs is not None:
            found = [r for key in match.dif_vifs for r in self.by_header.get(key, ())]
            if len(match.dif_vifs) > 1:
                found.sort(key=lambda r: r.offset)
            return [r for r in found if _addressed(r, match)]
        assert match.quantities is not None
        found = [r for q in match.quantities for r in self.by_quantity.get(q, ())]
        if len(match.quantities) > 1:
            found.sort(key=lambda r: r.offset)
        return [r for r in found if _addressed(r, match)]


def _addressed(record: Record, match: Match) -> bool:
    if match.measurement != "any" and record.function != match.measurement:
        return False
    if not match.storage[0] <= record.storage <= match.storage[1]:
        return False
    if not match.tariff[0] <= record.tariff <= match.tariff[1]:
        return False
    if not match.subunit[0] <= record.subunit <= match.subunit[1]:
        return False
    if match.modifiers is not None:
        modifiers = set(record.modifiers) - NEUTRAL_MODIFIERS
        if match.manufacturer_vifes is not None:
            modifiers.discard(MANUFACTURER_VIFE)  # implied by the manufacturer VIFEs asked for
        if modifiers != match.modifiers:
            return False
    if match.manufacturer_vifes is not None and manufacturer_vifes(record) != match.manufacturer_vifes:
        return False
    return True


MANUFACTURER_VIFE = "manufacturer_specific_vife"


def manufacturer_vifes(record: Record) -> bytes | None:
    """The VIFEs after the manufacturer-specific marker VIFE (0xFF) of a record, None without one.

    Manufacturers put their own codes there (a phase, an average, exported energy ...).
    """
    if MANUFACTURER_VIFE not in record.modifiers:
        return None
    header = record.header
    pos = 1
    while pos < len(header) and header[pos - 1] & 0x80:  # past the DIF and DIFEs: the VIF
        pos += 1
    if header[pos] in (0xFB, 0xFD):  # the VIF's code byte follows
        pos += 1
    marker = header.find(b"\xff", pos + 1)
    return header[marker + 1 :] if marker >= 0 else None


def lookup_words(rules: tuple[LookupRule, ...], value: int) -> list[str]:
    """The words a code value stands for under a field's lookup rules."""
    words: list[str] = []
    for rule in rules:
        masked = value & rule.mask
        if rule.kind == "bits":
            bit = 1
            unnamed = 0  # set bits without a word: named together in one word, as wmbusmeters does
            while bit <= masked:
                if masked & bit:
                    word = rule.words.get(bit)
                    if word is not None:
                        words.append(word)
                    elif rule.together:
                        unnamed |= bit
                    else:
                        words.append(rule.unknown.format(value=bit >> rule.shift))
                bit <<= 1
            if unnamed:
                words.append(rule.unknown.format(value=unnamed >> rule.shift))
        else:
            word = rule.words.get(masked >> rule.shift if rule.shift else masked)
            if word is None:
                word = rule.words.get(masked)
            words.append(word if word is not None else rule.unknown.format(value=masked >> rule.shift))
    return [w for w in words if w]


def _round(value: float) -> float | int:
    """Round away binary noise from scaling (1.991 not 1.9909999999999999) without losing digits."""
    rounded = float(f"{value:.12g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded


def field_value(spec: FieldSpec, record: Record) -> object:
    """The value a record gives this field, in the field's unit and format."""
    value = record.value
    if spec.simple_number and isinstance(value, (int, float)):  # most fields: a number in a unit
        value = convert(value, record.unit, spec.unit)  # type: ignore[arg-type]
        return _round(value) if isinstance(value, float) else value
    if value is None and spec.format == "hex" and record.data and not spec.invalid:
        # An identifier in BCD with non-decimal digits (FF0124018699) has no number but still has digits.
        return record.data[::-1].hex().upper()
    if value is None or (spec.invalid and _invalid(spec, record)):
        return spec.when_invalid
    if spec.lookup:
        raw = value if isinstance(value, int) else _raw_int(record)
        if raw is None:
            return None
        words = lookup_words(spec.lookup, raw)
        if spec.sort_words:  # as wmbusmeters prints them: sorted, each word once
            words = sorted(set(" ".join(words).split()))
        return " ".join(words) if words else spec.lookup_default
    if spec.mask is not None:
        raw = _raw_int(record)
        if raw is None:
            return None
        value = (raw & spec.mask) >> ((spec.mask & -spec.mask).bit_length() - 1)
    fmt = spec.format
    if fmt == "hex":
        if isinstance(value, str) and value.isascii() and value.isprintable():
            return value  # a text record (or hex already): as sent
        return record.data[::-1].hex().upper()  # numbers, and text that is not printable ASCII
    if fmt == "text":
        if isinstance(value, int) and record.dif & 0x0F in (0x9, 0xA, 0xB, 0xC, 0xE):
            return f"{value:0{2 * len(record.data)}d}"  # BCD: keep the leading zeros printed on the meter
        return str(value)
    if fmt == "readable":
        return readable_text(record)
    if fmt in ("date", "datetime", "datetime_minutes"):
        if not isinstance(value, str):
            return None
        return value[:10] if fmt == "date" else value[:16] if fmt == "datetime_minutes" else value
    if fmt == "raw":
        return value
    if not isinstance(value, (int, float)):
        return None
    if spec.unit is not None:
        value = convert(value, record.unit, spec.unit)
    if spec.scale != 1.0 or spec.offset:
        value = value * spec.scale + spec.offset
    if fmt == "int":
        return int(value)
    return _round(value) if isinstance(value, float) else value


def readable_text(record: Record) -> str | None:
    """A version or identification number as the meter shows it: BCD as its digits; binary data as
    ASCII text when its bytes (most significant first, zero padding dropped) are all printable, else as
    hex digits, most significant first ("0095", "+L")."""
    value = record.value
    if value is None or isinstance(value, str):
        return value
    if record.dif & 0x0F in (0x9, 0xA, 0xB, 0xC, 0xE):
        return f"{value:0{2 * len(record.data)}d}" if isinstance(value, int) else str(value)
    if record.dif & 0x0F == 0x5:
        return str(value)
    text = record.data[::-1].rstrip(b"\x00")
    if text and all(0x20 <= byte < 0x7F for byte in text):
        return text.decode("ascii")
    return record.data[::-1].hex().upper()


def _invalid(spec: FieldSpec, record: Record) -> bool:
    """The record holds one of the field's "no value" codes: compared with its data bytes read as a
    little-endian number (unsigned and signed: 0xFFFFFFFF and -1 both name FF FF FF FF; 0x80000000
    names 00 00 00 80 whether the field is an integer or BCD) and with its value."""
    if record.value in spec.invalid:
        return True
    data = record.data
    if not data or len(data) > 8:
        return False
    unsigned = int.from_bytes(data, "little")
    signed = int.from_bytes(data, "little", signed=True)
    return unsigned in spec.invalid or signed in spec.invalid


def _raw_int(record: Record) -> int | None:
    if not record.data:
        return None
    return int.from_bytes(record.data, "little")


def _missing_value(spec: FieldSpec) -> tuple[bool, object]:
    if spec.missing == "omit":
        return False, None
    if spec.missing == "null":
        return True, None
    return True, spec.missing


_MISMATCH = "mismatch"  # a number in this record's unit cannot be shown in the field's unit
_UNCHANGED = (1.0, 0.0, 1.0)  # the record's unit is the field's
_EXACT = 10**12  # integers below this come through _round unchanged

# One record a field takes: its position, the name it prints under, and for plain numbers the unit
# conversion (see ``units.conversion``; _MISMATCH, or 0 when the field is not a plain number).
Target = tuple[int, str, object]
# A field of the plan: the spec, the positions of the records it takes (None: not a record field),
# those records as targets, and the name it prints under when it takes none.
Step = tuple[FieldSpec, tuple[int, ...] | None, tuple[Target, ...], str]
Fill = Callable[[list["Record"], dict, set, dict], None]


class _Plan:
    """A driver's plan for one record layout, and the code made from it once it is used again."""

    __slots__ = ("driver", "steps", "formulas", "fill", "uses")

    def __init__(self, driver: DriverSpec, steps: list[Step]) -> None:
        self.driver = driver
        self.steps = steps
        # formula fields: computed after the others, once per matching record when they also match
        self.formulas = tuple((spec, chosen) for spec, chosen, _, _ in steps if spec.formula is not None)
        self.fill: Fill | None = None
        self.uses = 0


_PLANS: dict[tuple, _Plan] = {}
_ADDRESSING = attrgetter("header", "storage", "tariff", "subunit", "quantity")  # what matching looks at
_MAX_PLANS = 2048  # (driver, layout) pairs, 3-10 kB each; a town has a few hundred


def _plan(driver: DriverSpec, records: list[Record], layout: int | None) -> _Plan:
    """The fields that can give something for this layout, in the driver's order, each with the
    records it takes, the names they print under and their unit conversions.

    All of that depends only on the records' headers and addressing, and a meter sends the same layout
    again and again: the matching is done once per layout and driver, then reused. ``layout`` names a
    record layout :func:`~sdr_wmbus.app.records.parse_apl` has seen (None: key on the records).
    Fields that match nothing and print nothing when missing are left out of the plan.
    """
    if layout is None:
        layout_key: object = tuple(map(_ADDRESSING, records))
    else:
        layout_key = layout
    key = (id(driver), layout_key)
    plan = _PLANS.get(key)
    if plan is None or plan.driver is not driver:  # (an id can be reused once a driver is gone)
        plan = _Plan(driver, _make_plan(driver, records))
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _make_plan(driver: DriverSpec, records: list[Record]) -> list[Step]:
    index = RecordIndex(records)
    position = {id(record): number for number, record in enumerate(records)}
    plan: list[Step] = []
    for spec in driver.fields:
        if spec.match is None:
            plan.append((spec, None, (), spec.output_name()))
            continue
        chosen = tuple(position[id(r)] for r in _selected(index, spec))
        if chosen or spec.formula is not None or (not spec.templated and spec.missing != "omit"):
            targets = tuple(
                (
                    i,
                    spec.output_name(records[i].storage, records[i].tariff, records[i].subunit),
                    _number_conversion(spec, records[i]),
                )
                for i in chosen
            )
            plan.append((spec, chosen, targets, spec.output_name()))
    return plan


def _number_conversion(spec: FieldSpec, record: Record) -> object:
    """How a plain-number field shows a number from this record (0: the field is not one)."""
    if not spec.simple_number:
        return 0
    assert spec.unit is not None
    try:
        return conversion(record.unit, spec.unit)
    except UnitMismatch:
        return _MISMATCH


def _selected(index: RecordIndex, spec: FieldSpec) -> list[Record]:
    """The records a field takes: the n-th match, every match of a templated name, else the first."""
    assert spec.match is not None
    matched = index.candidates(spec.match)
    if spec.index:
        return matched[spec.index - 1 : spec.index]
    return matched if spec.templated else matched[:1]


def _put_computed(spec: FieldSpec, name: str, value: object, values: dict, hidden: set[str]) -> None:
    """Store a formula's result (rounded; the field's missing policy when it gave nothing)."""
    if isinstance(value, float):
        value = _round(value)
    if value is None:
        present, value = _missing_value(spec)
        if not present:
            return
    values[name] = value
    if spec.hidden:
        hidden.add(name)


class _Scope:
    """What a per-record formula sees: the record's own names, then the telegram's fields (no copy)."""

    __slots__ = ("own", "fields")

    def __init__(self, own: dict[str, object], fields: dict[str, object]) -> None:
        self.own, self.fields = own, fields

    def get(self, name: str) -> object:
        return self.own[name] if name in self.own else self.fields.get(name)


def _record_formula(spec: FieldSpec, records: list[Record], values: dict, hidden: set[str]) -> None:
    """A formula computed for each record the field matches (``storage`` etc. name the record's)."""
    assert spec.formula is not None
    for record in records:
        name = spec.output_name(record.storage, record.tariff, record.subunit)
        if values.get(name) is not None:
            continue
        try:
            value = field_value(spec, record) if not spec.lookup else record.value
        except UnitMismatch:
            continue
        scope = _Scope(
            {"storage": record.storage, "tariff": record.tariff, "subunit": record.subunit, "value": value},
            values,
        )
        _put_computed(spec, name, spec.formula.evaluate(scope), values, hidden)
    if not records and not spec.templated:
        present, value = _missing_value(spec)
        if present and spec.output_name() not in values:
            values[spec.output_name()] = value


def _remember(specs: list[FieldSpec], values: dict, memory: dict[str, object], hidden: set[str]) -> None:
    """Keep the values of remembered fields, and print the kept one when this telegram has none
    (meters that send their static data, such as a location, in a telegram of its own)."""
    for spec in specs:
        name = spec.output_name()
        if values.get(name) is not None:
            memory[name] = values[name]
        elif name in memory:
            values[name] = memory[name]
            if spec.hidden:
                hidden.add(name)


def _fill(steps: list[Step], records: list[Record], values: dict, hidden: set, from_hook: dict) -> None:
    """Put the plan's fields into ``values`` (formula fields aside): the plan read step by step."""
    for spec, _chosen, targets, plain_name in steps:
        if spec.formula is not None:
            continue
        if spec.from_hook:
            if plain_name in from_hook:
                values[plain_name] = from_hook.pop(plain_name)
            else:
                present, value = _missing_value(spec)
                if present:
                    values[plain_name] = value
            if spec.hidden:
                hidden.add(plain_name)
            continue
        produced = False
        for i, name, how in targets:
            if values.get(name) is not None:
                continue  # an earlier field (or record) already gave this name
            record = records[i]
            value = record.value
            if how != 0 and isinstance(value, (int, float)):  # a plain number: the planned conversion
                if how is _MISMATCH:
                    continue
                if how == _UNCHANGED and type(value) is int and -_EXACT < value < _EXACT:
                    values[name] = value  # what the conversion and rounding below would give
                elif how is not None:
                    factor, offset, divisor = how  # type: ignore[misc]
                    values[name] = _round((value * factor - offset) / divisor)
                else:
                    values[name] = _round(value) if isinstance(value, float) else value
            else:
                try:
                    values[name] = field_value(spec, record)
                except UnitMismatch:
                    continue
            produced = True
            if spec.hidden:
                hidden.add(name)
        if not produced and not spec.templated:
            present, value = _missing_value(spec)
            if present and plain_name not in values:
                values[plain_name] = value
                if spec.hidden:
                    hidden.add(plain_name)


def _inline_value(spec: FieldSpec, when_invalid: str) -> str | None:
    """An expression for what :func:`field_value` gives ``value`` under a date or raw field without
    lookups, masks or invalid codes (the common ones), or None for the others."""
    if spec.lookup or spec.mask is not None or spec.invalid or spec.simple_number:
        return None
    if spec.format == "raw":
        return f"{when_invalid} if value is None else value"
    cut = {"date": "[:10]", "datetime_minutes": "[:16]", "datetime": ""}.get(spec.format)
    if cut is None:
        return None
    return f"{when_invalid} if value is None else (value{cut} if isinstance(value, str) else None)"


def _decimal_divisor(how: object) -> int:
    """10**k when a conversion only divides by 10**k (Wh to kWh ...), else 0: an integer below 10**12
    divided by it is the correctly rounded decimal, which is what conversion and rounding give."""
    if not isinstance(how, tuple):
        return 0
    factor, offset, divisor = how
    if offset != 0.0:
        return 0
    for k in range(1, 13):
        if (factor == 10.0**-k and divisor == 1.0) or (factor == 1.0 and divisor == 10.0**k):
            return 10**k
    return 0


def _compile_fill(steps: list[Step], preset: bool, short: frozenset[int] = frozenset()) -> Fill:
    """:func:`_fill` for one plan, written out as straight-line code: names, record positions and unit
    conversions become literals, and the checks that cannot fail for this plan are left out.

    ``preset``: ``values`` may hold names before the plan runs (a driver that starts from the generic
    names), so every name is checked as the step-by-step reading checks it. ``short``: positions of
    records whose floats have at most 12 significant digits (see ``short_decimal``), which rounding
    leaves as they are.
    """
    names: dict[str, object] = {
        "field_value": field_value,
        "round_": _round,
        "UnitMismatch": UnitMismatch,
        "number": (int, float),
        "float_": float,
    }
    code = ["def fill(records, values, hidden, from_hook):"]
    given: set[str] = set()  # names this code may have put into values so far

    def put(indent: str, name: str, value: str, spec: FieldSpec, plain: bool = False) -> None:
        code.append(f"{indent}values[{name!r}] = {value}")
        if spec.hidden:
            code.append(f"{indent}hidden.add({name!r})")
        given.add(name)

    for number, (spec, _chosen, targets, plain_name) in enumerate(steps):
        if spec.formula is not None:
            continue
        names[f"spec{number}"] = spec
        present, missing = _missing_value(spec)
        if missing is not None:
            names[f"missing{number}"] = missing
        missing_text = f"missing{number}" if missing is not None else "None"
        if spec.from_hook:
            code.append(f"    if {plain_name!r} in from_hook:")
            put("        ", plain_name, f"from_hook.pop({plain_name!r})", spec)
            if present:
                code.append("    else:")
                put("        ", plain_name, missing_text, spec)
            elif spec.hidden:
                code.append(f"    else:\n        hidden.add({plain_name!r})")
            continue
        track = not spec.templated and present  # whether "nothing produced" prints something
        if track:
            code.append("    produced = False")
        for i, name, how in targets:
            indent = "    "
            if preset or name in given:
                code.append(f"    if values.get({name!r}) is None:")
                indent = "        "
            code.append(f"{indent}value = records[{i}].value")
            general = [
                f"{indent}    try:",
                f"{indent}        values[{name!r}] = field_value(spec{number}, records[{i}])",
                f"{indent}    except UnitMismatch:",
                f"{indent}        pass",
                f"{indent}    else:",
            ]
            if spec.hidden:
                general.append(f"{indent}        hidden.add({name!r})")
            general.append(f"{indent}        produced = True" if track else f"{indent}        pass")
            given.add(name)
            inline = _inline_value(spec, f"when_invalid{number}")
            if how == 0 and inline is not None:  # field_value's own steps for this field, without the call
                names[f"when_invalid{number}"] = spec.when_invalid
                put(indent, name, inline, spec)
                if track:
                    code.append(f"{indent}produced = True")
                continue
            if how == 0:
                code.append(f"{indent}if True:")
                code.extend(general)
                continue
            code.append(f"{indent}if isinstance(value, number):")
            if how is _MISMATCH:
                code.append(f"{indent}    pass")
            else:
                inner = indent + "    "
                # cheaper ways to what the conversion and rounding give, where they give the same
                cases: list[tuple[str, str]] = []
                if i in short and (how == _UNCHANGED or how is None):
                    cases.append(("value.__class__ is float_", "int(value) if value.is_integer() else value"))
                if how == _UNCHANGED:
                    cases.append((f"value.__class__ is int and {-_EXACT} < value < {_EXACT}", "value"))
                power = _decimal_divisor(how)
                if power:
                    cases.append(
                        (
                            f"value.__class__ is int and {-_EXACT} < value < {_EXACT}",
                            f"value // {power} if value % {power} == 0 else value / {power}",
                        )
                    )
                if how is not None:
                    factor, offset, divisor = how  # type: ignore[misc]
                    default = f"round_((value * {factor!r} - {offset!r}) / {divisor!r})"
                else:
                    default = "round_(value) if isinstance(value, float_) else value"
                for number_case, (condition, expression) in enumerate(cases):
                    code.append(f"{inner}{'if' if number_case == 0 else 'elif'} {condition}:")
                    put(inner + "    ", name, expression, spec)
                if cases:
                    code.append(f"{inner}else:")
                    put(inner + "    ", name, default, spec)
                else:
                    put(inner, name, default, spec)
                if track:
                    code.append(f"{indent}    produced = True")
            code.append(f"{indent}else:")
            code.extend(general)
        if track:
            code.append("    if not produced and " + f"{plain_name!r} not in values:")
            put("        ", plain_name, missing_text, spec)
    code.append("    return None")
    exec("\n".join(code), names)  # noqa: S102 - our own code, built from the plan's reprs above
    return names["fill"]  # type: ignore[return-value]


def apply(driver: DriverSpec, telegram: Telegram, status_byte: int | None) -> dict:
    """Named fields of a telegram under a driver (hook fields first, then matched, then computed)."""
    from_hook: dict = {}
    apl = None if driver.proprietary else telegram.apl  # a proprietary payload is never walked
    records = apl.records if apl is not None else []
    if driver.hook:
        from_hook = hook_function(driver.hook)(telegram)
        extra = hook_records(driver.hook)
        if extra is not None:
            records = [*records, *extra(telegram)]
    hook_names = set(from_hook)
    if driver.expand_profiles:
        from ..app.profiles import expand_profile

        records = records + [element for record in records for element in expand_profile(record)]
    same_records = apl is not None and records is apl.records
    plan = _PLANS.get((id(driver), apl.layout)) if same_records else None  # type: ignore[union-attr]
    if plan is None or plan.driver is not driver:
        plan = _plan(driver, records, apl.layout if same_records else None)  # type: ignore[union-attr]
    values: dict[str, object] = {}
    if driver.generic_names and apl is not None:
        from .generic import decode as generic_names

        values.update(generic_names(telegram))
    hidden: set[str] = set()
    if plan.fill is None:
        plan.uses += 1
        if plan.uses > 1:  # used again: the same layout keeps coming, so the plan becomes code
            short = (
                frozenset(i for i, record in enumerate(records) if short_decimal(record.header))
                if same_records
                else frozenset()  # records a hook made: their values need not come from their headers
            )
            plan.fill = _compile_fill(plan.steps, preset=driver.generic_names, short=short)
    if plan.fill is not None:
        plan.fill(records, values, hidden, from_hook)
    else:
        _fill(plan.steps, records, values, hidden, from_hook)
    values.update({k: v for k, v in from_hook.items() if k not in values})
    memory = telegram.remembered.setdefault(driver.name, {})
    _remember(driver.remembered_fields, values, memory, hidden)
    for spec, chosen in plan.formulas:
        if chosen is not None:
            _record_formula(spec, [records[i] for i in chosen], values, hidden)
            continue
        value = spec.formula.evaluate(values) if spec.formula is not None else None
        _put_computed(spec, spec.output_name(), value, values, hidden)
    if plan.formulas:
        _remember([spec for spec, _ in plan.formulas if spec.remember], values, memory, hidden)
    status = driver.status
    if status.enabled and status.name not in hook_names:  # a hook's own status wins
        words = tpl_status_words(status_byte, status.tpl_bits) if status.tpl and status_byte else []
        for name in status.fields:
            text = values.get(name)
            if isinstance(text, str):
                words.extend(text.split())
        values[status.name] = join_status(words) if words else OK
    if not hidden:
        return values
    return {k: v for k, v in values.items() if k not in hidden}
