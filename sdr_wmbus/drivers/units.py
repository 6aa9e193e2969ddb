"""Display units of driver fields: the name suffix, the conversion from a record's unit, and how Home
Assistant shows the value. The one table to extend for a new unit.

A field's output name is its stem plus ``_<unit>`` (``total`` + ``m3`` -> ``total_m3``), as wmbusmeters
names them, so users keep their sensor names when they migrate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisplayUnit:
    """A unit a driver field can be shown in."""

    dimension: str  # what it measures; a record converts only within its dimension
    factor: float  # value in the dimension's base unit = value in this unit * factor
    ha_unit: str | None  # Home Assistant unit_of_measurement
    device_class: str | None  # Home Assistant device class (None: none fits)
    cumulative: bool  # a running total (state_class total_increasing when current)
    offset: float = 0.0  # base = value * factor + offset (absolute temperatures only)


_HOUR = 1.0
#: Unit suffix -> meaning. Base units: m3, kWh, kW, m3/h, kg, kg/h, degrees C, K (difference), bar,
#: hour, V, A, Hz, percent, kvarh, kVAh, kvar, kVA, dimensionless.
DISPLAY_UNITS: dict[str, DisplayUnit] = {
    "m3": DisplayUnit("volume", 1.0, "m³", "volume", True),
    "l": DisplayUnit("volume", 1e-3, "L", "volume", True),
    "kwh": DisplayUnit("energy", 1.0, "kWh", "energy", True),
    "mwh": DisplayUnit("energy", 1e3, "MWh", "energy", True),
    "wh": DisplayUnit("energy", 1e-3, "Wh", "energy", True),
    "gj": DisplayUnit("energy", 1e9 / 3.6e6, "GJ", "energy", True),
    "mj": DisplayUnit("energy", 1e6 / 3.6e6, "MJ", "energy", True),
    "kj": DisplayUnit("energy", 1e3 / 3.6e6, "kJ", "energy", True),
    "kw": DisplayUnit("power", 1.0, "kW", "power", False),
    "w": DisplayUnit("power", 1e-3, "W", "power", False),
    "mw": DisplayUnit("power", 1e3, "MW", "power", False),
    "m3h": DisplayUnit("volume_flow", 1.0, "m³/h", "volume_flow_rate", False),
    "lh": DisplayUnit("volume_flow", 1e-3, "L/h", "volume_flow_rate", False),
    "kg": DisplayUnit("mass", 1.0, "kg", "weight", True),
    "t": DisplayUnit("mass", 1e3, "t", "weight", True),
    "kgh": DisplayUnit("mass_flow", 1.0, "kg/h", None, False),
    "c": DisplayUnit("temperature", 1.0, "°C", "temperature", False),
    "k": DisplayUnit("temperature", 1.0, "K", "temperature", False, offset=-273.15),
    "f": DisplayUnit("temperature", 5 / 9, "°F", "temperature", False, offset=-32 * 5 / 9),
    "bar": DisplayUnit("pressure", 1.0, "bar", "pressure", False),
    "pa": DisplayUnit("pressure", 1e-5, "Pa", "pressure", False),
    "kpa": DisplayUnit("pressure", 1e-2, "kPa", "pressure", False),
    "h": DisplayUnit("time", _HOUR, "h", "duration", False),
    "min": DisplayUnit("time", _HOUR / 60, "min", "duration", False),
    "s": DisplayUnit("time", _HOUR / 3600, "s", "duration", False),
    "d": DisplayUnit("time", 24 * _HOUR, "d", "duration", False),
    "month": DisplayUnit("time", 24 * _HOUR * 365.2425 / 12, "month", None, False),
    "y": DisplayUnit("time", 24 * _HOUR * 365.2425, "y", None, False),
    "v": DisplayUnit("voltage", 1.0, "V", "voltage", False),
    "a": DisplayUnit("current", 1.0, "A", "current", False),
    "hz": DisplayUnit("frequency", 1.0, "Hz", "frequency", False),
    "rh": DisplayUnit("relative_humidity", 1.0, "%", "humidity", False),
    "pct": DisplayUnit("percent", 1.0, "%", None, False),
    "ppm": DisplayUnit("ppm", 1.0, "ppm", None, False),
    "kvarh": DisplayUnit("reactive_energy", 1.0, "kvarh", None, True),
    "kvah": DisplayUnit("apparent_energy", 1.0, "kVAh", None, True),
    "kvar": DisplayUnit("reactive_power", 1.0, "kvar", "reactive_power", False),
    "kva": DisplayUnit("apparent_power", 1.0, "kVA", "apparent_power", False),
    "hca": DisplayUnit("hca", 1.0, None, None, True),
    "counter": DisplayUnit("count", 1.0, None, None, True),
    "factor": DisplayUnit("dimensionless", 1.0, None, None, False),
    "dbm": DisplayUnit("level_dbm", 1.0, "dBm", "signal_strength", False),
    "deg": DisplayUnit("angle", 1.0, "°", None, False),
}

#: Record unit (as the VIF tables give it) -> (dimension, factor into the dimension's base unit).
RECORD_UNITS: dict[str, tuple[str, float]] = {
    "m3": ("volume", 1.0),
    "ft3": ("volume", 0.028316846592),
    "Wh": ("energy", 1e-3),
    "J": ("energy", 1 / 3.6e6),
    "W": ("power", 1e-3),
    "J/h": ("power", 1 / 3.6e6),
    "m3/h": ("volume_flow", 1.0),
    "m3/min": ("volume_flow", 60.0),
    "m3/s": ("volume_flow", 3600.0),
    "kg": ("mass", 1.0),
    "kg/h": ("mass_flow", 1.0),
    "C": ("temperature", 1.0),
    "K": ("temperature_difference", 1.0),
    "bar": ("pressure", 1.0),
    "s": ("time", _HOUR / 3600),
    "min": ("time", _HOUR / 60),
    "h": ("time", _HOUR),
    "d": ("time", 24 * _HOUR),
    "month": ("time", 24 * _HOUR * 365.2425 / 12),
    "y": ("time", 24 * _HOUR * 365.2425),
    "V": ("voltage", 1.0),
    "A": ("current", 1.0),
    "Hz": ("frequency", 1.0),
    "%RH": ("relative_humidity", 1.0),
    "kVARh": ("reactive_energy", 1.0),
    "kVAh": ("apparent_energy", 1.0),
    "kVAR": ("reactive_power", 1.0),
    "kVA": ("apparent_power", 1.0),
    "dBm": ("level_dbm", 1.0),
    "deg": ("angle", 1.0),
    "": ("dimensionless", 1.0),
}

#: Dimensionless display units take any record without a unit.
_UNITLESS = {"hca", "count", "dimensionless", "percent", "ppm"}


class UnitMismatch(ValueError):
    """A record's unit cannot be shown in the field's unit (e.g. a volume field matched an energy)."""


Conversion = tuple[float, float, float] | None


def conversion(record_unit: str, display: str) -> Conversion:
    """How a value in ``record_unit`` becomes one in the display unit ``display``: ``(factor, offset,
    divisor)`` for ``(value * factor - offset) / divisor``, or None when the value stays as it is.

    Fixed by the two units, so a driver works it out once per record layout (see ``engine._plan``).
    """
    target = DISPLAY_UNITS[display]
    source = RECORD_UNITS.get(record_unit)
    if source is None:
        raise UnitMismatch(f"record unit {record_unit!r} is unknown")
    dimension, factor = source
    if dimension == "temperature_difference" and target.dimension == "temperature":
        return factor, 0.0, target.factor  # a difference: no offset, 1 K = 1 degree C
    if dimension == "dimensionless" and target.dimension in _UNITLESS:
        return None
    if dimension != target.dimension:
        raise UnitMismatch(f"a {dimension.replace('_', ' ')} cannot be shown in {display}")
    return factor, target.offset, target.factor


def convert(value: float, record_unit: str, display: str) -> float:
    """``value`` in ``record_unit`` expressed in the display unit ``display``."""
    how = conversion(record_unit, display)
    if how is None:
        return value
    factor, offset, divisor = how
    return (value * factor - offset) / divisor


def from_base(value: float, display: str) -> float:
    """A value in the dimension's base unit expressed in ``display`` (for hooks and formulas)."""
    target = DISPLAY_UNITS[display]
    return (value - target.offset) / target.factor
