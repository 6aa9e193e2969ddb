"""A stand-in for Home Assistant's MQTT integration: discovery, the entity registry and sensor states.

It does with a real broker what Home Assistant (Core 2024.3 and later) does, as far as these tests need:

* subscribes to ``<discovery prefix>/#``; a config creates an entity (its id from ``object_id``, as
  Home Assistant before 2025.10 does, or from the device and entity names), a retained empty config
  removes it (and its device once it has no entities left), a changed config updates it;
* validates a config the way Home Assistant's schemas do where it matters here: unknown top-level keys
  are dropped, unknown device keys make the config invalid, dates and timestamps take no unit or state
  class, units and state classes must suit the device class (warnings otherwise);
* subscribes to an entity's state topic ``subscribe_delay`` seconds after its config (Home Assistant
  needed about 270 ms), so a reading published right after its config is missed unless it is retained;
  like Home Assistant it gives a retained message to each new subscriber of a topic once;
* renders ``value_template`` in a Jinja sandbox with ``value``, ``value_json``, ``this``, ``now()`` and
  ``as_datetime``, and an undefined that logs "Template variable warning" as Home Assistant's does;
* turns the result into a state as the MQTT sensor and binary sensor do: an empty result keeps a numeric
  sensor's value, ``None`` makes it unknown, a number is required where a unit or state class is set,
  a timestamp needs a time zone, a date is a date.

Everything Home Assistant would log as a warning or error ends up in ``log``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import jinja2
import paho.mqtt.client as mqtt
from jinja2.sandbox import ImmutableSandboxedEnvironment

DISCOVERY_TOPIC = re.compile(
    r"^(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config$"
)
# The MQTT options Home Assistant knows for these components (others are dropped from a discovered config).
COMMON_KEYS = {
    "name", "unique_id", "object_id", "state_topic", "value_template", "device", "origin", "qos",
    "availability", "availability_topic", "availability_mode", "availability_template",
    "payload_available", "payload_not_available", "enabled_by_default", "entity_category", "icon",
    "json_attributes_topic", "json_attributes_template", "encoding", "expire_after", "force_update",
    "device_class", "entity_picture",
}  # fmt: skip
SENSOR_KEYS = COMMON_KEYS | {
    "unit_of_measurement", "state_class", "suggested_display_precision", "last_reset_value_template",
    "options",
}  # fmt: skip
BINARY_SENSOR_KEYS = COMMON_KEYS | {"payload_on", "payload_off", "off_delay"}
DEVICE_KEYS = {
    "identifiers", "connections", "manufacturer", "model", "name", "hw_version", "sw_version",
    "serial_number", "suggested_area", "via_device", "configuration_url",
}  # fmt: skip
# Units and state classes Home Assistant accepts per device class (the classes sdr-wmbus can use).
DEVICE_CLASS_UNITS: dict[str, set[str | None]] = {
    "water": {"L", "m³", "ft³", "gal", "CCF"},
    "gas": {"m³", "ft³", "CCF"},
    "volume": {"L", "mL", "m³", "ft³", "gal", "CCF", "fl. oz."},
    "energy": {"Wh", "kWh", "MWh", "MJ", "GJ"},
    "power": {"W", "kW"},
    "reactive_power": {"var"},
    "volume_flow_rate": {"m³/h", "ft³/min", "L/min", "gal/min"},
    "temperature": {"°C", "°F", "K"},
    "pressure": {"Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"},
    "voltage": {"V", "mV"},
    "current": {"A", "mA"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "humidity": {"%"},
    "duration": {"d", "h", "min", "s", "ms"},
    "signal_strength": {"dB", "dBm"},
    "carbon_dioxide": {"ppm"},
    "carbon_monoxide": {"ppm"},
    "battery": {"%"},
    "weight": {"kg", "g", "mg", "t", "lb", "oz", "st", "µg"},
    "date": {None},
    "timestamp": {None},
}
ALL_STATE_CLASSES = {"measurement", "total", "total_increasing"}
DEVICE_CLASS_STATE_CLASSES: dict[str, set[str]] = {
    "water": {"total", "total_increasing"},
    "gas": {"total", "total_increasing"},
    "volume": {"total", "total_increasing"},
    "energy": {"total", "total_increasing"},
    "duration": ALL_STATE_CLASSES,
    "date": set(),
    "timestamp": set(),
}
BINARY_SENSOR_CLASSES = {
    "problem",
    "safety",
    "smoke",
    "moisture",
    "door",
    "window",
    "opening",
    "connectivity",
}
NON_NUMERIC = {"date", "timestamp", "enum"}


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unknown"


def parse_datetime(text: str) -> dt.datetime | None:
    """Home Assistant's dt_util.parse_datetime: ISO 8601, 'T' or space, seconds optional, date alone."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


class This:
    """What ``this`` is in an MQTT template: the entity's current state."""

    def __init__(self, state: str) -> None:
        self.state = state


@dataclass
class Entity:
    component: str
    discovery_topic: str
    unique_id: str
    entity_id: str
    config: dict
    device_id: str | None
    enabled: bool
    state: str = "unknown"
    subscribed: bool = False
    retained_seen: set[str] = field(default_factory=set)  # topics whose retained message it got
    updates: int = 0  # state messages that set a state

    @property
    def numeric(self) -> bool:
        """Home Assistant expects a number when a unit, state class or display precision is set."""
        config = self.config
        if self.component != "sensor" or config.get("device_class") in NON_NUMERIC:
            return False
        return any(k in config for k in ("unit_of_measurement", "state_class", "suggested_display_precision"))


class Core:
    """Home Assistant's side without a broker: configs in, entities, states and log out."""

    def __init__(
        self,
        time_zone: str = "Europe/Berlin",
        registry: dict[str, dict] | None = None,
        object_id_key: str = "object_id",
    ) -> None:
        self.tz = ZoneInfo(time_zone)
        self.registry = registry if registry is not None else {}  # unique id -> entity id, disabled
        self.object_id_key = object_id_key  # "default_entity_id" acts like Home Assistant 2025.10+
        self.entities: dict[str, Entity] = {}  # by unique id
        self.devices: dict[str, dict] = {}  # by first identifier
        self.log: list[str] = []  # what Home Assistant would log as a warning or an error
        self.dropped_keys: set[str] = set()  # config keys this version does not know
        self._lock = threading.RLock()
        self._env = self._environment()

    def _subscribe_later(self, entity: Entity) -> None:
        entity.subscribed = True  # without a broker: subscribed at once

    def discover(self, topic: str, payload: bytes | str | dict) -> None:
        """A message on a discovery topic (a dict is sent as JSON)."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        found = DISCOVERY_TOPIC.match(topic.split("/", 1)[1])
        assert found, topic
        with self._lock:
            self._discovery(topic, found.group("component"), payload)

    def receive(self, topic: str, payload: bytes | str | dict, retain: bool = False) -> None:
        """A message on a state topic, to every subscribed entity."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        with self._lock:
            for entity in list(self.entities.values()):
                if entity.subscribed and entity.config.get("state_topic") == topic:
                    if retain:
                        if topic in entity.retained_seen:
                            continue  # Home Assistant gives a retained message to a subscription once
                        entity.retained_seen.add(topic)
                    self._state_message(entity, payload)

    # --- public -------------------------------------------------------------------------------------

    def entity(self, entity_id: str) -> Entity:
        with self._lock:
            for entity in self.entities.values():
                if entity.entity_id == entity_id:
                    return entity
        raise KeyError(f"no entity {entity_id}; have {sorted(self.entity_ids())}")

    def entity_ids(self) -> list[str]:
        with self._lock:
            return [e.entity_id for e in self.entities.values()]

    def state(self, entity_id: str) -> str:
        return self.entity(entity_id).state

    def shown(self, entity_id: str) -> str:
        """The state as the frontend shows it (display precision applied, unit appended)."""
        entity = self.entity(entity_id)
        state = entity.state
        if state in ("unknown", "unavailable") or entity.component != "sensor":
            return state
        precision = entity.config.get("suggested_display_precision")
        if precision is not None:
            state = f"{float(state):.{precision}f}"
        unit = entity.config.get("unit_of_measurement")
        return f"{state} {unit}" if unit else state

    def friendly_name(self, entity_id: str) -> str:
        entity = self.entity(entity_id)
        device = self.devices.get(entity.device_id or "", {})
        name = entity.config.get("name")
        parts = [p for p in (device.get("name"), name) if p]
        return " ".join(parts)

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                try:
                    if predicate():
                        return True
                except KeyError:
                    pass
            time.sleep(0.02)
        with self._lock:
            try:
                return predicate()
            except KeyError:
                return False

    # --- discovery ------------------------------------------------------------------------------------

    def _discovery(self, topic: str, component: str, payload: bytes) -> None:
        existing = next((e for e in self.entities.values() if e.discovery_topic == topic), None)
        if not payload:
            if existing is not None:
                self._remove(existing)
            return
        try:
            config = json.loads(payload)
        except ValueError:
            self.log.append(f"ERROR Unable to parse JSON {topic}")
            return
        config = self._validate(component, config, topic)
        if config is None:
            return
        if existing is not None:
            old_topic = existing.config.get("state_topic")
            existing.config = config
            self._merge_device(config)
            if config.get("state_topic") != old_topic:
                existing.retained_seen.clear()
                self._subscribe_later(existing)
            return
        unique_id = config.get("unique_id")
        if unique_id in self.entities:
            self.log.append(
                f"ERROR Platform mqtt does not generate unique IDs. ID {unique_id} already exists"
            )
            return
        device_id = self._merge_device(config)
        known = self.registry.get(unique_id)
        if known is None:
            object_id = config.get(self.object_id_key)
            if self.object_id_key == "default_entity_id" and object_id:
                object_id = object_id.split(".", 1)[1]
            if not object_id:
                object_id = " ".join(
                    p for p in (self.devices.get(device_id or "", {}).get("name"), config.get("name")) if p
                )
            entity_id = f"{component}.{slugify(object_id)}"
            taken = {e["entity_id"] for e in self.registry.values()}
            number = 2
            while entity_id in taken:
                entity_id = f"{component}.{slugify(object_id)}_{number}"
                number += 1
            known = {"entity_id": entity_id, "disabled": not config.get("enabled_by_default", True)}
            self.registry[unique_id] = known
        entity = Entity(
            component, topic, unique_id, known["entity_id"], config, device_id, not known["disabled"]
        )
        self.entities[unique_id] = entity
        if entity.enabled:
            self._subscribe_later(entity)

    def _validate(self, component: str, config: dict, topic: str) -> dict | None:
        keys = {"sensor": SENSOR_KEYS, "binary_sensor": BINARY_SENSOR_KEYS}.get(component)
        if keys is None:
            self.log.append(f"ERROR unsupported component {component} ({topic})")
            return None
        keys = keys | {self.object_id_key}  # default_entity_id from Home Assistant 2025.10
        self.dropped_keys |= set(config) - keys
        config = {k: v for k, v in config.items() if k in keys}
        problems = []
        if not isinstance(config.get("state_topic"), str) or not config["state_topic"]:
            problems.append("state_topic is required")
        device = config.get("device")
        if device is not None:
            if set(device) - DEVICE_KEYS:
                problems.append(f"extra keys not allowed in device: {sorted(set(device) - DEVICE_KEYS)}")
            if not device.get("identifiers") and not device.get("connections"):
                problems.append("device needs identifiers or connections")
        if config.get("entity_category") not in (None, "diagnostic", "config"):
            problems.append(f"bad entity_category {config.get('entity_category')}")
        if component == "sensor" and config.get("entity_category") == "config":
            problems.append("sensors cannot have entity_category config")
        device_class = config.get("device_class")
        if component == "binary_sensor":
            if device_class is not None and device_class not in BINARY_SENSOR_CLASSES:
                problems.append(f"unknown binary sensor device class {device_class}")
        else:
            unit = config.get("unit_of_measurement")
            state_class = config.get("state_class")
            if state_class is not None and state_class not in ALL_STATE_CLASSES:
                problems.append(f"unknown state class {state_class}")
            if device_class in ("date", "timestamp") and (unit or state_class):
                problems.append(f"a {device_class} sensor has no unit or state class")
            if device_class is not None and device_class not in DEVICE_CLASS_UNITS:
                problems.append(f"device class {device_class} not known to this stand-in")
            elif device_class is not None:
                if unit not in DEVICE_CLASS_UNITS[device_class]:
                    self.log.append(
                        f"WARNING unit {unit} is not valid for device class {device_class} ({topic})"
                    )
                allowed = DEVICE_CLASS_STATE_CLASSES.get(device_class, {"measurement"})
                if state_class is not None and state_class not in allowed:
                    self.log.append(
                        f"WARNING state class {state_class} is impossible with {device_class} ({topic})"
                    )
            precision = config.get("suggested_display_precision")
            if precision is not None and (not isinstance(precision, int) or precision < 0):
                problems.append("suggested_display_precision must be a positive integer")
        template = config.get("value_template")
        if template is not None:
            try:
                self._env.parse(template)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"invalid template: {exc}")
        if problems:
            self.log.append(f"ERROR invalid config {topic}: {'; '.join(problems)}")
            return None
        return config

    def _merge_device(self, config: dict) -> str | None:
        device = config.get("device")
        if not device:
            return None
        device_id = device["identifiers"][0]
        merged = self.devices.setdefault(device_id, {})
        merged.update({k: v for k, v in device.items() if k != "identifiers"})
        return device_id

    def _remove(self, entity: Entity) -> None:
        del self.entities[entity.unique_id]
        self.registry.pop(entity.unique_id, None)
        if entity.device_id and not any(e.device_id == entity.device_id for e in self.entities.values()):
            self.devices.pop(entity.device_id, None)

    # --- templates and states -------------------------------------------------------------------------

    def _environment(self) -> ImmutableSandboxedEnvironment:
        log = self.log

        class LoggingUndefined(jinja2.Undefined):
            """Home Assistant's undefined: rendering it logs a warning, using it an error."""

            def _warn(self) -> None:
                log.append(f"WARNING Template variable warning: {self._undefined_message}")

            def __str__(self) -> str:
                self._warn()
                return super().__str__()

            def __iter__(self):
                self._warn()
                return super().__iter__()

            def __bool__(self) -> bool:
                self._warn()
                return super().__bool__()

            def _fail_with_undefined_error(self, *args, **kwargs):
                log.append(f"ERROR Template variable error: {self._undefined_message}")
                return super()._fail_with_undefined_error(*args, **kwargs)

        env = ImmutableSandboxedEnvironment(undefined=LoggingUndefined)

        def as_datetime(value):
            return value if isinstance(value, dt.datetime) else parse_datetime(str(value))

        env.globals["now"] = lambda: dt.datetime.now(self.tz)
        env.globals["as_datetime"] = as_datetime
        env.filters["as_datetime"] = as_datetime
        return env

    def render(self, entity: Entity, payload: bytes) -> str | None:
        """The value template's result, or None when rendering failed (logged)."""
        text = payload.decode("utf-8", "replace")
        template = entity.config.get("value_template")
        if template is None:
            return text
        variables: dict[str, object] = {
            "value": text,
            "entity_id": entity.entity_id,
            "this": This(entity.state),
        }
        try:
            variables["value_json"] = json.loads(text)
        except ValueError:
            pass
        try:
            return self._env.from_string(template).render(variables).strip()
        except Exception as exc:  # noqa: BLE001 - Home Assistant logs any template error
            self.log.append(f"ERROR template error for {entity.entity_id}: {exc!r}")
            return None

    def _state_message(self, entity: Entity, payload: bytes) -> None:
        rendered = self.render(entity, payload)
        if rendered is None:
            return
        if entity.component == "binary_sensor":
            self._binary_state(entity, rendered)
        else:
            self._sensor_state(entity, rendered)

    def _set(self, entity: Entity, state: str) -> None:
        entity.state = state
        entity.updates += 1

    def _binary_state(self, entity: Entity, payload: str) -> None:
        if not payload.strip():
            return  # "Empty template output": ignored
        if payload == entity.config.get("payload_on", "ON"):
            self._set(entity, "on")
        elif payload == entity.config.get("payload_off", "OFF"):
            self._set(entity, "off")
        elif payload == "None":
            self._set(entity, "unknown")
        else:
            self.log.append(f"INFO No matching payload found for entity {entity.entity_id}: {payload!r}")

    def _sensor_state(self, entity: Entity, payload: str) -> None:
        device_class = entity.config.get("device_class")
        if payload == "None":
            self._set(entity, "unknown")
            return
        if entity.numeric:
            if payload == "":
                return  # "Ignore empty state": the value stays
            try:
                float(payload)
            except ValueError:
                self.log.append(f"ERROR sensor {entity.entity_id} has a non-numeric value {payload!r}")
                return
            self._set(entity, payload)
            return
        if device_class in ("date", "timestamp"):
            parsed = parse_datetime(payload)
            if parsed is None:
                self.log.append(f"WARNING Invalid state message {payload!r} for {entity.entity_id}")
                self._set(entity, "unknown")
                return
            if device_class == "date":
                self._set(entity, parsed.date().isoformat())
            elif parsed.tzinfo is None:
                self.log.append(f"ERROR {entity.entity_id} provides {payload!r}, which is missing timezone")
            else:
                self._set(entity, parsed.astimezone(dt.timezone.utc).isoformat(timespec="seconds"))
            return
        if len(payload) > 255:
            self.log.append(f"WARNING state of {entity.entity_id} longer than 255 characters")
            return
        self._set(entity, payload)


class HomeAssistant(Core):
    """Home Assistant's MQTT discovery against a broker; ``registry`` survives a restart (pass it on)."""

    def __init__(
        self,
        host: str,
        port: int,
        discovery_prefix: str = "homeassistant",
        subscribe_delay: float = 0.3,
        time_zone: str = "Europe/Berlin",
        registry: dict[str, dict] | None = None,
        object_id_key: str = "object_id",
    ) -> None:
        super().__init__(time_zone, registry, object_id_key)
        self.prefix = discovery_prefix
        self.subscribe_delay = subscribe_delay
        self._timers: list[threading.Timer] = []
        self._last_message = time.monotonic()  # settled() waits for a quiet spell from here on
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ha-sim-{id(self):x}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        assert self._ready.wait(5), "Home Assistant stand-in did not subscribe"

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.client.disconnect()
        self.client.loop_stop()

    def restart(self) -> HomeAssistant:
        """Stop and start again with the same entity registry (states are not kept, as for MQTT
        sensors without expire_after)."""
        self.close()
        host, port = self.client.host, self.client.port
        return HomeAssistant(
            host, port, self.prefix, self.subscribe_delay, str(self.tz), self.registry, self.object_id_key
        )

    def settled(self, quiet: float = 0.6, timeout: float = 15.0) -> None:
        """Wait until every enabled entity has subscribed and no message came for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = [e for e in self.entities.values() if e.enabled and not e.subscribed]
                last = self._last_message
            if not pending and time.monotonic() - last > quiet:
                return
            time.sleep(0.05)
        raise AssertionError("Home Assistant stand-in did not settle")

    # --- MQTT -----------------------------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason, props) -> None:
        client.subscribe(f"{self.prefix}/#", qos=1)
        client.publish(f"{self.prefix}/status", "online")  # the birth message

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._last_message = time.monotonic()
            topic = message.topic
            if topic.startswith(self.prefix + "/"):
                found = DISCOVERY_TOPIC.match(topic[len(self.prefix) + 1 :])
                if found:
                    self._discovery(topic, found.group("component"), message.payload)
                    return
            self.receive(topic, message.payload, bool(message.retain))

    def _subscribe_later(self, entity: Entity) -> None:
        def subscribe() -> None:
            with self._lock:
                if self.entities.get(entity.unique_id) is not entity:
                    return
                entity.subscribed = True
            self.client.subscribe(entity.config["state_topic"], qos=entity.config.get("qos", 0))

        timer = threading.Timer(self.subscribe_delay, subscribe)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
