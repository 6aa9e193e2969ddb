"""VIF / VIFE tables: spot checks per table and whole-table consistency."""

from __future__ import annotations

import re

import pytest

from sdr_wmbus.app import vif_tables as vt
from sdr_wmbus.app.vif_tables import VifInfo

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
KNOWN_UNITS = {
    "", "Wh", "J", "m3", "kg", "s", "min", "h", "d", "month", "y", "W", "J/h", "m3/h", "m3/min",
    "m3/s", "kg/h", "C", "K", "bar", "V", "A", "Hz", "%RH", "kVARh", "kVAh", "kVAR", "kVA", "dBm",
    "MCal", "ft3", "deg", "currency", "Bd", "bittimes",
}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0x00, VifInfo("energy", "Wh", -3)),
        (0x04, VifInfo("energy", "Wh", 1)),  # raw 123 -> 1230 Wh
        (0x07, VifInfo("energy", "Wh", 4)),
        (0x0E, VifInfo("energy", "J", 6)),
        (0x13, VifInfo("volume", "m3", -3)),
        (0x16, VifInfo("volume", "m3", 0)),
        (0x1B, VifInfo("mass", "kg", 0)),
        (0x22, VifInfo("on_time", "h", 0)),
        (0x27, VifInfo("operating_time", "d", 0)),
        (0x2B, VifInfo("power", "W", 0)),
        (0x33, VifInfo("power", "J/h", 3)),
        (0x3B, VifInfo("volume_flow", "m3/h", -3)),
        (0x46, VifInfo("volume_flow", "m3/min", -1)),
        (0x4F, VifInfo("volume_flow", "m3/s", -2)),
        (0x53, VifInfo("mass_flow", "kg/h", 0)),
        (0x5A, VifInfo("flow_temperature", "C", -1)),
        (0x5F, VifInfo("return_temperature", "C", 0)),
        (0x61, VifInfo("temperature_difference", "K", -2)),
        (0x65, VifInfo("external_temperature", "C", -2)),
        (0x69, VifInfo("pressure", "bar", -2)),
        (0x6C, VifInfo("date", kind="datetime")),
        (0x6D, VifInfo("datetime", kind="datetime")),
        (0x6E, VifInfo("hca")),
        (0x71, VifInfo("averaging_duration", "min")),
        (0x74, VifInfo("actuality_duration", "s")),
        (0x78, VifInfo("fabrication_number", kind="unsigned")),
        (0x79, VifInfo("enhanced_identification", kind="unsigned")),
        (0x7A, VifInfo("bus_address", kind="unsigned")),
    ],
)
def test_primary(code: int, expected: VifInfo) -> None:
    assert vt.lookup_primary(code) == expected
    assert vt.lookup_primary(code | 0x80) == expected  # E bit does not change the meaning


@pytest.mark.parametrize(
    ("code", "quantity", "unit", "exponent", "kind"),
    [
        (0x08, "access_number", "", 0, "unsigned"),
        (0x09, "medium", "", 0, "unsigned"),
        (0x0E, "firmware_version", "", 0, "unsigned"),
        (0x17, "error_flags", "", 0, "bits"),
        (0x1B, "digital_input", "", 0, "bits"),
        (0x28, "storage_interval", "month", 0, "number"),
        (0x3A, "dimensionless", "", 0, "number"),
        (0x3C, "transmission_period", "s", 0, "number"),
        (0x46, "voltage", "V", -3, "number"),
        (0x49, "voltage", "V", 0, "number"),
        (0x59, "current", "A", -3, "number"),
        (0x5B, "current", "A", -1, "number"),
        (0x60, "reset_counter", "", 0, "unsigned"),
        (0x61, "cumulation_counter", "", 0, "unsigned"),
        (0x6E, "operating_time_battery", "month", 0, "number"),
        (0x71, "rf_level", "dBm", 0, "number"),
        (0x74, "remaining_battery_lifetime", "d", 0, "number"),
    ],
)
def test_fd(code: int, quantity: str, unit: str, exponent: int, kind: str) -> None:
    info = vt.lookup_fd(code)
    assert (info.quantity, info.unit, info.exponent, info.kind) == (quantity, unit, exponent, kind)


@pytest.mark.parametrize(
    ("code", "quantity", "unit", "exponent"),
    [
        (0x00, "energy", "Wh", 5),  # 0.1 MWh
        (0x01, "energy", "Wh", 6),  # 1 MWh
        (0x02, "reactive_energy", "kVARh", 0),
        (0x05, "apparent_energy", "kVAh", 1),
        (0x08, "energy", "J", 8),  # 0.1 GJ
        (0x09, "energy", "J", 9),
        (0x0D, "energy", "MCal", 0),
        (0x10, "volume", "m3", 2),
        (0x18, "mass", "kg", 5),  # 100 t
        (0x1A, "relative_humidity", "%RH", -1),
        (0x1B, "relative_humidity", "%RH", 0),
        (0x20, "volume", "ft3", 0),
        (0x21, "volume", "ft3", -1),
        (0x29, "power", "W", 6),  # 1 MW
        (0x2D, "frequency", "Hz", -2),
        (0x31, "power", "J/h", 9),  # 1 GJ/h
        (0x74, "temperature_limit", "C", -3),
    ],
)
def test_fb(code: int, quantity: str, unit: str, exponent: int) -> None:
    info = vt.lookup_fb(code)
    assert (info.quantity, info.unit, info.exponent) == (quantity, unit, exponent)


def test_hca_rating_factor_is_binary_scaled() -> None:
    assert vt.lookup_fb(0x68) == VifInfo("hca_rating_factor", "", 0, "number", -12)


def test_reserved_codes() -> None:
    assert vt.lookup_primary(0x6F).quantity == "reserved"
    assert vt.lookup_fd(0x7F).quantity == "reserved"
    assert vt.lookup_fb(0x06).quantity == "reserved"


@pytest.mark.parametrize(
    ("code", "modifier", "exponent", "unit", "kind"),
    [
        (0x00, "error_none", 0, None, None),
        (0x15, "error_no_data_available", 0, None, None),
        (0x18, "error_data_error", 0, None, None),
        (0x12, "average_value", 0, None, None),
        (0x22, "per_hour", 0, None, None),
        (0x2D, "per_m3", 0, None, None),
        (0x39, "start_date_of", 0, None, "datetime"),
        (0x3B, "forward", 0, None, None),
        (0x3C, "backward", 0, None, None),
        (0x3E, "base_conditions", 0, None, None),
        (0x40, "lower_limit", 0, None, None),
        (0x49, "upper_limit_exceed_count", 0, None, None),
        (0x4F, "date_of_end_of_last_upper_limit_exceed", 0, None, "datetime"),
        (0x52, "duration_of_first_lower_limit_exceed", 0, "h", None),
        (0x67, "duration_of_last", 0, "d", None),
        (0x70, "multiplicative_correction", -6, None, None),
        (0x75, "multiplicative_correction", -1, None, None),
        (0x7D, "multiplicative_correction", 3, None, None),
        (0x7B, "additive_correction_constant", 0, None, None),
        (0x7E, "future_value", 0, None, None),
        (0x7F, "manufacturer_specific_vife", 0, None, None),
    ],
)
def test_combinable(code: int, modifier: str, exponent: int, unit: str | None, kind: str | None) -> None:
    info = vt.lookup_combinable(code | 0x80)
    assert (info.modifier, info.exponent, info.unit, info.kind) == (modifier, exponent, unit, kind)


def test_combinable_extension() -> None:
    assert vt.lookup_combinable_extension(0x01) == "phase_l1"
    assert vt.lookup_combinable_extension(0x82) == "phase_l2"
    assert vt.lookup_combinable_extension(0x03) == "phase_l3"
    assert vt.lookup_combinable_extension(0x05) == "phase_l1_l2"
    assert vt.lookup_combinable_extension(0x3F) == "combinable_extension_3f"


def test_tables_are_complete_and_well_named() -> None:
    structural = {0x7B, 0x7C, 0x7D, 0x7F}
    assert set(vt.PRIMARY_VIF) == set(range(0x80)) - structural
    assert set(vt.COMBINABLE_VIFE) == set(range(0x80))
    for table in (vt.PRIMARY_VIF, vt.FD_VIF, vt.FB_VIF):
        for info in table.values():
            assert SNAKE.match(info.quantity), info
            assert info.unit in KNOWN_UNITS, info
            assert info.kind in {"number", "unsigned", "bits", "datetime"}, info
    for vife in vt.COMBINABLE_VIFE.values():
        assert SNAKE.match(vife.modifier), vife
    for name in vt.COMBINABLE_EXTENSION.values():
        assert SNAKE.match(name)
