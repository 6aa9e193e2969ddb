"""Device type (medium) codes of the A-field, EN 13757-7 / OMS; names follow wmbusmeters' `media`."""

from __future__ import annotations

DEVICE_TYPES: dict[int, str] = {
    0x00: "other",
    0x01: "oil",
    0x02: "electricity",
    0x03: "gas",
    0x04: "heat",
    0x05: "steam",
    0x06: "warm water",
    0x07: "water",
    0x08: "heat cost allocation",
    0x09: "compressed air",
    0x0A: "cooling load volume at outlet",
    0x0B: "cooling load volume at inlet",
    0x0C: "heat volume at inlet",
    0x0D: "heat/cooling load",
    0x0E: "bus/system component",
    0x0F: "unknown",
    0x10: "irrigation water",
    0x11: "water data logger",
    0x12: "gas data logger",
    0x13: "gas converter",
    0x14: "calorific value",
    0x15: "hot water",
    0x16: "cold water",
    0x17: "dual hot/cold water",
    0x18: "pressure",
    0x19: "a/d converter",
    0x1A: "smoke detector",
    0x1B: "room sensor",
    0x1C: "gas detector",
    0x1D: "reserved",
    0x1E: "reserved",
    0x1F: "reserved",
    0x20: "breaker (electricity)",
    0x21: "valve (gas or water)",
    0x25: "customer unit (display device)",
    0x28: "waste water",
    0x29: "garbage",
    0x2A: "carbon dioxide",
    0x31: "communication controller",
    0x32: "unidirectional repeater",
    0x33: "bidirectional repeater",
    0x36: "radio converter (system side)",
    0x37: "radio converter (meter side)",
    0x38: "wired adapter",
}

# Techem sends its own type codes (not in EN 13757-7) under manufacturer TCH.
TECHEM_DEVICE_TYPES: dict[int, str] = {
    0x43: "heat",
    0x45: "heat",
    0x62: "warm water",
    0x72: "cold water",
    0x80: "heat cost allocator",
    0xC3: "heat",
    0xF0: "smoke detector",
}


def device_type_name(device_type: int, manufacturer: str = "") -> str:
    """Human name of a device type; Techem's private codes are honoured for M=TCH."""
    if manufacturer == "TCH" and device_type in TECHEM_DEVICE_TYPES:
        return TECHEM_DEVICE_TYPES[device_type]
    return DEVICE_TYPES.get(device_type, "reserved")
