"""Home Assistant MQTT discovery: the entities of one meter, built from its decoded telegram.

Every entity reads the meter's state topic (``<prefix>/meter/<id>``, the telegram as JSON). What an
entity shows follows from the field's name and value, the meter's ``media`` and, when a driver named the
fields, the driver's metadata (meter name and type, field titles, classes, ``diagnostic``, lookup words,
the storage number of the record a field takes), so that new drivers need no code here:

* numeric fields ending in a wmbusmeters unit suffix (``total_m3``, ``flow_temperature_c``): sensors
  whose unit, device class, state class and display precision follow from :data:`UNITS` (units only the
  drivers' table knows get a plain sensor). Values from the past (storage N, previous periods, at
  error) are disabled by default; the billing-date value (``target_m3``, storage 1) stays enabled;
  neither gets a state class, so statistics never mix them with the current value. Operating-time
  counters are ``total_increasing``; a gas meter's volume is in m³.
* the status word (``status``, or the field a driver prints it as): a diagnostic text sensor and a
  ``problem`` binary sensor that is on for anything but ``OK``.
* dates and date-times: diagnostic ``date`` / ``timestamp`` sensors (the meter's clock is taken to be
  Home Assistant's local time); the telegram's ``timestamp`` as "Last seen".
* error flags, alarm words and a driver's lookup fields: text sensors.
* firmware / software versions: the device's ``sw_version``.

Templates tolerate a field that a telegram lacks (meters that alternate frame types): a numeric sensor
keeps its value (Home Assistant ignores an empty result), a text or date sensor renders its own current
state, so no telegram makes Home Assistant log a template warning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import __version__

TOTAL = "total"  # a cumulative counter: state_class total_increasing (HA copes with resets)
MEASUREMENT = "measurement"  # an instantaneous value


@dataclass(frozen=True)
class UnitInfo:
    """How a field with this unit suffix is shown in Home Assistant."""

    unit: str | None  # unit_of_measurement
    device_classes: tuple[str, ...]  # candidates; all but the last are picked only if named in the media
    kind: str  # TOTAL or MEASUREMENT
    label: str  # the quantity's name, added to a field name that does not say it ("total" -> "Total volume")
    precision: int | None = None  # suggested_display_precision
    diagnostic: bool = False  # a setting of the meter rather than a reading (ratios)


# Unit suffix of the field name -> Home Assistant presentation. The one table to extend for new units.
# Device classes are only those whose units and state classes Home Assistant accepts together.
UNITS: dict[str, UnitInfo] = {
    "m3": UnitInfo("m³", ("water", "gas", "volume"), TOTAL, "volume", 3),
    "l": UnitInfo("L", ("water", "gas", "volume"), TOTAL, "volume", 0),
    "kwh": UnitInfo("kWh", ("energy",), TOTAL, "energy", 0),
    "mwh": UnitInfo("MWh", ("energy",), TOTAL, "energy", 3),
    "wh": UnitInfo("Wh", ("energy",), TOTAL, "energy", 0),
    "gj": UnitInfo("GJ", ("energy",), TOTAL, "energy", 3),
    "mj": UnitInfo("MJ", ("energy",), TOTAL, "energy", 0),
    "kj": UnitInfo("kJ", (), TOTAL, "energy", 0),  # not an energy unit Home Assistant 2024 takes
    "kvarh": UnitInfo("kvarh", (), TOTAL, "reactive energy", 0),
    "kvah": UnitInfo("kVAh", (), TOTAL, "apparent energy", 0),
    "hca": UnitInfo("HCA", (), TOTAL, "consumption", 0),
    "counter": UnitInfo(None, (), TOTAL, "counter", 0),
    "kg": UnitInfo("kg", (), TOTAL, "mass", 0),  # HA's weight class allows no total
    "t": UnitInfo("t", (), TOTAL, "mass", 3),
    "w": UnitInfo("W", ("power",), MEASUREMENT, "power", 0),
    "kw": UnitInfo("kW", ("power",), MEASUREMENT, "power", 3),
    "mw": UnitInfo("MW", (), MEASUREMENT, "power", 3),
    "var": UnitInfo("var", ("reactive_power",), MEASUREMENT, "reactive power", 0),
    "kvar": UnitInfo("kvar", (), MEASUREMENT, "reactive power", 3),
    "kva": UnitInfo("kVA", (), MEASUREMENT, "apparent power", 3),
    "m3h": UnitInfo("m³/h", ("volume_flow_rate",), MEASUREMENT, "flow", 3),
    "lh": UnitInfo("L/h", (), MEASUREMENT, "flow", 0),
    "kgh": UnitInfo("kg/h", (), MEASUREMENT, "mass flow", 1),
    "c": UnitInfo("°C", ("temperature",), MEASUREMENT, "temperature", 1),
    "f": UnitInfo("°F", ("temperature",), MEASUREMENT, "temperature", 1),
    "k": UnitInfo("K", (), MEASUREMENT, "temperature difference", 1),
    "bar": UnitInfo("bar", ("pressure",), MEASUREMENT, "pressure", 2),
    "pa": UnitInfo("Pa", ("pressure",), MEASUREMENT, "pressure", 0),
    "kpa": UnitInfo("kPa", ("pressure",), MEASUREMENT, "pressure", 1),
    "v": UnitInfo("V", ("voltage",), MEASUREMENT, "voltage", 1),
    "a": UnitInfo("A", ("current",), MEASUREMENT, "current", 2),
    "hz": UnitInfo("Hz", ("frequency",), MEASUREMENT, "frequency", 1),
    "pct": UnitInfo("%", (), MEASUREMENT, "percentage", 0),
    "rh": UnitInfo("%", ("humidity",), MEASUREMENT, "humidity", 0),
    "ppm": UnitInfo("ppm", (), MEASUREMENT, "concentration", 0),
    "dbm": UnitInfo("dBm", ("signal_strength",), MEASUREMENT, "signal strength", 0),
    "deg": UnitInfo("°", (), MEASUREMENT, "angle", 0),
    "factor": UnitInfo(None, (), MEASUREMENT, "factor", None, diagnostic=True),
    "s": UnitInfo("s", ("duration",), MEASUREMENT, "duration", 0),
    "min": UnitInfo("min", ("duration",), MEASUREMENT, "duration", 0),
    "h": UnitInfo("h", ("duration",), MEASUREMENT, "duration", 0),
    "d": UnitInfo("d", ("duration",), MEASUREMENT, "duration", 0),
    "month": UnitInfo("month", (), MEASUREMENT, "duration", 0),
    "y": UnitInfo("y", (), MEASUREMENT, "duration", 1),
}

# Radio fields worth a (diagnostic) sensor: they tell how well each meter is received. Other header and
# radio fields (sample, time_s, freq_offset_hz, chip_rate_error_ppm, access numbers) describe the receiver or
# the transmitter's clock, not the meter's reading.
DIAGNOSTICS: dict[str, UnitInfo] = {
    "rssi_dbfs": UnitInfo("dBFS", (), MEASUREMENT, "RSSI", 1),
    "snr_db": UnitInfo("dB", (), MEASUREMENT, "SNR", 1),
}
NOT_READINGS = {
    "sample",
    "time_s",
    "freq_offset_hz",
    "chip_rate_error_ppm",
    "access_number",
    "ell_access_number",
    "security_mode",
    "message_counter",  # the AFL message counter: transport bookkeeping, not a reading
}
# Fields that name the device's firmware: its sw_version, not an entity.
FIRMWARE_FIELDS = ("firmware_version", "software_version", "fw_version", "sw_version")
FIRMWARE_QUANTITIES = {"firmware_version", "software_version"}

# History: a value from the past. The billing-date value (wmbusmeters' target_*, an HCA's value at its
# set date) stays enabled; the others (storage N, previous periods, numbered set dates, at error) are
# disabled by default. Neither gets a state class.
_MONTHS = (
    "january february march april may june july august september october november december"
    " jan feb mar apr may jun jul aug sep oct nov dec"
).split()
_PAST = re.compile(
    r"(^|_)(storage|previous|prev|historic|historical|delta|old)(_|$)"
    r"|(^|_)at_error(_|$)|(^|_)error_\d"
    r"|(^|_)(target|set_date|at_set_date)_\d"
    r"|(^|_)last_(month|year|day|week|" + "|".join(_MONTHS) + r")(_|$)"
    r"|(^|_)(" + "|".join(_MONTHS) + r")(_|$)",
    re.IGNORECASE,
)
_BILLING = re.compile(r"(^|_)(target|set_date|at_set_date|at_date)(_|$)")
# A record with a manufacturer-specific meaning (mfct VIFE): shown, but disabled by default.
_OBSCURE = re.compile(r"(^|_)mfct(_|$)")
# The meter's own health and housekeeping: diagnostic entities.
_DIAGNOSTIC_NAMES = re.compile(
    r"(^|_)(battery|operating_time|on_time|actuality_duration|averaging_duration|transmit_period"
    r"|duration_since_last_readout|listen_timer|pause_timer|routed_messages|router_slots|access_counter"
    r"|async_msg_id)(_|$)"
)
# Time the meter has been running: a counter that only grows.
_OPERATING_TIME = re.compile(r"^(total_)?(operating|on)_time(_|$)")
# Text fields that carry alarm or error words.
_WORD_FIELDS = re.compile(r"(^|_)(error_flags|alarms?|status|errors?|faults?)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Words that say when or which, not what: a name made only of these gets the quantity's label appended.
_GENERIC_WORDS = set(
    "total target current previous prev historic last max min maximum minimum average storage at set"
    " date tariff delta backward forward month year day week period".split()
) | set(_MONTHS)
_WORDS = {"temp": "temperature", "avg": "average", "prev": "previous", "datetime": "time", "no": "number"}
_UPPER = {
    "hca": "HCA",
    "rssi": "RSSI",
    "snr": "SNR",
    "co2": "CO₂",
    "3phase": "3-phase",
    "ct": "CT",
    "vt": "VT",
}
_SPECIAL_NAMES = {
    "meter_datetime": "Meter time",
    "meter_date": "Meter date",
    "device_datetime": "Meter time",
    "device_date": "Meter date",
    "target_date": "Billing date",
    "target_datetime": "Billing date",
    "set_date": "Billing date",
    "status": "Status",
    "error_flags": "Error flags",
    "timestamp": "Last seen",
}
# Human names of the driver meter types, for device names and models.
_METER_KINDS = {
    "water": "Water meter",
    "warm_water": "Warm water meter",
    "heat": "Heat meter",
    "cooling": "Cooling meter",
    "heat_cooling": "Heat/cooling meter",
    "gas": "Gas meter",
    "electricity": "Electricity meter",
    "hca": "Heat cost allocator",
    "smoke_detector": "Smoke detector",
    "room_sensor": "Room sensor",
    "pressure_sensor": "Pressure sensor",
    "door_window": "Door/window sensor",
    "pulse_counter": "Pulse counter",
    "radio_converter": "Radio converter",
}


def _topic_part(text: str) -> str:
    """A string made safe for one level of a discovery topic (HA allows [a-zA-Z0-9_-])."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text) or "unknown"


def unit_info(field: str) -> UnitInfo | None:
    """Presentation of a numeric top-level field, or None when it is not a reading."""
    if field in DIAGNOSTICS:
        return DIAGNOSTICS[field]
    if field in NOT_READINGS or field.startswith("manufacturer_specific_") or "_" not in field:
        return None
    suffix = field.rsplit("_", 1)[1]
    return UNITS.get(suffix) or _display_unit(suffix)


@functools.cache
def _display_unit(suffix: str) -> UnitInfo | None:
    """A unit the drivers know (sdr_wmbus.drivers.units) that this table does not: a plain sensor in
    its unit, without a device class (whose units Home Assistant checks)."""
    from ..drivers.units import DISPLAY_UNITS

    unit = DISPLAY_UNITS.get(suffix)
    if unit is None:
        return None
    kind = TOTAL if unit.cumulative else MEASUREMENT
    return UnitInfo(unit.ha_unit, (), kind, unit.dimension.replace("_", " "))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def history(field: str, spec=None) -> str | None:
    """'past' for a value from the past, 'billing' for the billing-date value, None for a current one:
    from the record a driver's field takes (storage 1: the billing date; further storage numbers or a
    value at error: the past), and from the name (wmbusmeters' target_, _storage_N, last_month_, ...)."""
    by_driver = _driver_history(spec) if spec is not None else None
    if by_driver == "past" or _PAST.search(field):
        return "past"
    if by_driver == "billing" or _BILLING.search(field):
        return "billing"
    return None


def _driver_history(spec) -> str | None:
    match = spec.match
    if match is None or match.quantities is None:  # exact record bytes: the name has to tell
        return None
    if match.measurement == "error":
        return "past"
    low, high = match.storage
    if low == high == 1 and not spec.templated:
        return "billing"
    return "past" if low >= 1 else None


@functools.lru_cache(maxsize=4096)
def _template_pattern(name: str, unit: str | None) -> re.Pattern:
    r"""The output names of a templated driver field: 'consumption_{storage - 8}' -> consumption_\d+."""
    parts = re.split(r"\{[^}]*\}", name)
    stem = r"-?\d+".join(re.escape(part) for part in parts)
    return re.compile(stem + (f"_{re.escape(unit)}" if unit else ""))


def field_spec(driver, field: str):  # -> FieldSpec | None
    """The driver field that printed this output name (templated names too)."""
    if driver is None:
        return None
    spec = driver.field_named(field)
    if spec is not None:
        return spec
    for spec in driver.fields:
        if spec.templated and _template_pattern(spec.name, spec.unit).fullmatch(field):
            return spec
    return None


def _driver(obj: dict):  # -> DriverSpec | None
    """The driver that named this telegram's fields (None for generic names)."""
    name = obj.get("meter")
    if not isinstance(name, str) or name == "generic":
        return None
    from ..drivers import registry

    return registry().get(name)


def _status_field(driver) -> str | None:
    if driver is None:
        return "status"
    return driver.status.name if driver.status.enabled else None


_KIND_WORDS = ("meter", "allocator", "detector", "sensor", "converter", "repeater", "logger")


def _meter_kind(obj: dict, driver) -> str:
    """'Water meter', 'Heat cost allocator', ... from the driver's meter type, else from the media."""
    if driver is not None and driver.meter_type in _METER_KINDS:
        return _METER_KINDS[driver.meter_type]
    media = str(obj.get("media") or "").strip().replace("heat cost allocation", "heat cost allocator")
    if not media or media in ("unknown", "other", "reserved"):
        return "Meter"
    if not any(word in media.split() or f"{word})" in media for word in _KIND_WORDS):
        media += " meter"
    return media[0].upper() + media[1:]


def firmware(obj: dict, driver=None) -> str | None:
    """The meter's firmware version, from a field that names it (or that a driver reads from the
    software-version record)."""
    for name in FIRMWARE_FIELDS:
        value = obj.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    if driver is not None:
        for spec in driver.fields:
            quantities = spec.match.quantities if spec.match is not None else None
            if quantities and FIRMWARE_QUANTITIES & set(quantities) and not spec.templated:
                value = obj.get(spec.output_name())
                if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                    return str(value).strip()
    return None


def device_block(obj: dict) -> dict:
    """The Home Assistant device that groups one meter's entities."""
    meter_id = str(obj.get("id", "unknown"))
    driver = _driver(obj)
    kind = _meter_kind(obj, driver)
    device: dict[str, object] = {
        "identifiers": [f"wmbus_{meter_id}"],
        "name": str(obj.get("name") or f"{kind} {meter_id}"),
        "serial_number": meter_id,
        "model": driver.title if driver is not None and driver.title else kind,
    }
    manufacturer = str(obj.get("manufacturer_name") or obj.get("manufacturer") or "")
    if manufacturer:
        device["manufacturer"] = manufacturer
    if obj.get("version"):
        device["hw_version"] = str(obj["version"])
    version = firmware(obj, driver)
    if version:
        device["sw_version"] = version
    return device


# --- names -------------------------------------------------------------------------------------------


def entity_name(field: str, label: str = "") -> str:
    """A readable entity name: 'total_energy_consumption_storage_2_kwh' -> 'Total energy consumption
    (storage 2)'; 'total_m3' -> 'Total volume'; 'target_m3' -> 'Volume at billing date'."""
    if field in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[field]
    if field in DIAGNOSTICS:
        return DIAGNOSTICS[field].label
    base = field
    if label and "_" in field and field.rsplit("_", 1)[1] in UNITS:
        base = field.rsplit("_", 1)[0]
    words = base.split("_")
    qualifiers: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in ("storage", "tariff") and nxt.isdigit():
            qualifiers.append(f"{word} {nxt}")
            i += 2
            continue
        if word == "at" and nxt == "phase" and i + 2 < len(words) and words[i + 2].isdigit():
            qualifiers.append(f"phase {words[i + 2]}")
            i += 3
            continue
        if word == "mfct" and nxt:
            qualifiers.append(f"manufacturer-specific {nxt}")
            i += 2
            continue
        if word == "at" and nxt == "error":
            qualifiers.append("at error")
            i += 2
            continue
        subunit = re.fullmatch(r"subunit(\d+)", word)
        if subunit:
            qualifiers.append(f"subunit {subunit.group(1)}")
            i += 1
            continue
        out.append(word)
        i += 1
    billing = bool(out) and out[0] == "target"
    number = ""
    if billing:
        out = out[1:]
        if out and out[0] in ("date", "datetime"):  # target_date_2 -> Billing date 2
            out, billing = ["billing", "date", *out[1:]], False
        elif out and out[0].isdigit():
            number = out.pop(0)
    if out and out[0] == "temp" and len(out) > 1:  # temp_room -> room temperature
        out = [*out[1:], "temperature"]
    out = [_WORDS.get(w, w) for w in out]
    label_words = set(label.lower().split())
    generic = all(w in _GENERIC_WORDS or w.isdigit() for w in out)
    if label and (not out or generic) and not label_words & set(out):
        out.append(label)
    if billing:
        out.append(f"at billing date {number}".strip())
    text = " ".join(_UPPER.get(w, w) for w in out) or label or field
    if qualifiers:
        text += f" ({', '.join(qualifiers)})"
    return text[0].upper() + text[1:]


# --- entities ------------------------------------------------------------------------------------------


def _guarded(field: str, body: str, otherwise: str = "") -> str:
    """A template that renders ``body`` when the telegram has the field, else ``otherwise``."""
    head = f"{{% if value_json is mapping and {field!r} in value_json %}}"
    tail = f"{{% else %}}{otherwise}{{% endif %}}" if otherwise else "{% endif %}"
    return head + body + tail


# What a sensor whose field a telegram lacks renders: its own state. Home Assistant then keeps the value
# without a warning ('None' makes a date or time sensor unknown where it has no valid state yet).
_KEEP_TEXT = "{{ this.state }}"
_KEEP_TIME = "{{ this.state if this.state not in ('unknown', 'unavailable') else 'None' }}"


def number_template(field: str, scale: float | None = None) -> str:
    """The field's number; nothing (Home Assistant keeps the value) when the telegram lacks it."""
    value = f"value_json[{field!r}]"
    if scale is None:
        return _guarded(field, "{{ " + value + " }}")
    body = f"{{{{ ({value} * {scale!r}) | round(6) if {value} is number else {value} }}}}"
    return _guarded(field, body)


def text_template(field: str) -> str:
    return _guarded(field, f"{{{{ value_json[{field!r}] }}}}", _KEEP_TEXT)


def time_template(field: str, local: bool) -> str:
    """A date or time for a ``date``/``timestamp`` sensor. ``local``: a wall-clock time without a zone
    (the meter's clock), given Home Assistant's time zone; else the value is passed on as it is."""
    value = f"value_json[{field!r}]"
    shown = f"as_datetime({value}).replace(tzinfo=now().tzinfo).isoformat()" if local else value
    body = f"{{% if {value} is string and {value} %}}{{{{ {shown} }}}}{{% else %}}{_KEEP_TIME}{{% endif %}}"
    return _guarded(field, body, _KEEP_TIME)


def problem_template(field: str) -> str:
    value = f"value_json[{field!r}]"
    return _guarded(field, f"{{{{ 'OFF' if {value} in ('OK', '', none) else 'ON' }}}}")


@dataclass
class Entity:
    """One discovery config: which component, under which topic object id, reading which field."""

    component: str  # "sensor" or "binary_sensor"
    key: str  # object id in the topic and the unique id (the field name, or "problem")
    field: str  # the telegram field it shows
    config: dict


def _numeric(field: str, info: UnitInfo, spec, media: str) -> dict:
    when = history(field, spec)
    config: dict[str, object] = {"name": spec.title if spec is not None and spec.title else None}
    unit = info.unit
    scale = None
    device_class = None
    if info.device_classes and "difference" not in field:  # a temperature difference is not converted
        device_class = info.device_classes[-1]
        for candidate in info.device_classes[:-1]:
            if candidate in media:
                device_class = candidate
                break
    if device_class == "gas" and unit == "L":  # Home Assistant's gas class takes m³, not litres
        unit, scale = "m³", 0.001
    if spec is not None and spec.device_class:
        device_class = spec.device_class
    state_class = None
    if when is None:
        total = info.kind == TOTAL or (device_class == "duration" and _OPERATING_TIME.search(field))
        state_class = "total_increasing" if total else "measurement"
    if spec is not None and spec.state_class:
        state_class = spec.state_class
    if unit:
        config["unit_of_measurement"] = unit
    if device_class:
        config["device_class"] = device_class
    if state_class:
        config["state_class"] = state_class
    precision = UNITS["m3"].precision if scale else info.precision
    if precision is not None:
        config["suggested_display_precision"] = precision
    config["value_template"] = number_template(field, scale)
    diagnostic = field in DIAGNOSTICS or info.diagnostic or bool(_DIAGNOSTIC_NAMES.search(field))
    if diagnostic or (spec is not None and spec.diagnostic):
        config["entity_category"] = "diagnostic"
    if when == "past" or _OBSCURE.search(field):
        config["enabled_by_default"] = False
    return config


def _time(field: str, value: str, spec) -> dict | None:
    if field == "timestamp":
        if not _UTC_TIME.match(value):
            return None
        device_class, template = "timestamp", time_template(field, local=False)
    elif _DATE.match(value):
        device_class, template = "date", time_template(field, local=False)
    elif _DATETIME.match(value):
        device_class, template = "timestamp", time_template(field, local=True)
    else:
        return None
    config: dict[str, object] = {
        "name": spec.title if spec is not None and spec.title else None,
        "device_class": device_class,
        "value_template": template,
        "entity_category": "diagnostic",
    }
    if history(field, spec) == "past":
        config["enabled_by_default"] = False
    return config


def _text(field: str, spec, status: str | None, status_fields: tuple[str, ...]) -> dict:
    config: dict[str, object] = {
        "name": spec.title if spec is not None and spec.title else None,
        "value_template": text_template(field),
    }
    if field in status_fields or history(field, spec) == "past":
        # Words that only feed the status word (which has its own sensor), or words from the past.
        config["entity_category"] = "diagnostic"
        config["enabled_by_default"] = False
    elif field == "status" and status != "status":
        # A driver prints its status word elsewhere because `status` is the meter's own state (a door's
        # OPEN/CLOSED): that is a main entity.
        pass
    elif spec is None or spec.from_hook or spec.diagnostic or spec.lookup:
        config["entity_category"] = "diagnostic"
    return config


def _is_firmware(field: str, spec) -> bool:
    if field in FIRMWARE_FIELDS:
        return True
    quantities = spec.match.quantities if spec is not None and spec.match is not None else None
    return bool(quantities and FIRMWARE_QUANTITIES & set(quantities))


def entities(obj: dict) -> list[Entity]:
    """Every entity a decoded telegram's fields make (none for errors and id-less objects)."""
    if "error" in obj or not obj.get("id"):
        return []
    driver = _driver(obj)
    media = f"{obj.get('media') or ''} {driver.meter_type if driver is not None else ''}".lower()
    status = _status_field(driver)
    status_fields = driver.status.fields if driver is not None else ()
    found: list[Entity] = []
    for field, value in obj.items():
        if not _FIELD_NAME.match(field) or field in NOT_READINGS:
            continue
        spec = field_spec(driver, field)
        if (spec is not None and spec.hidden) or _is_firmware(field, spec):
            continue
        config: dict | None = None
        label = ""
        if field == status and isinstance(value, str):
            config = {"name": None, "value_template": text_template(field), "entity_category": "diagnostic"}
            problem = {
                "name": "Problem",
                "device_class": "problem",
                "value_template": problem_template(field),
            }
            found.append(Entity("binary_sensor", "problem", field, problem))
        elif _is_number(value):
            info = unit_info(field)
            if info is not None:
                config, label = _numeric(field, info, spec, media), info.label
            elif field == "error_flags":
                config = _text(field, spec, status, status_fields)
        elif isinstance(value, str):
            config = _time(field, value, spec)
            named = (spec is None or spec.from_hook) and _WORD_FIELDS.search(field)
            if config is None and (named or (spec is not None and spec.lookup)):
                config = _text(field, spec, status, status_fields)
        if config is not None:
            if config.get("name") is None:
                config["name"] = entity_name(field, label)
            found.append(Entity("sensor", field, field, config))
    return found


def _messages(obj: dict, prefix: str, discovery_prefix: str, device: dict | None = None) -> list[tuple]:
    """(topic, config, field read) for every entity of a decoded telegram."""
    found = entities(obj)
    if not found:
        return []
    meter_id = str(obj["id"])
    node = _topic_part(f"wmbus_{meter_id}")
    device = device if device is not None else device_block(obj)
    messages = []
    for entity in found:
        object_id = f"wmbus_{meter_id}_{entity.key}".lower()
        settings = dict(entity.config)
        config = {
            "name": settings.pop("name"),
            "unique_id": f"wmbus_{meter_id}_{entity.key}",
            # A stable entity id (sensor.wmbus_<id>_<field>) whatever the device and entity are called:
            # object_id for Home Assistant up to 2025.9, default_entity_id from 2025.10.
            "object_id": object_id,
            "default_entity_id": f"{entity.component}.{object_id}",
            "state_topic": f"{prefix}/meter/{meter_id}",
            **settings,
            "qos": 1,
            "device": device,
            "origin": {"name": "sdr-wmbus", "sw_version": __version__},
        }
        topic = f"{discovery_prefix}/{entity.component}/{node}/{_topic_part(entity.key)}/config"
        messages.append((topic, config, entity.field))
    return messages


def discovery_messages(
    obj: dict, prefix: str, discovery_prefix: str = "homeassistant"
) -> list[tuple[str, dict]]:
    """(topic, config) for every entity of a decoded telegram; empty for errors and id-less objects."""
    return [(topic, config) for topic, config, _ in _messages(obj, prefix, discovery_prefix)]


def _value_kind(value: object) -> str:
    """What a field's value is, as far as the entity it makes is concerned (a field is looked at again
    when this changes: a null that becomes a number, an empty text that becomes a date)."""
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        if _DATE.match(value) or _DATETIME.match(value) or _UTC_TIME.match(value):
            return "time"
        return "text" if value else "empty"
    return type(value).__name__


class DiscoveryTracker:
    """Remembers which fields of which meter were announced, so configs go out once per new entity, and
    all of a meter's configs again when its device changes (a firmware version that a later frame brings).
    ``wanted(meter_id)`` says which meters are announced at all (every meter when None).

    Not thread-safe: the MQTT output calls it under its own lock.
    """

    def __init__(
        self,
        prefix: str = "wmbus",
        discovery_prefix: str = "homeassistant",
        wanted: Callable[[str], bool] | None = None,
    ) -> None:
        self.prefix = prefix
        self.discovery_prefix = discovery_prefix
        self.wanted = wanted
        self._seen: dict[str, set[tuple[str, str]]] = {}  # meter id -> (field, value kind) looked at
        self._devices: dict[str, dict] = {}  # meter id -> device block announced

    def announces(self, meter_id: object) -> bool:
        """Whether this meter gets discovery configs."""
        return self.wanted is None or self.wanted(str(meter_id))

    def new_messages(self, obj: dict) -> list[tuple[str, dict]]:
        """Configs for the entities of this telegram not announced before (all of them for a new meter,
        or when the meter's device changed)."""
        if "error" in obj or not obj.get("id") or not self.announces(obj["id"]):
            return []
        meter_id = str(obj["id"])
        seen = self._seen.setdefault(meter_id, set())
        fresh = {(field, _value_kind(value)) for field, value in obj.items()} - seen
        old = self._devices.get(meter_id)
        device = device_block(obj)
        if old is not None:  # a telegram without the firmware field does not take the version away
            device = {**{k: v for k, v in old.items() if k in ("sw_version", "hw_version")}, **device}
        changed = old is not None and device != old
        if not fresh and not changed:
            return []
        seen.update(fresh)
        messages = _messages(obj, self.prefix, self.discovery_prefix, device)
        self._devices[meter_id] = device
        new_fields = {field for field, _ in fresh}
        return [(topic, config) for topic, config, field in messages if changed or field in new_fields]

    def forget(self, meter_id: str) -> None:
        """Announce this meter again on its next telegram (its configs may not have reached the broker)."""
        self._seen.pop(str(meter_id), None)
        self._devices.pop(str(meter_id), None)

    def reset(self) -> None:
        """Announce every meter again (e.g. after reconnecting to a broker that may have lost them)."""
        self._seen.clear()
        self._devices.clear()
