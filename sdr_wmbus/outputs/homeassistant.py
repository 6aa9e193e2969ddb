"""Home Assistant MQTT discovery: one sensor config per reading field of a meter.

Readings are the top-level numeric fields whose name ends in a wmbusmeters unit suffix (``total_m3``,
``flow_temperature_c``, ...). Everything the sensor needs (unit, device class, state class) follows from
that suffix, the field name and the meter's ``media``, so the rules live in :data:`UNITS` and a few name
patterns here rather than in every driver.
"""

from __future__ import annotations

import re
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


# Unit suffix of the field name -> Home Assistant presentation. The one table to extend for new units.
UNITS: dict[str, UnitInfo] = {
    "m3": UnitInfo("m³", ("water", "gas", "volume"), TOTAL, "volume"),
    "l": UnitInfo("L", ("water", "gas", "volume"), TOTAL, "volume"),
    "kwh": UnitInfo("kWh", ("energy",), TOTAL, "energy"),
    "mwh": UnitInfo("MWh", ("energy",), TOTAL, "energy"),
    "wh": UnitInfo("Wh", ("energy",), TOTAL, "energy"),
    "gj": UnitInfo("GJ", ("energy",), TOTAL, "energy"),
    "mj": UnitInfo("MJ", ("energy",), TOTAL, "energy"),
    "kvarh": UnitInfo("kvarh", (), TOTAL, "reactive energy"),
    "kvah": UnitInfo("kVAh", (), TOTAL, "apparent energy"),
    "hca": UnitInfo("HCA", (), TOTAL, "consumption"),
    "counter": UnitInfo(None, (), TOTAL, "counter"),
    "kg": UnitInfo("kg", ("weight",), TOTAL, "mass"),
    "w": UnitInfo("W", ("power",), MEASUREMENT, "power"),
    "kw": UnitInfo("kW", ("power",), MEASUREMENT, "power"),
    "var": UnitInfo("var", ("reactive_power",), MEASUREMENT, "reactive power"),
    "kvar": UnitInfo("kvar", (), MEASUREMENT, "reactive power"),
    "m3h": UnitInfo("m³/h", ("volume_flow_rate",), MEASUREMENT, "flow"),
    "lh": UnitInfo("L/h", (), MEASUREMENT, "flow"),
    "kgh": UnitInfo("kg/h", (), MEASUREMENT, "mass flow"),
    "c": UnitInfo("°C", ("temperature",), MEASUREMENT, "temperature"),
    "f": UnitInfo("°F", ("temperature",), MEASUREMENT, "temperature"),
    "k": UnitInfo("K", (), MEASUREMENT, "temperature difference"),
    "bar": UnitInfo("bar", ("pressure",), MEASUREMENT, "pressure"),
    "pa": UnitInfo("Pa", ("pressure",), MEASUREMENT, "pressure"),
    "v": UnitInfo("V", ("voltage",), MEASUREMENT, "voltage"),
    "a": UnitInfo("A", ("current",), MEASUREMENT, "current"),
    "hz": UnitInfo("Hz", ("frequency",), MEASUREMENT, "frequency"),
    "pct": UnitInfo("%", (), MEASUREMENT, "percentage"),
    "rh": UnitInfo("%", ("humidity",), MEASUREMENT, "humidity"),
    "ppm": UnitInfo("ppm", (), MEASUREMENT, "concentration"),
    "s": UnitInfo("s", ("duration",), MEASUREMENT, "duration"),
    "min": UnitInfo("min", ("duration",), MEASUREMENT, "duration"),
    "h": UnitInfo("h", ("duration",), MEASUREMENT, "duration"),
    "d": UnitInfo("d", ("duration",), MEASUREMENT, "duration"),
    "month": UnitInfo("month", (), MEASUREMENT, "duration"),
    "y": UnitInfo("y", (), MEASUREMENT, "duration"),
}

# Radio fields worth a (diagnostic) sensor: they tell how well each meter is received. Other header and
# radio fields (sample, time_s, freq_offset_hz, chip_rate_error_ppm, access numbers) describe the receiver or
# the transmitter's clock, not the meter's reading.
DIAGNOSTICS: dict[str, UnitInfo] = {
    "rssi_dbfs": UnitInfo("dBFS", (), MEASUREMENT, "RSSI"),
    "snr_db": UnitInfo("dB", (), MEASUREMENT, "SNR"),
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

# A value from the past (billing date, storage N, last month, at error): shown, but without a state class
# so that Home Assistant's statistics do not mix it with the current value.
_HISTORICAL = re.compile(
    r"(^|_)(target|storage|previous|prev|historic|historical|delta|set_date)(_|$)"
    r"|_at_(?!phase)"
    r"|(^|_)last_(month|year|day|week|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(_|$)"
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Words that say when or which, not what: a name made only of these gets the quantity's label appended.
_GENERIC_WORDS = set(
    "total target current previous prev historic last max min storage at set date tariff delta"
    " backward forward month year jan feb mar apr may jun jul aug sep oct nov dec".split()
)


def _topic_part(text: str) -> str:
    """A string made safe for one level of a discovery topic (HA allows [a-zA-Z0-9_-])."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text) or "unknown"


def unit_info(field: str) -> UnitInfo | None:
    """Presentation of a top-level field, or None when it is not a reading."""
    if field in DIAGNOSTICS:
        return DIAGNOSTICS[field]
    if field in NOT_READINGS or field.startswith("manufacturer_specific_") or "_" not in field:
        return None
    return UNITS.get(field.rsplit("_", 1)[1])


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_reading(field: str, value: object) -> bool:
    """True for the numeric fields that get a sensor."""
    return _is_number(value) and unit_info(field) is not None


def _device_class(field: str, info: UnitInfo, media: str) -> str | None:
    if not info.device_classes:
        return None
    if "difference" in field:  # a temperature difference must not be converted like a temperature
        return None
    for candidate in info.device_classes[:-1]:
        if candidate in media:
            return candidate
    return info.device_classes[-1]


def _state_class(field: str, info: UnitInfo) -> str | None:
    if _HISTORICAL.search(field):
        return None
    if info.kind == TOTAL:
        return "total_increasing"
    return "measurement"


def _entity_name(field: str, info: UnitInfo) -> str:
    """'total_energy_consumption_kwh' -> 'Total energy consumption'; 'total_m3' -> 'Total volume'."""
    base = field.rsplit("_", 1)[0] if field not in DIAGNOSTICS else ""
    if not base:
        return info.label
    words = base.split("_")
    label_words = set(info.label.lower().split())
    generic = all(w in _GENERIC_WORDS or w.isdigit() or re.fullmatch(r"subunit\d*", w) for w in words)
    if generic and not label_words & set(words):
        words.append(info.label)
    text = " ".join(words)
    return text[0].upper() + text[1:]


def device_block(obj: dict) -> dict:
    """The Home Assistant device that groups one meter's sensors."""
    meter_id = str(obj.get("id", "unknown"))
    manufacturer = str(obj.get("manufacturer_name") or obj.get("manufacturer") or "")
    media = str(obj.get("media") or "")
    name = obj.get("name") or " ".join(p for p in (str(obj.get("manufacturer") or ""), media, meter_id) if p)
    device: dict[str, object] = {
        "identifiers": [f"wmbus_{meter_id}"],
        "name": str(name),
        "serial_number": meter_id,
    }
    if manufacturer:
        device["manufacturer"] = manufacturer
    model = " ".join(p for p in (str(obj.get("driver") or ""), media) if p)
    if model:
        device["model"] = model
    if obj.get("version"):
        device["hw_version"] = str(obj["version"])
    return device


def discovery_messages(
    obj: dict, prefix: str, discovery_prefix: str = "homeassistant"
) -> list[tuple[str, dict]]:
    """(topic, config) for every reading field of a decoded telegram; empty for errors and id-less objects."""
    if "error" in obj or not obj.get("id"):
        return []
    meter_id = str(obj["id"])
    node = _topic_part(f"wmbus_{meter_id}")
    media = str(obj.get("media") or "").lower()
    device = device_block(obj)
    state_topic = f"{prefix}/meter/{meter_id}"
    messages: list[tuple[str, dict]] = []
    for field, value in obj.items():
        info = unit_info(field)
        if info is None or not _is_number(value):
            continue
        template = f"value_json.{field}" if _IDENTIFIER.match(field) else f"value_json[{field!r}]"
        config: dict[str, object] = {
            "name": _entity_name(field, info),
            "unique_id": f"wmbus_{meter_id}_{field}",
            "state_topic": state_topic,
            "value_template": "{{ " + template + " }}",
        }
        if info.unit:
            config["unit_of_measurement"] = info.unit
        device_class = _device_class(field, info, media)
        if device_class:
            config["device_class"] = device_class
        state_class = _state_class(field, info)
        if state_class:
            config["state_class"] = state_class
        if field in DIAGNOSTICS:
            config["entity_category"] = "diagnostic"
        config["device"] = device
        config["origin"] = {"name": "sdr-wmbus", "sw_version": __version__}
        messages.append((f"{discovery_prefix}/sensor/{node}/{_topic_part(field)}/config", config))
    return messages


class DiscoveryTracker:
    """Remembers which fields of which meter were announced, so configs go out once per new field.

    Not thread-safe: the MQTT output calls it under its own lock.
    """

    def __init__(self, prefix: str = "wmbus", discovery_prefix: str = "homeassistant") -> None:
        self.prefix = prefix
        self.discovery_prefix = discovery_prefix
        self._announced: dict[str, set[str]] = {}

    def new_messages(self, obj: dict) -> list[tuple[str, dict]]:
        """Configs for the fields of this telegram not announced before (all of them for a new meter)."""
        if "error" in obj or not obj.get("id"):
            return []
        meter_id = str(obj["id"])
        known = self._announced.setdefault(meter_id, set())
        fresh = [f for f, v in obj.items() if f not in known and is_reading(f, v)]
        if not fresh:
            return []
        known.update(fresh)
        wanted = {f"wmbus_{meter_id}_{f}" for f in fresh}
        messages = discovery_messages(obj, self.prefix, self.discovery_prefix)
        return [(topic, config) for topic, config in messages if config["unique_id"] in wanted]

    def forget(self, meter_id: str) -> None:
        """Announce this meter again on its next telegram (its configs may not have reached the broker)."""
        self._announced.pop(str(meter_id), None)

    def reset(self) -> None:
        """Announce every meter again (e.g. after reconnecting to a broker that may have lost them)."""
        self._announced.clear()
