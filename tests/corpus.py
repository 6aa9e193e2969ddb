"""Shared helpers for running corpus telegrams (ours in fixtures/, the full one in ../shared) through
the stack and measuring how many of the reference decoder's values we reproduce."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.errors import DecodeError
from sdr_wmbus.input_lines import parse_hex
from sdr_wmbus.security.keys import KeyStore, parse_key

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "telegrams.jsonl"
SHARED_CORPUS = HERE.parent.parent / "shared" / "corpus" / "telegrams.jsonl"


def load_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def decode_case(case: dict, detect: bool = False) -> dict:
    """Decode a corpus case (its preceding telegrams first, with the same decoder state).

    wmbusmeters' tests name the driver of each meter (as a meters file does); where we have a driver of
    that name it is used the same way, so that a meter two drivers know (qwater and qwaterv2, izar and
    izarv2, ...) is read with the driver the reference used (``detect=True``: found by detection).
    Detection alone is tested by the drivers'
    own test telegrams.
    """
    from sdr_wmbus.drivers import registry

    keys = KeyStore()
    key = case.get("key")
    if key and key not in ("NOKEY", '""'):
        keys.default_key = parse_key(key, "corpus key")
    named = None if detect else case.get("driver")
    decoder = TelegramDecoder(keys, driver=named if named and registry().get(named) else None)
    already = bool(case.get("payload_already_decrypted"))
    # The corpus says whether its frames carry link-layer CRCs ("none", "format_b_crc", ...).
    link_crc = "none" if case.get("dll_crc", "none") == "none" or "mismatch" in case["dll_crc"] else "present"
    for before in case.get("preceding_telegrams") or []:
        hex_text = before["telegram"] if isinstance(before, dict) else before
        decoder.decode(parse_hex(hex_text), already_decrypted=already, link_crc=link_crc)
    try:
        data = parse_hex(case["telegram"])
    except DecodeError as exc:  # a corrupted corpus line must be reported like any bad input
        return {"error": str(exc)}
    return decoder.decode(data, already_decrypted=already, link_crc=link_crc)


# Header counters are not meter readings: they must not count as a match by accident.
HEADER_FIELDS = {
    "access_number",
    "ell_access_number",
    "message_counter",
    "bus_address",
    "sample",
    "rssi_dbfs",
    "snr_db",
    "freq_offset_hz",
    "chip_rate_error_ppm",
    "security_mode",
}


def numeric_values(obj: object) -> list[float]:
    """Every number in a decoded object's named fields and records (header counters excluded)."""
    found: list[float] = []
    if isinstance(obj, dict) and "id" in obj:
        obj = {k: v for k, v in obj.items() if k not in HEADER_FIELDS}
    if isinstance(obj, bool):
        return found
    if isinstance(obj, (int, float)):
        found.append(float(obj))
    elif isinstance(obj, dict):
        for value in obj.values():
            found += numeric_values(value)
    elif isinstance(obj, list):
        for value in obj:
            found += numeric_values(value)
    return found


def expected_values(case: dict) -> dict[str, float]:
    """The reference's non-zero numeric values (the ones the share is measured on)."""
    return {
        name: float(value)
        for name, value in case["expected"].items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0
    }


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def value_matches(expected: float, decoded: float) -> bool:
    """Equal, allowing for the reference having printed a rounded value (never for a scaling slip)."""
    if math.isclose(expected, decoded, rel_tol=1e-6, abs_tol=1e-9):
        return True
    places = _decimals(expected)
    return places >= 1 and round(decoded, places) == expected


def match_case(case: dict, result: dict) -> tuple[list[str], list[str]]:
    """(matched names, missed names) of the case's expected non-zero numeric values."""
    decoded = numeric_values(result)
    matched, missed = [], []
    for name, value in expected_values(case).items():
        (matched if any(value_matches(value, d) for d in decoded) else missed).append(name)
    return matched, missed
