"""Manufacturer (M-field) codes: 3 letters packed into 15 bits; names of common ones (DLMS UA FLAG list)."""

from __future__ import annotations

from functools import lru_cache

MANUFACTURER_NAMES: dict[str, str] = {
    "ABB": "ABB",
    "AMT": "Aquametro",
    "APA": "Apator",
    "APT": "Apator",
    "BMT": "BMETERS",
    "DME": "Diehl Metering",
    "EFE": "Engelmann",
    "EIE": "Electronic Instruments",
    "ELS": "Elster",
    "ELV": "Elvaco",
    "EMH": "EMH Metering",
    "ESY": "EasyMeter",
    "GAV": "Carlo Gavazzi",
    "GWF": "GWF",
    "HYD": "Hydrometer",
    "ITW": "Itron",
    "KAM": "Kamstrup",
    "LAS": "Lansen",
    "LSE": "Landis+Gyr / Siemens",
    "LUG": "Landis+Gyr",
    "MAD": "Maddalena",
    "NZR": "Nordwestdeutsche Zählerrevision",
    "QDS": "Qundis",
    "SAP": "Sappel",
    "SEN": "Sensus",
    "SON": "Sontex",
    "SPL": "Sappel",
    "TCH": "Techem",
    "WEH": "Wehrle",
    "ZRI": "Zenner",
    "ZRM": "Zenner",
}


@lru_cache(maxsize=4096)
@lru_cache(maxsize=1024)  # pure, and a receiver hears few manufacturers
def manufacturer_code(value: int) -> str:
    """Decode a 16-bit M-field into its 3-letter code.

    Bit 15 is ignored: some meters set it although the code is a normal FLAG id.
    Letters outside A..Z (a value no FLAG id uses) are shown as '@' .. so the code stays 3 chars.
    """
    value &= 0x7FFF
    letters = ((value >> 10) & 0x1F, (value >> 5) & 0x1F, value & 0x1F)
    return "".join(chr(64 + n) if 1 <= n <= 26 else "@" for n in letters)


def manufacturer_letters_valid(value: int) -> bool:
    """Whether a 16-bit M-field spells three letters A..Z (bit 15 ignored, as in manufacturer_code):
    every FLAG id does; a random 15-bit value does only about half the time."""
    value &= 0x7FFF
    return all(1 <= (value >> shift) & 0x1F <= 26 for shift in (10, 5, 0))


def manufacturer_value(code: str) -> int:
    """Encode a 3-letter code into its 15-bit M-field value (inverse of manufacturer_code)."""
    code = code.upper()
    if len(code) != 3 or not all("A" <= c <= "Z" for c in code):
        raise ValueError(f"manufacturer code must be 3 letters A-Z, got {code!r}")
    return ((ord(code[0]) - 64) << 10) | ((ord(code[1]) - 64) << 5) | (ord(code[2]) - 64)
