"""Generic driver: names standard OMS records the way wmbusmeters does, for any meter.

A record's name is built from its quantity (``total_m3``, ``flow_temperature_c``, ...), its function
(``max_``/``min_`` prefix, ``_at_error``), storage number (storage 1 is the billing-date value that
wmbusmeters calls ``target``; others get ``_storage_N``), tariff (``_tariff_N``) and subunit
(``_subunitN``), then the unit suffix. Values are converted to wmbusmeters' units (kWh, kW, m3/h, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..app.records import short_decimal

if TYPE_CHECKING:
    from ..app.records import Apl, Record
    from ..telegram import Telegram


@dataclass(frozen=True)
class Naming:
    base: str  # name for storage 0, tariff 0, instantaneous
    suffix: str  # unit suffix of the output name ('' for dates/text)
    factors: dict[str, float]  # record unit -> multiplier into the suffix unit
    target: str | None = None  # storage-1 name (billing date value)
    backward: str | None = None  # name when the record carries the 'backward' modifier


_TIME_TO_H = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "month": 730.0, "y": 8760.0}
_TIME_TO_S = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}

NAMINGS: dict[str, Naming] = {
    "volume": Naming("total", "m3", {"m3": 1.0}, target="target", backward="total_backward"),
    "energy": Naming(
        "total_energy_consumption",
        "kwh",
        {"Wh": 1e-3, "J": 1 / 3.6e6},
        target="target_energy",
        backward="total_energy_production",
    ),
    "power": Naming(
        "current_power_consumption", "kw", {"W": 1e-3, "J/h": 1 / 3.6e6}, backward="current_power_production"
    ),
    "volume_flow": Naming("volume_flow", "m3h", {"m3/h": 1.0, "m3/min": 60.0, "m3/s": 3600.0}),
    "mass": Naming("total_mass", "kg", {"kg": 1.0}),
    "mass_flow": Naming("mass_flow", "kgh", {"kg/h": 1.0}),
    "flow_temperature": Naming("flow_temperature", "c", {"C": 1.0}),
    "return_temperature": Naming("return_temperature", "c", {"C": 1.0}),
    "temperature_difference": Naming("flow_return_temperature_difference", "c", {"K": 1.0, "C": 1.0}),
    "external_temperature": Naming("external_temperature", "c", {"C": 1.0}),
    "pressure": Naming("pressure", "bar", {"bar": 1.0}),
    "hca": Naming("current_consumption", "hca", {"": 1.0}, target="consumption_at_set_date"),
    "on_time": Naming("on_time", "h", _TIME_TO_H),
    "operating_time": Naming("operating_time", "h", _TIME_TO_H),
    "averaging_duration": Naming("averaging_duration", "s", _TIME_TO_S),
    "actuality_duration": Naming("actuality_duration", "s", _TIME_TO_S),
    "voltage": Naming("voltage", "v", {"V": 1.0}),
    "current": Naming("current", "a", {"A": 1.0}),
    "frequency": Naming("frequency", "hz", {"Hz": 1.0}),
    "relative_humidity": Naming("current_relative_humidity", "rh", {"%RH": 1.0}),
    "reactive_energy": Naming(
        "total_reactive_energy_consumption",
        "kvarh",
        {"kVARh": 1.0},
        backward="total_reactive_energy_production",
    ),
    "apparent_energy": Naming("total_apparent_energy_consumption", "kvah", {"kVAh": 1.0}),
    "remaining_battery_lifetime": Naming("remaining_battery_life", "y", {"d": 1 / 365.2425, "y": 1.0}),
    "date": Naming("meter_date", "", {}, target="target_date"),
    "datetime": Naming("meter_datetime", "", {}, target="target_datetime"),
    "error_flags": Naming("error_flags", "", {}),
    "fabrication_number": Naming("fabrication_no", "", {}),
}

IDENTIFIERS = {
    "fabrication_number",
    "customer_location",
    "customer",
    "enhanced_identification",
    "bus_address",
}
BCD_CODES = {0x9, 0xA, 0xB, 0xC, 0xE}
PROFILE_MODIFIERS = {"compact_profile", "inverse_compact_profile", "compact_profile_with_registers"}
_PHASES = {"phase_l1": "_at_phase_1", "phase_l2": "_at_phase_2", "phase_l3": "_at_phase_3"}


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "_" for c in text.replace("%", "pct").replace("/", "_per_"))
    return "_".join(part for part in out.split("_") if part)


def _round(value: float) -> float | int:
    """Round away binary noise from scaling (1.991 not 1.9909999999999999) without losing digits."""
    if isinstance(value, int):
        return value
    rounded = float(f"{value:.12g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded


def _manufacturer_vifes(record: Record) -> str:
    """Hex of the manufacturer-specific VIFEs (after the 0xFF marker VIFE) that tell such records apart."""
    header = record.header
    pos = 1
    while pos < len(header) and header[pos - 1] & 0x80:  # skip DIFEs
        pos += 1
    marker = header.find(b"\xff", pos + 1)
    return header[marker + 1 :].hex() if marker >= 0 else ""


def record_name(record: Record) -> tuple[str, object]:
    """(field name, value in the field's unit) for one record."""
    naming = NAMINGS.get(record.quantity)
    modifiers = set(record.modifiers)
    value = record.value
    if record.quantity == "manufacturer_specific":
        return f"manufacturer_specific_{record.header.hex()}", value
    if record.quantity in IDENTIFIERS and isinstance(value, int) and record.dif & 0x0F in BCD_CODES:
        value = f"{value:0{2 * len(record.data)}d}"  # keep the leading zeros printed on the meter
    if modifiers & PROFILE_MODIFIERS:  # a packed series of values, shown raw under its own name
        return f"{_slug(record.quantity)}_profile_{record.header.hex()}", value
    if naming is None:
        base = _slug(record.quantity)
        suffix = _slug(record.unit) if record.unit else ""
    else:
        base = naming.base
        suffix = naming.suffix
        if "backward" in modifiers and naming.backward:
            base = naming.backward
        if record.storage == 1 and naming.target:
            base = naming.target
        if isinstance(value, (int, float)) and naming.factors:
            factor = naming.factors.get(record.unit)
            if factor is None:  # a unit the naming does not know: keep it visible in the name
                suffix = _slug(record.unit)
            elif factor != 1.0:
                value = value * factor
    name = base
    if record.function == "maximum":
        name = "max_" + name
    elif record.function == "minimum":
        name = "min_" + name
    for modifier, text in _PHASES.items():
        if modifier in modifiers:
            name += text
    if record.storage > 1 or (record.storage == 1 and (naming is None or not naming.target)):
        name += f"_storage_{record.storage}"
    if record.tariff:
        name += f"_tariff_{record.tariff}"
    if record.subunit:
        name += f"_subunit{record.subunit}"
    if record.function == "error":
        name += "_at_error"
    if "manufacturer_specific_vife" in modifiers:
        name += "_mfct_" + _manufacturer_vifes(record)
    if suffix:
        name += "_" + suffix
    if isinstance(value, float):
        value = _round(value)
    return name, value


def decode(telegram: Telegram) -> dict:
    """Named fields for every record; a repeated name gets _2, _3 ... before its unit so nothing is lost."""
    fields: dict = {}
    assert telegram.apl is not None
    for record in telegram.apl.records:
        name, value = record_name(record)
        if name in fields:
            stem, sep, unit = name.rpartition("_") if _has_unit(name) else (name, "", "")
            number = 2
            while f"{stem}_{number}{sep}{unit}" in fields:
                number += 1
            name = f"{stem}_{number}{sep}{unit}"
        fields[name] = value
    return fields


_UNIT_SUFFIXES = {n.suffix for n in NAMINGS.values() if n.suffix}


def _has_unit(name: str) -> bool:
    return name.rpartition("_")[2] in _UNIT_SUFFIXES


_RECORD_ITEMS: dict[tuple, dict[str, object]] = {}
# By record layout: how many records it has, and the function that writes their items.
_LAYOUT_WRITERS: dict[int, tuple[int, Callable[[list[Record]], list[dict]]]] = {}
_SEEN_LAYOUTS: set[int] = set()  # layouts written once (the general way)
_MAX_WRITERS = 1024  # about 3 kB each; a receiver hears a few hundred layouts


def _record_item(record: Record) -> dict[str, object]:
    """The parts of a record's JSON item that its header fixes (the same in every telegram)."""
    key = (record.header, record.quantity, record.unit, record.storage, record.tariff, record.subunit)
    item = _RECORD_ITEMS.get(key)
    if item is None:
        item = {"unit": record.unit}
        if record.storage:
            item["storage"] = record.storage
        if record.tariff:
            item["tariff"] = record.tariff
        if record.subunit:
            item["subunit"] = record.subunit
        if record.function != "instantaneous":
            item["function"] = record.function
        if record.modifiers:
            item["modifiers"] = record.modifiers  # a tuple: each output gets a list of its own
        item["dif_vif"] = record.header.hex()
        if len(_RECORD_ITEMS) > 20000:
            _RECORD_ITEMS.clear()
        _RECORD_ITEMS[key] = item
    return item


def _item(record: Record) -> dict:
    value = record.value
    item: dict = {"quantity": record.quantity, "value": _round(value) if type(value) is float else value}
    static = _record_item(record)
    item.update(static)
    if "modifiers" in static:
        item["modifiers"] = list(record.modifiers)
    return item


def _layout_writer(records: list[Record]) -> Callable[[list[Record]], list[dict]]:
    """A function that writes the ``records`` items of one record layout, with everything the layout
    fixes (quantity, unit, addressing, DIF/VIF) written into its code as literals: per telegram only the
    values are read. It gives what :func:`_item` gives for each record."""
    values = []
    items = []
    for number, record in enumerate(records):
        values.append(f"r{number}.value")
        literal = {"quantity": record.quantity, "value": None, **_record_item(record)}
        parts = []
        for key, part in literal.items():
            v = f"v{number}"
            if key == "value" and short_decimal(record.header):  # what round_ would give, cheaply
                text = f"((int({v}) if {v}.is_integer() else {v}) if {v}.__class__ is float else {v})"
            elif key == "value":
                text = f"(round_({v}) if {v}.__class__ is float else {v})"
            elif key == "modifiers":
                text = repr(list(part))  # type: ignore[call-overload]
            else:
                text = repr(part)
            parts.append(f"{key!r}: {text}")
        items.append("{" + ", ".join(parts) + "}")
    lines = ["def write(records):"]
    if records:
        lines.append("    " + "".join(f"r{n}, " for n in range(len(records))) + "= records")
        lines.append("    " + ", ".join(f"v{n}" for n in range(len(records))) + " = " + ", ".join(values))
    lines.append("    return [" + ", ".join(items) + "]")
    names: dict[str, object] = {"round_": _round}
    exec("\n".join(lines), names)  # noqa: S102 - our own code, built from the reprs above
    return names["write"]  # type: ignore[return-value]


def records_json(apl: Apl) -> list[dict]:
    """Every record with its value, unit, quantity and addressing, for the output's ``records`` list."""
    layout = apl.layout
    records = apl.records
    writer = _LAYOUT_WRITERS.get(layout) if layout is not None else None
    if writer is None and layout is not None:
        if layout in _SEEN_LAYOUTS:  # seen again: worth a writer of its own
            writer = len(records), _layout_writer(records)
            if len(_LAYOUT_WRITERS) >= _MAX_WRITERS:
                _LAYOUT_WRITERS.clear()
            _LAYOUT_WRITERS[layout] = writer
        else:
            if len(_SEEN_LAYOUTS) > 4096:
                _SEEN_LAYOUTS.clear()
            _SEEN_LAYOUTS.add(layout)
    if writer is not None and writer[0] == len(records):
        out = writer[1](records)
    else:
        out = [_item(record) for record in records]
    if apl.manufacturer_data:
        out.append({"quantity": "manufacturer_data", "value": apl.manufacturer_data.hex(), "unit": ""})
    return out
