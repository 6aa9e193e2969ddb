"""EN 13757-3 value-information tables (primary VIF, 0xFD and 0xFB extensions, combinable VIFEs).

All protocol knowledge about VIF codes lives here as data, so that the record parser stays a plain
walker and a reviewer can check the tables line by line against the standard (fact sheet §6.2-6.5).

Conventions
-----------
* Every VIF code maps to a :class:`VifInfo`: ``quantity`` (snake_case), ``unit`` (plain string) and
  ``exponent`` (power of ten that turns the raw number into ``unit``).
* Units that are plain decimal multiples of another unit are folded into the base unit by adjusting the
  exponent: MWh -> Wh, GJ -> J, MW -> W, GJ/h -> J/h, t -> kg, "m3 x 10^(n+2)" -> m3.
* Units that are *not* decimal multiples keep their own name so that no inexact factor is applied:
  MCal (the standard does not say which calorie), ft3, m3/min, m3/s, and the time units of durations
  (s, min, h, d, month, y), because that is what the meter means.
* ``kind`` tells the record parser how to read integer data: ``"number"`` = signed (type B),
  ``"unsigned"`` = unsigned (type C), ``"bits"`` = bit field (type D, returned as unsigned int),
  ``"datetime"`` = date/time types chosen by data length (G=2, J=3, F=4, I=6 bytes).
"""

from __future__ import annotations

from typing import NamedTuple


class VifInfo(NamedTuple):
    """Meaning of one VIF (or extension) code."""

    quantity: str
    unit: str = ""
    exponent: int = 0
    kind: str = "number"
    binary_exponent: int = 0  # extra factor 2**binary_exponent (HCA rating factors)


class VifeInfo(NamedTuple):
    """Meaning of one combinable VIFE code and how it changes the record's value."""

    modifier: str
    exponent: int = 0  # added to the record's decimal exponent (multiplicative corrections)
    unit: str | None = None  # replaces the record's unit (durations of limit exceed)
    kind: str | None = None  # replaces how the data is read ("datetime" for "date of ...")


# Suffixes of the 2-bit "nn" duration codes (s / min / h / d) and of the h/d/month/y variants.
DURATION_UNITS: tuple[str, ...] = ("s", "min", "h", "d")
LONG_DURATION_UNITS: tuple[str, ...] = ("h", "d", "month", "y")

# --------------------------------------------------------------------------------------------------
# Row formats used below.
#   (first, last, quantity, unit, exponent_of_first[, kind])
#       a decade range: code c gets exponent exponent_of_first + (c - first)
#   (first, quantity, units_tuple[, kind])  -> see _DURATION_ROWS: one unit per consecutive code
# --------------------------------------------------------------------------------------------------

_Row = tuple  # loose alias: the rows are heterogeneous literal data

# Primary VIF table (VIF & 0x7F), EN 13757-3 Table 10 / fact sheet §6.2.
PRIMARY_DECADE_ROWS: tuple[_Row, ...] = (
    (0x00, 0x07, "energy", "Wh", -3),
    (0x08, 0x0F, "energy", "J", 0),
    (0x10, 0x17, "volume", "m3", -6),
    (0x18, 0x1F, "mass", "kg", -3),
    (0x28, 0x2F, "power", "W", -3),
    (0x30, 0x37, "power", "J/h", 0),
    (0x38, 0x3F, "volume_flow", "m3/h", -6),
    (0x40, 0x47, "volume_flow", "m3/min", -7),
    (0x48, 0x4F, "volume_flow", "m3/s", -9),
    (0x50, 0x57, "mass_flow", "kg/h", -3),
    (0x58, 0x5B, "flow_temperature", "C", -3),
    (0x5C, 0x5F, "return_temperature", "C", -3),
    (0x60, 0x63, "temperature_difference", "K", -3),
    (0x64, 0x67, "external_temperature", "C", -3),
    (0x68, 0x6B, "pressure", "bar", -3),
)

PRIMARY_DURATION_ROWS: tuple[_Row, ...] = (
    (0x20, "on_time", DURATION_UNITS),
    (0x24, "operating_time", DURATION_UNITS),
    (0x70, "averaging_duration", DURATION_UNITS),
    (0x74, "actuality_duration", DURATION_UNITS),
)

PRIMARY_SINGLE: dict[int, VifInfo] = {
    0x6C: VifInfo("date", kind="datetime"),
    0x6D: VifInfo("datetime", kind="datetime"),
    0x6E: VifInfo("hca"),
    0x6F: VifInfo("reserved"),
    0x78: VifInfo("fabrication_number", kind="unsigned"),
    0x79: VifInfo("enhanced_identification", kind="unsigned"),
    0x7A: VifInfo("bus_address", kind="unsigned"),
    0x7E: VifInfo("any_vif"),
}

# Codes of the primary table with structural meaning (handled by the record parser, not by lookup).
VIF_PLAIN_TEXT = 0x7C
VIF_EXTENSION_FB = 0xFB
VIF_EXTENSION_FD = 0xFD
VIF_EXTENSION_EF = 0xEF  # reserved third table: one more code byte follows
VIF_MANUFACTURER = 0x7F

# 0xFD extension table (second byte & 0x7F), EN 13757-3 Table 14 / fact sheet §6.3.
FD_DECADE_ROWS: tuple[_Row, ...] = (
    (0x00, 0x03, "credit", "currency", -3),
    (0x04, 0x07, "debit", "currency", -3),
    (0x40, 0x4F, "voltage", "V", -9),
    (0x50, 0x5F, "current", "A", -12),
)

FD_DURATION_ROWS: tuple[_Row, ...] = (
    (0x24, "storage_interval", DURATION_UNITS + ("month", "y")),
    (0x2C, "duration_since_last_readout", DURATION_UNITS),
    (0x31, "tariff_duration", ("min", "h", "d")),
    (0x34, "tariff_period", DURATION_UNITS + ("month", "y")),
    (0x3C, "transmission_period", DURATION_UNITS),
    (0x68, "duration_since_last_cumulation", LONG_DURATION_UNITS),
    (0x6C, "operating_time_battery", LONG_DURATION_UNITS),
)

FD_SINGLE: dict[int, VifInfo] = {
    0x08: VifInfo("access_number", kind="unsigned"),
    0x09: VifInfo("medium", kind="unsigned"),
    0x0A: VifInfo("manufacturer", kind="unsigned"),
    0x0B: VifInfo("parameter_set", kind="unsigned"),
    0x0C: VifInfo("model_version", kind="unsigned"),
    0x0D: VifInfo("hardware_version", kind="unsigned"),
    0x0E: VifInfo("firmware_version", kind="unsigned"),
    0x0F: VifInfo("software_version", kind="unsigned"),
    0x10: VifInfo("customer_location", kind="unsigned"),
    0x11: VifInfo("customer", kind="unsigned"),
    0x12: VifInfo("access_code_user", kind="unsigned"),
    0x13: VifInfo("access_code_operator", kind="unsigned"),
    0x14: VifInfo("access_code_system_operator", kind="unsigned"),
    0x15: VifInfo("access_code_developer", kind="unsigned"),
    0x16: VifInfo("password", kind="unsigned"),
    0x17: VifInfo("error_flags", kind="bits"),
    0x18: VifInfo("error_mask", kind="bits"),
    0x19: VifInfo("security_key", kind="unsigned"),
    0x1A: VifInfo("digital_output", kind="bits"),
    0x1B: VifInfo("digital_input", kind="bits"),
    0x1C: VifInfo("baud_rate", "Bd", kind="unsigned"),
    0x1D: VifInfo("response_delay_time", "bittimes", kind="unsigned"),
    0x1E: VifInfo("retry", kind="unsigned"),
    0x1F: VifInfo("remote_control", kind="bits"),
    0x20: VifInfo("first_storage_number", kind="unsigned"),
    0x21: VifInfo("last_storage_number", kind="unsigned"),
    0x22: VifInfo("storage_block_size", kind="unsigned"),
    0x23: VifInfo("tariff_subunit_descriptor", kind="unsigned"),
    0x2A: VifInfo("operator_specific_data", kind="unsigned"),
    0x2B: VifInfo("time_point_second", "s"),
    0x30: VifInfo("start_of_tariff", kind="datetime"),
    0x3A: VifInfo("dimensionless"),
    0x3B: VifInfo("data_container", kind="unsigned"),
    0x60: VifInfo("reset_counter", kind="unsigned"),
    0x61: VifInfo("cumulation_counter", kind="unsigned"),
    0x62: VifInfo("control_signal", kind="bits"),
    0x63: VifInfo("day_of_week", kind="unsigned"),
    0x64: VifInfo("week_number", kind="unsigned"),
    0x65: VifInfo("time_point_of_day_change", kind="unsigned"),
    0x66: VifInfo("parameter_activation_state", kind="unsigned"),
    0x67: VifInfo("special_supplier_information", kind="unsigned"),
    0x70: VifInfo("battery_change_datetime", kind="datetime"),
    0x71: VifInfo("rf_level", "dBm"),
    0x72: VifInfo("daylight_saving", kind="unsigned"),
    0x73: VifInfo("listening_window_management", kind="unsigned"),
    0x74: VifInfo("remaining_battery_lifetime", "d"),
    0x75: VifInfo("meter_stopped_count", kind="unsigned"),
    0x76: VifInfo("manufacturer_protocol_container", kind="unsigned"),
}

# 0xFB extension table (second byte & 0x7F), EN 13757-3 Table 12 / fact sheet §6.4.
# Exponents are already shifted so that the unit is the base one (MWh -> Wh: +6, GJ -> J: +9, ...).
FB_DECADE_ROWS: tuple[_Row, ...] = (
    (0x00, 0x01, "energy", "Wh", 5),  # MWh x 10^(n-1)
    (0x02, 0x03, "reactive_energy", "kVARh", 0),
    (0x04, 0x05, "apparent_energy", "kVAh", 0),
    (0x08, 0x09, "energy", "J", 8),  # GJ x 10^(n-1)
    (0x0C, 0x0F, "energy", "MCal", -1),
    (0x10, 0x11, "volume", "m3", 2),
    (0x14, 0x17, "reactive_power", "kVAR", -3),
    (0x18, 0x19, "mass", "kg", 5),  # t x 10^(n+2)
    (0x1A, 0x1B, "relative_humidity", "%RH", -1),
    (0x28, 0x29, "power", "W", 5),  # MW x 10^(n-1)
    (0x2C, 0x2F, "frequency", "Hz", -3),
    (0x30, 0x31, "power", "J/h", 8),  # GJ/h x 10^(n-1)
    (0x34, 0x37, "apparent_power", "kVA", -3),
    (0x74, 0x77, "temperature_limit", "C", -3),
    (0x78, 0x7F, "cumulative_max_power", "W", -3),
)

FB_SINGLE: dict[int, VifInfo] = {
    0x20: VifInfo("volume", "ft3", 0),
    0x21: VifInfo("volume", "ft3", -1),  # 0.1 ft3: the decade goes down, so not a decade row
    0x2A: VifInfo("phase_u_u", "deg", -1),
    0x2B: VifInfo("phase_u_i", "deg", -1),
    0x68: VifInfo("hca_rating_factor", "", 0, binary_exponent=-12),
    0x69: VifInfo("hca_rating_factor_kq", "", 0, binary_exponent=-12),
}

# Combinable (orthogonal) VIFE table, EN 13757-3 Table 15 / fact sheet §6.5.
_RECORD_ERRORS: dict[int, str] = {
    0x00: "error_none",
    0x01: "error_too_many_difes",
    0x02: "error_storage_number_not_implemented",
    0x03: "error_unit_number_not_implemented",
    0x04: "error_tariff_number_not_implemented",
    0x05: "error_function_not_implemented",
    0x06: "error_data_class_not_implemented",
    0x07: "error_data_size_not_implemented",
    0x0B: "error_too_many_vifes",
    0x0C: "error_illegal_vif_group",
    0x0D: "error_illegal_vif_exponent",
    0x0E: "error_vif_dif_mismatch",
    0x0F: "error_unimplemented_action",
    0x15: "error_no_data_available",
    0x16: "error_data_overflow",
    0x17: "error_data_underflow",
    0x18: "error_data_error",
    0x1C: "error_premature_end_of_record",
}

_SIMPLE_VIFES: dict[int, str] = {
    0x12: "average_value",
    0x13: "inverse_compact_profile",
    0x14: "relative_deviation",
    0x1D: "standard_conform_data_content",
    0x1E: "compact_profile_with_registers",
    0x1F: "compact_profile",
    0x20: "per_second",
    0x21: "per_minute",
    0x22: "per_hour",
    0x23: "per_day",
    0x24: "per_week",
    0x25: "per_month",
    0x26: "per_year",
    0x27: "per_revolution",
    0x28: "increment_per_input_pulse_ch0",
    0x29: "increment_per_input_pulse_ch1",
    0x2A: "increment_per_output_pulse_ch0",
    0x2B: "increment_per_output_pulse_ch1",
    0x2C: "per_litre",
    0x2D: "per_m3",
    0x2E: "per_kg",
    0x2F: "per_kelvin",
    0x30: "per_kwh",
    0x31: "per_gj",
    0x32: "per_kw",
    0x33: "per_kelvin_litre",
    0x34: "per_volt",
    0x35: "per_ampere",
    0x36: "multiplied_by_s",
    0x37: "multiplied_by_s_per_v",
    0x38: "multiplied_by_s_per_a",
    0x3A: "uncorrected",
    0x3B: "forward",
    0x3C: "backward",
    0x3D: "non_metric",
    0x3E: "base_conditions",
    0x3F: "obis_declaration",
    0x40: "lower_limit",
    0x41: "lower_limit_exceed_count",
    0x48: "upper_limit",
    0x49: "upper_limit_exceed_count",
    0x68: "value_during_lower_limit_exceed",
    0x69: "leakage_values",
    0x6C: "value_during_upper_limit_exceed",
    0x6D: "overflow_values",
    0x7E: "future_value",
    0x7F: "manufacturer_specific_vife",
}

# VIFE 0x7C (0xFC) announces one more byte from the "extension of combinable VIFE" table
# (EN 13757-3:2018 Table 16). Unknown codes become "combinable_extension_XX".
VIFE_COMBINABLE_EXTENSION = 0x7C
VIFE_MANUFACTURER_SPECIFIC = 0x7F

COMBINABLE_EXTENSION: dict[int, str] = {
    0x01: "phase_l1",
    0x02: "phase_l2",
    0x03: "phase_l3",
    0x04: "neutral",
    0x05: "phase_l1_l2",
    0x06: "phase_l2_l3",
    0x07: "phase_l3_l1",
    0x08: "quadrant_q1",
    0x09: "quadrant_q2",
    0x0A: "quadrant_q3",
    0x0B: "quadrant_q4",
    0x0C: "delta_import_export",
    0x10: "accumulation_both_directions",
}


def _expand_decades(rows: tuple[_Row, ...], table: dict[int, VifInfo]) -> None:
    for row in rows:
        first, last, quantity, unit, exponent = row[:5]
        kind = row[5] if len(row) > 5 else "number"
        for code in range(first, last + 1):
            table[code] = VifInfo(quantity, unit, exponent + code - first, kind)


def _expand_durations(rows: tuple[_Row, ...], table: dict[int, VifInfo]) -> None:
    for first, quantity, units in rows:
        for index, unit in enumerate(units):
            table[first + index] = VifInfo(quantity, unit, 0)


def _build(
    decades: tuple[_Row, ...], durations: tuple[_Row, ...], single: dict[int, VifInfo]
) -> dict[int, VifInfo]:
    table: dict[int, VifInfo] = {}
    _expand_decades(decades, table)
    _expand_durations(durations, table)
    table.update(single)
    return table


#: code (VIF & 0x7F) -> meaning, for the primary table (structural codes 7B/7C/7D/7F excluded).
PRIMARY_VIF: dict[int, VifInfo] = _build(PRIMARY_DECADE_ROWS, PRIMARY_DURATION_ROWS, PRIMARY_SINGLE)
#: code (second byte & 0x7F) -> meaning, after VIF 0xFD.
FD_VIF: dict[int, VifInfo] = _build(FD_DECADE_ROWS, FD_DURATION_ROWS, FD_SINGLE)
#: code (second byte & 0x7F) -> meaning, after VIF 0xFB.
FB_VIF: dict[int, VifInfo] = _build(FB_DECADE_ROWS, (), FB_SINGLE)


def _build_vifes() -> dict[int, VifeInfo]:
    table: dict[int, VifeInfo] = {}
    for code in range(0x00, 0x20):
        table[code] = VifeInfo(_RECORD_ERRORS.get(code, f"error_reserved_{code:02x}"))
    for code, name in _SIMPLE_VIFES.items():
        table[code] = VifeInfo(name)
    table[0x39] = VifeInfo("start_date_of", kind="datetime")
    for code in (0x42, 0x43, 0x46, 0x47, 0x4A, 0x4B, 0x4E, 0x4F, 0x44, 0x45, 0x4C, 0x4D):
        limit = "upper" if code & 0x08 else "lower"
        which = "last" if code & 0x04 else "first"
        edge = "end" if code & 0x01 else "begin"
        table[code] = VifeInfo(f"date_of_{edge}_of_{which}_{limit}_limit_exceed", kind="datetime")
    for code in range(0x50, 0x60):
        limit = "upper" if code & 0x08 else "lower"
        which = "last" if code & 0x04 else "first"
        unit = DURATION_UNITS[code & 0x03]
        table[code] = VifeInfo(f"duration_of_{which}_{limit}_limit_exceed", unit=unit)
    for code in range(0x60, 0x68):
        which = "last" if code & 0x04 else "first"
        table[code] = VifeInfo(f"duration_of_{which}", unit=DURATION_UNITS[code & 0x03])
    for code in (0x6A, 0x6B, 0x6E, 0x6F):
        which = "last" if code & 0x04 else "first"
        edge = "end" if code & 0x01 else "begin"
        table[code] = VifeInfo(f"date_of_{edge}_of_{which}", kind="datetime")
    for code in range(0x70, 0x78):
        table[code] = VifeInfo("multiplicative_correction", exponent=(code & 0x07) - 6)
    for code in range(0x78, 0x7C):
        # The record *is* an offset, counted in 10^(nn-3) x the VIF's unit.
        table[code] = VifeInfo("additive_correction_constant", exponent=(code & 0x03) - 3)
    table[0x7D] = VifeInfo("multiplicative_correction", exponent=3)
    table[0x7C] = VifeInfo("combinable_extension")
    return table


#: code (VIFE & 0x7F) -> meaning, for VIFEs after a primary, 0xFB or 0xFD VIF.
COMBINABLE_VIFE: dict[int, VifeInfo] = _build_vifes()


def lookup_primary(code: int) -> VifInfo:
    """Meaning of a primary VIF code (E bit ignored); unknown codes give quantity ``reserved``."""
    return PRIMARY_VIF.get(code & 0x7F, VifInfo("reserved"))


def lookup_fd(code: int) -> VifInfo:
    """Meaning of the code byte after VIF 0xFD (E bit ignored)."""
    return FD_VIF.get(code & 0x7F, VifInfo("reserved"))


def lookup_fb(code: int) -> VifInfo:
    """Meaning of the code byte after VIF 0xFB (E bit ignored)."""
    return FB_VIF.get(code & 0x7F, VifInfo("reserved"))


def lookup_combinable(code: int) -> VifeInfo:
    """Meaning of a combinable VIFE (E bit ignored); every 7-bit code has an entry."""
    return COMBINABLE_VIFE[code & 0x7F]


def lookup_combinable_extension(code: int) -> str:
    """Meaning of the byte after combinable VIFE 0x7C (E bit ignored)."""
    code &= 0x7F
    return COMBINABLE_EXTENSION.get(code, f"combinable_extension_{code:02x}")
