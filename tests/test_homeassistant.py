"""Home Assistant discovery: the configs for realistic telegrams, and what Home Assistant shows for them.

``ha_sim`` does with the configs what Home Assistant's MQTT integration does (schema, entity ids,
templates rendered in a Jinja sandbox with its logging undefined, the sensor's state rules). The first
part runs it without a broker; the second against a real mosquitto, subscribing to a state topic a few
hundred milliseconds after the config as Home Assistant does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("jinja2")

from ha_sim import Core, HomeAssistant  # noqa: E402
from mosquitto import Mosquitto, broker_or_skip  # noqa: E402

from sdr_wmbus.outputs.homeassistant import (  # noqa: E402
    UNITS,
    DiscoveryTracker,
    discovery_messages,
    entity_name,
)
from sdr_wmbus.outputs.mqtt import MqttOutput, parse_mqtt_url  # noqa: E402

WATER = {
    "id": "76348799",
    "manufacturer": "KAM",
    "manufacturer_name": "Kamstrup",
    "version": "0x1b",
    "device_type": "0x16",
    "media": "cold water",
    "raw": "2a44",
    "ci": ["0x8d", "0x78"],
    "security_mode": "ell_aes_ctr",
    "access_number": 17,
    "total_m3": 6.408,
    "target_m3": 6.408,
    "min_flow_temperature_storage_1_c": 127,
    "meter": "generic",
    "status": "OK",
    "name": "kitchen cold water",
    "mode": "C1",
    "rssi_dbfs": -8.7,
    "snr_db": 12.6,
    "freq_offset_hz": 3580.5,
    "sample": 52484,
    "timestamp": "2026-11-21T21:17:29Z",
    "time_s": 0.0328,
}

# The Engelmann heat meter of samples/telegrams.txt as decoded (records left out): 15 historical values.
DISTRICT_HEATING = {
    "id": "43054304",
    "manufacturer": "EFE",
    "manufacturer_name": "Engelmann",
    "version": "0x00",
    "device_type": "0x04",
    "media": "heat",
    "ci": ["0x8c", "0x90", "0x7a"],
    "access_number": 14,
    "security_mode": 7,
    "meter": "generic",
    "meter_datetime": "2025-12-08 10:58",
    "total_energy_consumption_kwh": 9341,
    "total_m3": 1348.631,
    "error_flags": 0,
    "target_date": "2024-12-31",
    "target_energy_kwh": 2853,
    **{f"total_energy_consumption_storage_{n}_kwh": 7486 for n in range(2, 31, 2)},
    "model_version": 261,
    "parameter_set": 4385,
    "status": "OK",
    "name": "district heating",
    "rssi_dbfs": -8.8,
    "snr_db": 13.9,
    "timestamp": "2026-12-01T10:46:58Z",
}

HEAT = {
    "id": "67452301",
    "manufacturer": "KAM",
    "manufacturer_name": "Kamstrup",
    "version": "0x34",
    "device_type": "0x04",
    "media": "heat",
    "meter": "generic",
    "total_energy_consumption_kwh": 1234.5,
    "target_energy_kwh": 1100.0,
    "total_m3": 56.78,
    "volume_flow_m3h": 0.153,
    "current_power_consumption_kw": 2.1,
    "flow_temperature_c": 55.2,
    "return_temperature_c": 31.7,
    "flow_return_temperature_difference_c": 23.5,
    "operating_time_h": 20134,
    "on_time_at_error_h": 12,
    "meter_datetime": "2026-07-21 22:17",
    "target_date": "2026-01-01",
    "status": "OK",
}

HCA = {
    "id": "11111234",
    "manufacturer": "TCH",
    "manufacturer_name": "Techem",
    "version": "0x94",
    "device_type": "0x80",
    "media": "heat cost allocator",
    "meter": "fhkvdataiii",
    "current_consumption_hca": 4,
    "consumption_at_set_date_hca": 45,
    "set_date": "2020-12-31",
    "temp_room_c": 22.37,
    "temp_radiator_c": 23.6,
    "status": "OK",
}

GAS = {
    "id": "99657098",
    "manufacturer": "DME",
    "manufacturer_name": "Diehl Metering",
    "version": "0x30",
    "device_type": "0x03",
    "media": "gas",
    "meter": "generic",
    "total_m3": 6842.784,
    "volume_flow_m3h": 0,
    "flow_temperature_c": 15.9,
    "total_storage_3_m3": 6260.324,
    "meter_datetime_storage_3": "2022-12-31 23:59",
    "ok": True,
    "status": "OK",
}

ELECTRICITY = {
    "id": "33221100",
    "manufacturer": "ABB",
    "manufacturer_name": "ABB",
    "version": "0x20",
    "media": "electricity",
    "meter": "generic",
    "total_energy_consumption_kwh": 5249.17,
    "manufacturer_specific_04ffa015": 0,
    "firmware_version": "B1.28.0",
    "status": "OK",
}


def configs_of(obj: dict, prefix: str = "wmbus") -> dict[str, dict]:
    """Configs by '<component>/<object id>'."""
    configs = {}
    for topic, config in discovery_messages(obj, prefix):
        parts = topic.split("/")
        assert parts[0] == "homeassistant" and parts[2] == f"wmbus_{obj['id']}" and parts[4] == "config"
        configs[f"{parts[1]}/{parts[3]}"] = config
    return configs


def home_assistant(*objs: dict, **options: object) -> Core:
    """A Home Assistant that took up these telegrams' configs and then got the telegrams."""
    ha = Core(**options)  # type: ignore[arg-type]
    for obj in objs:
        for topic, config in discovery_messages(obj, "wmbus"):
            ha.discover(topic, config)
    for obj in objs:
        ha.receive(f"wmbus/meter/{obj['id']}", obj)
    return ha


def sensor(meter: dict, field: str) -> str:
    return f"sensor.wmbus_{meter['id']}_{field}"


# --- what Home Assistant shows ---------------------------------------------------------------------------


def test_water_meter_as_home_assistant_shows_it() -> None:
    ha = home_assistant(WATER)
    assert ha.log == []
    assert ha.shown(sensor(WATER, "total_m3")) == "6.408 m³"
    assert ha.friendly_name(sensor(WATER, "total_m3")) == "kitchen cold water Total volume"
    total = ha.entity(sensor(WATER, "total_m3")).config
    assert (total["device_class"], total["state_class"], total["suggested_display_precision"]) == (
        "water",
        "total_increasing",
        3,
    )
    billing = ha.entity(sensor(WATER, "target_m3"))
    assert billing.enabled and billing.state == "6.408" and "state_class" not in billing.config
    assert billing.config["name"] == "Volume at billing date"
    history = ha.entity(sensor(WATER, "min_flow_temperature_storage_1_c"))
    assert not history.enabled and history.state == "unknown"  # disabled: never subscribed
    assert history.config["name"] == "Min flow temperature (storage 1)"
    rssi = ha.entity(sensor(WATER, "rssi_dbfs"))
    assert rssi.config["entity_category"] == "diagnostic" and ha.shown(rssi.entity_id) == "-8.7 dBFS"
    assert ha.state("binary_sensor.wmbus_76348799_problem") == "off"
    assert ha.state(sensor(WATER, "status")) == "OK"
    assert ha.state(sensor(WATER, "timestamp")) == "2026-11-21T21:17:29+00:00"  # "Last seen"
    assert "sample" not in str(ha.entity_ids()) and "freq_offset" not in str(ha.entity_ids())
    device = ha.devices["wmbus_76348799"]
    assert device["name"] == "kitchen cold water"
    assert (device["manufacturer"], device["model"], device["serial_number"]) == (
        "Kamstrup",
        "Cold water meter",  # no driver: the kind of meter, from its media
        "76348799",
    )


def test_a_heat_meter_shows_its_readings_and_hides_its_history() -> None:
    ha = home_assistant(DISTRICT_HEATING)
    assert ha.log == []
    main = sorted(
        e.config["name"]
        for e in ha.entities.values()
        if e.enabled and e.config.get("entity_category") != "diagnostic"
    )
    assert main == ["Energy at billing date", "Problem", "Total energy consumption", "Total volume"]
    history = [e for e in ha.entities.values() if "storage" in e.unique_id]
    assert len(history) == 15 and not any(e.enabled for e in history)
    assert all("state_class" not in e.config for e in history)
    assert history[0].config["name"] == "Total energy consumption (storage 2)"
    assert ha.shown(sensor(DISTRICT_HEATING, "total_energy_consumption_kwh")) == "9341 kWh"
    # The meter's clock (local time, no zone) in Home Assistant's time zone; the billing date as a date.
    meter_time = ha.entity(sensor(DISTRICT_HEATING, "meter_datetime"))
    assert meter_time.config["device_class"] == "timestamp" and meter_time.config["name"] == "Meter time"
    assert meter_time.state == "2025-12-08T09:58:00+00:00"
    assert meter_time.config["entity_category"] == "diagnostic"
    billing = ha.entity(sensor(DISTRICT_HEATING, "target_date"))
    assert (billing.config["device_class"], billing.config["name"], billing.state) == (
        "date",
        "Billing date",
        "2024-12-31",
    )
    assert ha.state(sensor(DISTRICT_HEATING, "error_flags")) == "0"
    assert "model_version" not in str(ha.entity_ids())
    assert ha.devices["wmbus_43054304"]["model"] == "Heat meter"


def test_summer_time_and_another_time_zone() -> None:
    assert home_assistant(HEAT).state(sensor(HEAT, "meter_datetime")) == "2026-07-21T20:17:00+00:00"
    ha = home_assistant(HEAT, time_zone="America/New_York")
    assert ha.state(sensor(HEAT, "meter_datetime")) == "2026-07-22T02:17:00+00:00"


def test_heat_meter_classes_and_operating_time() -> None:
    ha = home_assistant(HEAT)
    assert ha.log == []
    config = {e.unique_id.split("_", 2)[2]: e.config for e in ha.entities.values()}
    assert config["total_m3"]["device_class"] == "volume"  # the water through a heat meter is not "water"
    assert config["flow_return_temperature_difference_c"].get("device_class") is None  # no °F conversion
    assert config["volume_flow_m3h"]["device_class"] == "volume_flow_rate"
    assert (
        config["current_power_consumption_kw"]["device_class"],
        config["flow_temperature_c"]["state_class"],
    ) == (
        "power",
        "measurement",
    )
    operating = config["operating_time_h"]
    assert (operating["device_class"], operating["state_class"], operating["entity_category"]) == (
        "duration",
        "total_increasing",
        "diagnostic",
    )
    at_error = ha.entity(sensor(HEAT, "on_time_at_error_h"))
    assert not at_error.enabled and "state_class" not in at_error.config
    assert at_error.config["name"] == "On time (at error)"


def test_heat_cost_allocator() -> None:
    ha = home_assistant(HCA)
    assert ha.log == []
    current = ha.entity(sensor(HCA, "current_consumption_hca")).config
    assert current["unit_of_measurement"] == "HCA" and "device_class" not in current
    assert current["state_class"] == "total_increasing"  # resets at the set date: HA handles that
    assert current["name"] == "Current consumption"
    set_date_value = ha.entity(sensor(HCA, "consumption_at_set_date_hca"))
    assert set_date_value.enabled and "state_class" not in set_date_value.config
    assert ha.state(sensor(HCA, "set_date")) == "2020-12-31"
    assert ha.entity(sensor(HCA, "temp_room_c")).config["name"] == "Room temperature"


def test_status_sensor_and_problem() -> None:
    ha = home_assistant(WATER)
    for status, problem in (("POWER_LOW", "on"), ("OK", "off"), ("ALARM LEAK", "on"), ("", "off")):
        ha.receive("wmbus/meter/76348799", {**WATER, "status": status})
        assert (ha.state(sensor(WATER, "status")), ha.state("binary_sensor.wmbus_76348799_problem")) == (
            status,
            problem,
        )
    problem = ha.entity("binary_sensor.wmbus_76348799_problem")
    assert problem.config["device_class"] == "problem" and problem.enabled
    assert "entity_category" not in problem.config  # an alarm belongs on the dashboard
    assert ha.entity(sensor(WATER, "status")).config["entity_category"] == "diagnostic"
    assert ha.log == []


def test_firmware_is_the_device_software_version() -> None:
    ha = home_assistant(ELECTRICITY)
    assert ha.devices["wmbus_33221100"]["sw_version"] == "B1.28.0"
    assert not [e for e in ha.entity_ids() if "firmware" in e or "manufacturer_specific" in e]
    assert ha.devices["wmbus_33221100"]["name"] == "Electricity meter 33221100"  # no name in a meters file


def test_gas_is_in_cubic_metres() -> None:
    ha = home_assistant(GAS)
    total = ha.entity(sensor(GAS, "total_m3")).config
    assert (total["device_class"], total["unit_of_measurement"], total["state_class"]) == (
        "gas",
        "m³",
        "total_increasing",
    )
    assert ha.entity(sensor(GAS, "total_storage_3_m3")).config["device_class"] == "gas"
    assert "ok" not in str(ha.entity_ids())
    assert ha.log == []


def test_a_gas_meter_in_litres_is_shown_in_cubic_metres(monkeypatch) -> None:
    install_driver(
        monkeypatch,
        """
name = "litregas"
title = "Litre Gas 1"
meter_type = "gas"
detect = [{ manufacturer = "ZZZ" }]
[[field]]
name = "total"
unit = "l"
match = { vif = "volume" }
""",
    )
    meter = {"id": "12345678", "meter": "litregas", "media": "other", "total_l": 1234567, "status": "OK"}
    ha = home_assistant(meter)
    total = ha.entity(sensor(meter, "total_l"))
    assert (total.config["device_class"], total.config["unit_of_measurement"]) == ("gas", "m³")
    assert ha.shown(total.entity_id) == "1234.567 m³" and ha.log == []
    assert ha.devices["wmbus_12345678"]["model"] == "Litre Gas 1"
    assert ha.devices["wmbus_12345678"]["name"] == "Gas meter 12345678"


def test_templates_tolerate_a_telegram_without_the_field() -> None:
    """Meters that alternate frame types: a frame without a field keeps the field's value, no warning."""
    ha = home_assistant(HEAT)
    before = {e.entity_id: e.state for e in ha.entities.values()}
    short = {k: v for k, v in HEAT.items() if k in ("id", "meter", "media", "total_m3")} | {"total_m3": 57.0}
    ha.receive("wmbus/meter/67452301", short)
    assert ha.log == []
    after = {e.entity_id: e.state for e in ha.entities.values()}
    assert after.pop(sensor(HEAT, "total_m3")) == "57.0"
    before.pop(sensor(HEAT, "total_m3"))
    assert after == before
    assert after[sensor(HEAT, "meter_datetime")] == "2026-07-21T20:17:00+00:00"
    assert after[sensor(HEAT, "status")] == "OK"


def test_the_stand_in_logs_the_warning_that_a_plain_template_gives() -> None:
    """What Home Assistant logged with '{{ value_json.flow_temperature_c }}' (so the check above can fail)."""
    ha = Core()
    config = configs_of(HEAT)["sensor/flow_temperature_c"]
    ha.discover(
        "homeassistant/sensor/x/flow/config",
        {**config, "value_template": "{{ value_json.flow_temperature_c }}"},
    )
    ha.receive("wmbus/meter/67452301", {"id": "67452301", "total_m3": 1.0})
    assert ha.log == [
        "WARNING Template variable warning: 'dict object' has no attribute 'flow_temperature_c'"
    ]


def test_a_null_value_is_unknown_and_a_null_date_keeps_the_last_one() -> None:
    ha = home_assistant(HEAT)
    ha.receive("wmbus/meter/67452301", {**HEAT, "total_m3": None, "target_date": None})
    assert ha.state(sensor(HEAT, "total_m3")) == "unknown"
    assert ha.state(sensor(HEAT, "target_date")) == "2026-01-01"
    assert ha.log == []


@pytest.mark.parametrize(
    ("field", "label", "name"),
    [
        ("total_m3", "volume", "Total volume"),
        ("total_energy_consumption_storage_2_kwh", "energy", "Total energy consumption (storage 2)"),
        ("target_energy_kwh", "energy", "Energy at billing date"),
        ("target_2_m3", "volume", "Volume at billing date 2"),
        ("target_subunit1_m3", "volume", "Volume at billing date (subunit 1)"),
        (
            "current_power_consumption_mfct_01_kw",
            "power",
            "Current power consumption (manufacturer-specific 01)",
        ),
        ("voltage_at_phase_2_v", "voltage", "Voltage (phase 2)"),
        ("total_energy_consumption_tariff_1_kwh", "energy", "Total energy consumption (tariff 1)"),
        ("last_month_total_m3", "volume", "Last month total volume"),
        ("temp_radiator_c", "temperature", "Radiator temperature"),
        ("co2_ppm", "concentration", "CO₂"),
        ("meter_datetime", "", "Meter time"),
        ("target_date_2", "", "Billing date 2"),
        ("meter_date_storage_8", "", "Meter date (storage 8)"),
        ("rssi_dbfs", "RSSI", "RSSI"),
    ],
)
def test_readable_entity_names(field: str, label: str, name: str) -> None:
    assert entity_name(field, label) == name


def test_entity_ids_are_stable_and_predictable() -> None:
    ha = home_assistant(WATER)
    assert sorted(ha.entity_ids()) == sorted(
        ["binary_sensor.wmbus_76348799_problem"]
        + [sensor(WATER, f) for f in ("total_m3", "target_m3", "min_flow_temperature_storage_1_c")]
        + [sensor(WATER, f) for f in ("status", "rssi_dbfs", "snr_db", "timestamp")]
    )
    # Home Assistant 2025.10 and later take the entity id from default_entity_id: the same ids.
    newer = home_assistant(WATER, object_id_key="default_entity_id")
    assert sorted(newer.entity_ids()) == sorted(ha.entity_ids())
    renamed = home_assistant({**WATER, "name": "Wasser Küche"})
    assert sorted(renamed.entity_ids()) == sorted(ha.entity_ids())
    assert ha.dropped_keys == {"default_entity_id"}  # unknown to 2024.3, which drops it


def test_prefixes_and_errors() -> None:
    configs = discovery_messages(WATER, "home/wmbus", discovery_prefix="ha")
    assert all(
        t.startswith(("ha/sensor/wmbus_76348799/", "ha/binary_sensor/wmbus_76348799/")) for t, _ in configs
    )
    assert all(c["state_topic"] == "home/wmbus/meter/76348799" for _, c in configs)
    assert discovery_messages({"id": "1", "error": "no key", "total_m3": 1.0}, "wmbus") == []
    assert discovery_messages({"total_m3": 1.0}, "wmbus") == []


def test_units_table_suits_home_assistant() -> None:
    """Every unit's device class takes that unit and that state class in Home Assistant."""
    from ha_sim import DEVICE_CLASS_STATE_CLASSES, DEVICE_CLASS_UNITS

    from sdr_wmbus.drivers.units import DISPLAY_UNITS
    from sdr_wmbus.outputs.homeassistant import unit_info

    for suffix, unit in DISPLAY_UNITS.items():  # every unit a driver field can have makes a sensor
        info = unit_info(f"reading_{suffix}")
        assert info is not None and info.unit == (unit.ha_unit or info.unit), suffix
    for suffix, info in UNITS.items():
        assert suffix == suffix.lower() and info.kind in ("total", "measurement") and info.label
        state_class = "total_increasing" if info.kind == "total" else "measurement"
        for device_class in info.device_classes:
            if (info.unit, device_class) == ("L", "gas"):
                continue  # shown in m³ (test_a_gas_meter_in_litres_is_shown_in_cubic_metres)
            assert info.unit in DEVICE_CLASS_UNITS[device_class], (suffix, device_class)
            assert state_class in DEVICE_CLASS_STATE_CLASSES.get(device_class, {"measurement"}), suffix


def test_every_corpus_telegram_as_home_assistant_shows_it() -> None:
    """The project's corpus fixtures (every driver and security mode): valid configs, no warnings, a state
    for every enabled entity, history disabled, the driver's meter name as the model."""
    from corpus import FIXTURES, decode_case, load_cases

    from sdr_wmbus.drivers import registry
    from sdr_wmbus.outputs.homeassistant import field_spec, history

    meters = 0
    for case in load_cases(FIXTURES):
        obj = decode_case(case)
        if "error" in obj:
            continue
        meters += 1
        ha = home_assistant(obj)
        assert ha.log == [], (case["case"], ha.log)
        for entity in ha.entities.values():
            field = entity.unique_id.split("_", 2)[2]
            assert entity.entity_id == f"{entity.component}.wmbus_{obj['id']}_{field}".lower()
            if entity.enabled:
                assert entity.state != "unknown" or obj.get(field, 0) is None, (case["case"], field)
        device = ha.devices[f"wmbus_{obj['id']}"]
        driver = registry().get(obj["meter"]) if obj["meter"] != "generic" else None
        for field in obj:
            entity = ha.entities.get(f"wmbus_{obj['id']}_{field}")
            if entity is not None and history(field, field_spec(driver, field)) == "past":
                assert not entity.enabled and "state_class" not in entity.config, (case["case"], field)
        device = ha.devices[f"wmbus_{obj['id']}"]
        driver = registry().get(obj["meter"]) if obj["meter"] != "generic" else None
        for field in obj:
            entity = ha.entities.get(f"wmbus_{obj['id']}_{field}")
            if entity is not None and history(field, field_spec(driver, field)) == "past":
                assert not entity.enabled and "state_class" not in entity.config, (case["case"], field)
        assert device["model"] == (driver.title if driver is not None else device["model"])
        assert device["manufacturer"] == obj.get("manufacturer_name", obj["manufacturer"])
    assert meters >= 60


# --- drivers ---------------------------------------------------------------------------------------------


def install_driver(monkeypatch, text: str) -> None:
    import sdr_wmbus.drivers as drivers
    from sdr_wmbus.drivers.spec import parse_driver

    spec = parse_driver(text, "test.toml")
    monkeypatch.setattr(drivers, "_REGISTRY", drivers.DriverRegistry([spec]))


def test_the_driver_gives_name_classes_and_diagnostics(monkeypatch) -> None:
    install_driver(
        monkeypatch,
        """
name = "mymeter"
title = "My Meter 3000"
meter_type = "heat"
detect = [{ manufacturer = "ZZZ" }]
status = { fields = ["alarm_bits"] }
[[field]]
name = "total_heat"
unit = "kwh"
match = { vif = "energy" }
title = "Heat delivered"
[[field]]
name = "battery_time"
unit = "d"
match = { vif = "remaining_battery_lifetime" }
diagnostic = true
state_class = "measurement"
[[field]]
name = "alarm_bits"
match = { vif = "error_flags" }
lookup = { bits = 0xFF, words = { 0x01 = "LEAK" } }
[[field]]
name = "valve"
match = { dif_vif = "01FD1B" }
lookup = { index = 0x01, words = { 0x00 = "CLOSED", 0x01 = "OPEN" } }
[[field]]
name = "firmware"
match = { vif = "software_version" }
format = "readable"
""",
    )
    obj = {
        "id": "12345678",
        "meter": "mymeter",
        "media": "heat",
        "manufacturer": "ZZZ",
        "total_heat_kwh": 12.5,
        "battery_time_d": 900,
        "alarm_bits": "LEAK",
        "valve": "OPEN",
        "firmware": "1.2.3",
        "status": "LEAK",
    }
    ha = home_assistant(obj)
    assert ha.log == []
    assert ha.entity(sensor(obj, "total_heat_kwh")).config["name"] == "Heat delivered"
    battery = ha.entity(sensor(obj, "battery_time_d")).config
    assert (battery["entity_category"], battery["state_class"]) == ("diagnostic", "measurement")
    alarm = ha.entity(sensor(obj, "alarm_bits"))  # feeds the status: diagnostic, off by default
    assert alarm.config["entity_category"] == "diagnostic" and not alarm.enabled
    valve = ha.entity(sensor(obj, "valve"))  # a driver's words of its own: diagnostic, shown
    assert valve.enabled and valve.state == "OPEN" and valve.config["entity_category"] == "diagnostic"
    assert ha.state("binary_sensor.wmbus_12345678_problem") == "on"
    device = ha.devices["wmbus_12345678"]
    assert (device["model"], device["sw_version"], device["name"]) == (
        "My Meter 3000",
        "1.2.3",
        "Heat meter 12345678",
    )
    assert "firmware" not in str(ha.entity_ids())


def test_the_record_a_driver_field_takes_says_whether_it_is_history(monkeypatch) -> None:
    install_driver(
        monkeypatch,
        """
name = "hcahistory"
title = "An HCA with a monthly history"
meter_type = "hca"
detect = [{ manufacturer = "ZZZ" }]
[[field]]
name = "units"
unit = "hca"
match = { vif = "hca" }
[[field]]
name = "billed"
unit = "hca"
match = { vif = "hca", storage = 1 }
[[field]]
name = "base"
unit = "hca"
match = { vif = "hca", storage = 8 }
[[field]]
name = "month_{storage - 8}"
unit = "hca"
match = { vif = "hca", storage = [9, 40] }
[[field]]
name = "month_{storage - 8}"
match = { vif = "date", storage = [9, 40] }
format = "date"
[[field]]
name = "peak"
unit = "hca"
match = { vif = "hca", measurement = "error" }
""",
    )
    obj = {"id": "12345678", "meter": "hcahistory", "media": "heat cost allocator", "units_hca": 5}
    obj |= {"billed_hca": 40, "base_hca": 30, "month_1_hca": 20, "month_1": "2026-01-01", "month_2_hca": 10}
    obj |= {"peak_hca": 3, "status": "OK"}
    ha = home_assistant(obj)
    assert ha.log == []
    shown = {e.unique_id.split("_", 2)[2]: e for e in ha.entities.values()}
    assert shown["units_hca"].enabled and shown["units_hca"].config["state_class"] == "total_increasing"
    assert shown["billed_hca"].enabled and "state_class" not in shown["billed_hca"].config  # storage 1
    for past in ("base_hca", "month_1_hca", "month_2_hca", "month_1", "peak_hca"):
        assert not shown[past].enabled and "state_class" not in shown[past].config, past


def test_a_door_whose_status_word_is_printed_elsewhere(monkeypatch) -> None:
    install_driver(
        monkeypatch,
        """
name = "door"
title = "A door sensor"
meter_type = "door_window"
detect = [{ manufacturer = "ZZZ" }]
status = { name = "error_flags", fields = ["error_bits"] }
[[field]]
name = "status"
match = { vif = "digital_input" }
lookup = { index = 0xFFFF, words = { 0x11 = "CLOSED", 0x55 = "OPEN" } }
[[field]]
name = "error_bits"
match = { vif = "error_flags", modifiers = "any" }
lookup = { bits = 0xFFFF, unknown = "ERROR_FLAGS_{value:X}" }
hidden = true
""",
    )
    obj = {"id": "00010205", "meter": "door", "media": "reserved", "status": "OPEN", "error_flags": "OK"}
    ha = home_assistant(obj)
    door = ha.entity(sensor(obj, "status"))
    assert door.state == "OPEN" and door.enabled and "entity_category" not in door.config
    assert ha.state("binary_sensor.wmbus_00010205_problem") == "off"  # from error_flags, not OPEN
    assert ha.state(sensor(obj, "error_flags")) == "OK"
    assert ha.devices["wmbus_00010205"]["name"] == "Door/window sensor 00010205"


# --- the tracker --------------------------------------------------------------------------------------------


def test_tracker_announces_new_meters_and_new_fields_once() -> None:
    tracker = DiscoveryTracker()
    first = tracker.new_messages(WATER)
    assert len(first) == len(discovery_messages(WATER, "wmbus"))
    assert tracker.new_messages(WATER) == []
    more = tracker.new_messages({**WATER, "flow_temperature_c": 9.5})
    assert [c["unique_id"] for _, c in more] == ["wmbus_76348799_flow_temperature_c"]
    assert len(tracker.new_messages(GAS)) == len(discovery_messages(GAS, "wmbus"))
    tracker.forget("76348799")
    assert len(tracker.new_messages(WATER)) == len(first)
    assert tracker.new_messages(GAS) == []
    tracker.reset()
    assert tracker.new_messages(GAS)
    assert tracker.new_messages({"id": "1", "error": "x"}) == []


def test_tracker_announces_a_field_once_it_has_a_value() -> None:
    tracker = DiscoveryTracker()
    tracker.new_messages({**WATER, "flow_temperature_c": None, "target_date": ""})
    later = tracker.new_messages({**WATER, "flow_temperature_c": 9.5, "target_date": "2026-01-01"})
    assert sorted(c["unique_id"] for _, c in later) == [
        "wmbus_76348799_flow_temperature_c",
        "wmbus_76348799_target_date",
    ]


def test_tracker_sends_every_config_again_when_the_device_changes() -> None:
    tracker = DiscoveryTracker()
    tracker.new_messages(ELECTRICITY | {"firmware_version": None})
    again = tracker.new_messages(ELECTRICITY)  # a frame that brings the firmware version
    assert len(again) == len(discovery_messages(ELECTRICITY, "wmbus"))
    assert all(c["device"]["sw_version"] == "B1.28.0" for _, c in again)
    assert tracker.new_messages({k: v for k, v in ELECTRICITY.items() if k != "firmware_version"}) == []


def test_tracker_announces_only_the_wanted_meters() -> None:
    tracker = DiscoveryTracker(wanted=lambda meter_id: meter_id == "99657098")
    assert tracker.new_messages(WATER) == [] and not tracker.announces("76348799")
    assert tracker.new_messages(GAS) and tracker.announces("99657098")


# --- against a real broker -------------------------------------------------------------------------------

FAST = {"reconnect_delay": (0.05, 0.2), "connect_timeout": 2.0}


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    with broker_or_skip() as running:
        yield running


@pytest.fixture
def closing() -> Iterator[list]:
    made: list = []
    yield made
    for item in reversed(made):
        item.close()


def start_ha(broker: Mosquitto, closing: list, **options: object) -> HomeAssistant:
    ha = HomeAssistant(broker.host, broker.port, **options)  # type: ignore[arg-type]
    closing.append(ha)
    return ha


def output(broker: Mosquitto, closing: list, **options: object) -> MqttOutput:
    out = MqttOutput(parse_mqtt_url(broker.url()), receiver="rx1", **{**FAST, **options})  # type: ignore[arg-type]
    closing.append(out)
    assert out.wait_connected(5)
    return out


def retained_payloads(broker: Mosquitto, topic: str) -> list[bytes]:
    """What a subscriber that comes now gets on a topic filter: the retained messages."""
    import paho.mqtt.client as mqtt

    got: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: c.subscribe(topic)
    client.on_message = lambda c, u, m: got.append(m.payload) if m.retain else None
    client.connect(broker.host, broker.port)
    client.loop_start()
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    return got


def enabled_states(ha: Core, meter_id: str) -> dict[str, str]:
    return {e.entity_id: e.state for e in ha.entities.values() if e.enabled and meter_id in e.unique_id}


def test_home_assistant_shows_the_first_reading(broker: Mosquitto, closing: list) -> None:
    ha = start_ha(broker, closing, subscribe_delay=0.3)
    out = output(broker, closing)
    out.write(DISTRICT_HEATING)
    ha.settled()
    states = enabled_states(ha, "43054304")
    assert len(states) == 11 and "unknown" not in states.values(), states
    assert states[sensor(DISTRICT_HEATING, "total_energy_consumption_kwh")] == "9341"
    assert ha.log == []
    assert [json.loads(p)["id"] for p in retained_payloads(broker, "wmbus/meter/#")] == ["43054304"]


def test_without_retained_readings_the_first_one_waits_for_discovery(
    broker: Mosquitto, closing: list
) -> None:
    ha = start_ha(broker, closing, subscribe_delay=0.3)
    out = output(broker, closing, retain=False, discovery_delay=1.2)
    started = time.monotonic()
    out.write(WATER)
    assert ha.wait(lambda: ha.state(sensor(WATER, "total_m3")) == "6.408")
    assert time.monotonic() - started >= 1.2
    ha.settled()
    assert "unknown" not in enabled_states(ha, "76348799").values() and ha.log == []
    assert retained_payloads(broker, "wmbus/meter/#") == []
    out.write({**WATER, "total_m3": 6.5})  # known meter: at once
    assert ha.wait(lambda: ha.state(sensor(WATER, "total_m3")) == "6.5", timeout=1.0)


def test_a_reading_sent_right_after_its_config_is_lost_to_home_assistant(
    broker: Mosquitto, closing: list
) -> None:
    """The issue's bug, as the stand-in sees it: neither retained nor held back, the reading is missed."""
    ha = start_ha(broker, closing, subscribe_delay=0.3)
    out = output(broker, closing, retain=False, discovery_delay=0)
    out.write(WATER)
    ha.settled()
    assert set(enabled_states(ha, "76348799").values()) == {"unknown"}


def test_after_a_restart_home_assistant_shows_the_last_readings(broker: Mosquitto, closing: list) -> None:
    ha = start_ha(broker, closing)
    out = output(broker, closing)
    for meter in (WATER, DISTRICT_HEATING, GAS):
        out.write(meter)
    out.write({**WATER, "total_m3": 6.5, "status": "POWER_LOW"})
    ha.settled()
    before = {e.entity_id: e.state for e in ha.entities.values()}
    assert before[sensor(WATER, "total_m3")] == "6.5"
    assert before["binary_sensor.wmbus_76348799_problem"] == "on"
    out.close()  # sdr-wmbus stops; Home Assistant restarts later
    closing.remove(ha)
    again = ha.restart()
    closing.append(again)
    again.settled()
    assert {e.entity_id: e.state for e in again.entities.values()} == before
    assert "unknown" not in [s for e, s in before.items() if again.entity(e).enabled] and again.log == []


def test_frames_that_alternate_keep_every_value_without_warnings(broker: Mosquitto, closing: list) -> None:
    ha = start_ha(broker, closing)
    out = output(broker, closing)
    out.write(HEAT)
    ha.settled()
    short = {"id": HEAT["id"], "meter": "generic", "media": "heat", "total_m3": 57.0, "status": "OK"}
    out.write(short)
    assert ha.wait(lambda: ha.state(sensor(HEAT, "total_m3")) == "57.0")
    ha.settled()
    assert ha.state(sensor(HEAT, "flow_temperature_c")) == "55.2"
    assert ha.state(sensor(HEAT, "meter_datetime")) == "2026-07-21T20:17:00+00:00"
    assert ha.log == []


def test_a_firmware_version_that_comes_later_reaches_the_device(broker: Mosquitto, closing: list) -> None:
    ha = start_ha(broker, closing)
    out = output(broker, closing)
    out.write({k: v for k, v in ELECTRICITY.items() if k != "firmware_version"})
    ha.settled()
    assert "sw_version" not in ha.devices["wmbus_33221100"]
    out.write(ELECTRICITY)
    assert ha.wait(lambda: ha.devices["wmbus_33221100"].get("sw_version") == "B1.28.0")


def test_only_the_meters_of_the_meters_file_are_announced(broker: Mosquitto, closing: list) -> None:
    ha = start_ha(broker, closing)
    out = output(broker, closing, announce=lambda meter_id: meter_id == "76348799")
    out.write(WATER)
    out.write(GAS)  # a neighbour's meter: published, not announced, not retained
    ha.settled()
    assert {e.device_id for e in ha.entities.values()} == {"wmbus_76348799"}
    assert [json.loads(p)["id"] for p in retained_payloads(broker, "wmbus/meter/#")] == ["76348799"]


def remove_retained(broker: Mosquitto, *filters: str) -> list[str]:
    """What ``mosquitto_sub --remove-retained -t FILTER -W 1`` does: an empty retained message on every
    topic under the filters that holds a retained one (which removes it)."""
    import paho.mqtt.client as mqtt

    topics: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: c.subscribe([(f, 1) for f in filters])

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.retain and message.payload:
            topics.append(message.topic)
            c.publish(message.topic, b"", qos=1, retain=True)

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    return topics


@pytest.mark.parametrize("tool", ["paho", "mosquitto_sub"])
def test_a_retained_empty_config_removes_a_meter(broker: Mosquitto, closing: list, tool: str) -> None:
    ha = start_ha(broker, closing)
    out = output(broker, closing)
    out.write(WATER)
    out.write(GAS)
    ha.settled()
    assert "wmbus_76348799" in ha.devices
    # As the README says: remove the meter's retained configs (and its last reading) from the broker.
    filters = ("homeassistant/+/wmbus_76348799/+/config", "wmbus/meter/76348799")
    if tool == "paho":
        removed = remove_retained(broker, *filters)
        assert len(removed) == len(discovery_messages(WATER, "wmbus")) + 1
    else:
        mosquitto_sub = shutil.which("mosquitto_sub")
        if mosquitto_sub is None:
            pytest.skip("mosquitto_sub is not installed")
        command = [mosquitto_sub, "-h", broker.host, "-p", str(broker.port), "--remove-retained", "-W", "1"]
        subprocess.run([*command, "-t", filters[0], "-t", filters[1]], capture_output=True, timeout=10)
    assert ha.wait(lambda: "wmbus_76348799" not in ha.devices)
    assert not [e for e in ha.entity_ids() if "76348799" in e]
    assert ha.log == []
    closing.remove(ha)
    again = ha.restart()
    closing.append(again)
    again.settled()
    assert "wmbus_76348799" not in again.devices and "wmbus_99657098" in again.devices
