"""Home Assistant discovery configs for realistic decoded telegrams (water, heat, HCA, gas)."""

from __future__ import annotations

import pytest

from sdr_wmbus.outputs.homeassistant import UNITS, DiscoveryTracker, discovery_messages

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
    "name": "kitchen cold water",
    "mode": "C1",
    "rssi_dbfs": -8.7,
    "snr_db": 12.6,
    "freq_offset_hz": 3580.5,
    "sample": 52484,
    "timestamp": "2026-11-21T21:17:29Z",
    "time_s": 0.0328,
}

HEAT = {
    "id": "67452301",
    "manufacturer": "KAM",
    "manufacturer_name": "Kamstrup",
    "version": "0x34",
    "device_type": "0x04",
    "media": "heat",
    "meter": "generic",
    "access_number": 3,
    "total_energy_consumption_kwh": 1234.5,
    "target_energy_kwh": 1100.0,
    "total_m3": 56.78,
    "volume_flow_m3h": 0.153,
    "current_power_consumption_kw": 2.1,
    "flow_temperature_c": 55.2,
    "return_temperature_c": 31.7,
    "flow_return_temperature_difference_c": 23.5,
    "operating_time_h": 20134,
    "meter_datetime": "2026-11-21 22:17",
    "target_date": "2026-01-01",
    "error_flags": 0,
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
}

GAS = {
    "id": "99657098",
    "manufacturer": "DME",
    "manufacturer_name": "Diehl Metering",
    "version": "0x30",
    "device_type": "0x03",
    "media": "gas",
    "meter": "generic",
    "access_number": 6,
    "security_mode": 5,
    "total_m3": 6842.784,
    "volume_flow_m3h": 0,
    "flow_temperature_c": 15.9,
    "total_storage_3_m3": 6260.324,
    "meter_datetime_storage_3": "2022-12-31 23:59",
    "ok": True,
}


def by_field(obj: dict, prefix: str = "wmbus") -> dict[str, dict]:
    configs = {}
    for topic, config in discovery_messages(obj, prefix):
        parts = topic.split("/")
        assert parts[:3] == ["homeassistant", "sensor", f"wmbus_{obj['id']}"] and parts[4] == "config"
        configs[parts[3]] = config
    return configs


@pytest.mark.parametrize("obj", [WATER, HEAT, HCA, GAS], ids=["water", "heat", "hca", "gas"])
def test_every_config_is_complete_and_points_at_its_field(obj: dict) -> None:
    configs = by_field(obj)
    assert configs
    ids = [c["unique_id"] for c in configs.values()]
    assert len(ids) == len(set(ids))
    for field, config in configs.items():
        assert field in obj and isinstance(obj[field], (int, float)) and not isinstance(obj[field], bool)
        assert config["unique_id"] == f"wmbus_{obj['id']}_{field}"
        assert config["state_topic"] == f"wmbus/meter/{obj['id']}"
        assert config["value_template"] == "{{ value_json." + field + " }}"
        assert config["name"] and config["name"][0].isupper()
        assert config["device"]["identifiers"] == [f"wmbus_{obj['id']}"]
        assert config["device"]["serial_number"] == obj["id"]
        assert config["device"]["manufacturer"] == obj["manufacturer_name"]
        if config.get("device_class") in ("energy", "water", "gas", "volume"):
            assert config.get("state_class") in (None, "total", "total_increasing")


def test_water_meter() -> None:
    configs = by_field(WATER)
    # Header and radio fields are not readings; RSSI and SNR are diagnostics.
    assert set(configs) == {
        "total_m3",
        "target_m3",
        "min_flow_temperature_storage_1_c",
        "rssi_dbfs",
        "snr_db",
    }
    total = configs["total_m3"]
    assert total["name"] == "Total volume"
    assert (total["unit_of_measurement"], total["device_class"], total["state_class"]) == (
        "m³",
        "water",
        "total_increasing",
    )
    assert "state_class" not in configs["target_m3"]  # the billing-date value is history
    assert "state_class" not in configs["min_flow_temperature_storage_1_c"]
    assert configs["min_flow_temperature_storage_1_c"]["device_class"] == "temperature"
    rssi = configs["rssi_dbfs"]
    assert rssi["entity_category"] == "diagnostic" and rssi["unit_of_measurement"] == "dBFS"
    assert "device_class" not in rssi  # dBFS is not dBm
    assert total["device"]["name"] == "kitchen cold water"
    assert total["device"]["model"] == "generic cold water"


def test_heat_meter() -> None:
    configs = by_field(HEAT)
    energy = configs["total_energy_consumption_kwh"]
    assert energy["name"] == "Total energy consumption"
    assert (energy["unit_of_measurement"], energy["device_class"], energy["state_class"]) == (
        "kWh",
        "energy",
        "total_increasing",
    )
    assert "state_class" not in configs["target_energy_kwh"]
    assert configs["total_m3"]["device_class"] == "volume"  # the water through a heat meter is not "water"
    flow = configs["flow_temperature_c"]
    assert (flow["unit_of_measurement"], flow["device_class"], flow["state_class"]) == (
        "°C",
        "temperature",
        "measurement",
    )
    assert (
        "device_class" not in configs["flow_return_temperature_difference_c"]
    )  # no °F conversion of a delta
    assert configs["volume_flow_m3h"]["device_class"] == "volume_flow_rate"
    assert configs["volume_flow_m3h"]["unit_of_measurement"] == "m³/h"
    power = configs["current_power_consumption_kw"]
    assert (power["unit_of_measurement"], power["device_class"], power["state_class"]) == (
        "kW",
        "power",
        "measurement",
    )
    assert configs["operating_time_h"]["device_class"] == "duration"
    assert "error_flags" not in configs and "access_number" not in configs
    assert configs["total_m3"]["device"]["name"] == "KAM heat 67452301"  # no name from a meters file


def test_heat_cost_allocator() -> None:
    configs = by_field(HCA)
    assert set(configs) == {
        "current_consumption_hca",
        "consumption_at_set_date_hca",
        "temp_room_c",
        "temp_radiator_c",
    }
    current = configs["current_consumption_hca"]
    assert current["unit_of_measurement"] == "HCA" and "device_class" not in current
    assert current["state_class"] == "total_increasing"  # resets at the set date: HA handles that
    assert "state_class" not in configs["consumption_at_set_date_hca"]
    assert configs["temp_room_c"]["state_class"] == "measurement"


def test_gas_meter() -> None:
    configs = by_field(GAS)
    total = configs["total_m3"]
    assert (total["device_class"], total["state_class"]) == ("gas", "total_increasing")
    assert configs["total_storage_3_m3"]["device_class"] == "gas"
    assert "state_class" not in configs["total_storage_3_m3"]
    assert "ok" not in configs and "security_mode" not in configs  # booleans and header fields


def test_prefixes_and_errors() -> None:
    configs = discovery_messages(WATER, "home/wmbus", discovery_prefix="ha")
    assert all(t.startswith("ha/sensor/wmbus_76348799/") for t, _ in configs)
    assert all(c["state_topic"] == "home/wmbus/meter/76348799" for _, c in configs)
    assert discovery_messages({"id": "1", "error": "no key", "total_m3": 1.0}, "wmbus") == []
    assert discovery_messages({"total_m3": 1.0}, "wmbus") == []


def test_units_table_is_consistent() -> None:
    for suffix, info in UNITS.items():
        assert suffix == suffix.lower() and info.kind in ("total", "measurement") and info.label


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


def test_the_driver_gives_name_classes_and_diagnostics(monkeypatch) -> None:
    import sdr_wmbus.drivers as drivers
    from sdr_wmbus.drivers.spec import parse_driver

    spec = parse_driver(
        """
name = "mymeter"
title = "My Meter 3000"
meter_type = "heat"
detect = [{ manufacturer = "ZZZ" }]
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
""",
        "mymeter.toml",
    )
    monkeypatch.setattr(drivers, "_REGISTRY", drivers.DriverRegistry([spec]))
    obj = {
        "id": "12345678",
        "meter": "mymeter",
        "media": "heat",
        "total_heat_kwh": 12.5,
        "battery_time_d": 900,
    }
    configs = by_field(obj)
    assert configs["total_heat_kwh"]["name"] == "Heat delivered"
    assert configs["total_heat_kwh"]["device"]["model"] == "My Meter 3000"
    assert configs["battery_time_d"]["entity_category"] == "diagnostic"
    assert configs["battery_time_d"]["state_class"] == "measurement"
