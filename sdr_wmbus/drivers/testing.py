"""Running a driver file's own tests: decode each test telegram and compare the printed fields.

Used by the test suite (every built-in driver) and by ``sdr-wmbus drivers --check FILE`` (a user's).
"""

from __future__ import annotations

import math

from .spec import DriverSpec, DriverTest

#: Expected keys that describe the reference run, not the telegram.
NOT_COMPARED = {"_", "name", "timestamp"}


#: wmbusmeters prints numbers with at most this many decimals (0.016667 for 1/60).
REFERENCE_DECIMALS = 6


def values_equal(expected: object, got: object) -> bool:
    """Equal, numbers within 1e-6 relative or equal once rounded to the reference's six decimals (a
    printed float is rounded); bools and text exactly."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if math.isclose(expected, got, rel_tol=1e-6, abs_tol=1e-9):
            return True
        return round(got, REFERENCE_DECIMALS) == round(expected, REFERENCE_DECIMALS)
    return expected == got


def decode_test(driver: DriverSpec, test: DriverTest) -> dict:
    """What the stack prints for a test telegram (its preceding telegrams decoded first)."""
    from ..decoder import TelegramDecoder
    from ..errors import ConfigError, DecodeError
    from ..input_lines import parse_hex
    from ..security.keys import KeyStore, parse_key

    keys = KeyStore()
    if test.key:
        try:
            keys.default_key = parse_key(test.key, "test key")
        except ConfigError as exc:
            return {"error": str(exc)}
    decoder = TelegramDecoder(keys, driver=driver.name if test.forced else None)
    try:  # a telegram that is not hex is reported like any other error, as decode does
        preceding = [parse_hex(before) for before in test.preceding]
        telegram = parse_hex(test.telegram)
    except DecodeError as exc:
        return {"error": str(exc)}
    for before in preceding:
        decoder.decode(before, already_decrypted=test.already_decrypted, link_crc=test.link_crc)
    return decoder.decode(telegram, already_decrypted=test.already_decrypted, link_crc=test.link_crc)


def mismatches(driver: DriverSpec, test: DriverTest, result: dict | None = None) -> list[str]:
    """One line per expected field that is missing or different (empty: the test passes)."""
    if result is None:
        result = decode_test(driver, test)
    problems = []
    if "error" in result and "error" not in test.expected:
        problems.append(f"error: {result['error']}")
    for name, value in test.expected.items():
        if name in NOT_COMPARED:
            continue
        if name not in result:
            problems.append(f"{name}: missing (expected {value!r})")
        elif not values_equal(value, result[name]):
            problems.append(f"{name}: {result[name]!r} (expected {value!r})")
    return problems
