"""Every built-in driver file: it loads, its detection does not collide with another driver's, and
each of its test telegrams prints every expected field with the expected value."""

from __future__ import annotations

import pytest

from sdr_wmbus.drivers import DriverRegistry, builtin_drivers
from sdr_wmbus.drivers.testing import decode_test, mismatches

DRIVERS = builtin_drivers()
CASES = [(driver, test) for driver in DRIVERS for test in driver.tests]


def test_names_and_aliases_are_unique():
    names: dict[str, str] = {}
    for driver in DRIVERS:
        for name in (driver.name, *driver.aliases):
            assert name not in names, f"{name} is claimed by {names[name]} and {driver.name}"
            names[name] = driver.name


def test_no_two_drivers_detect_the_same_meter_at_the_same_priority():
    claims: dict[tuple, str] = {}
    for driver in DRIVERS:
        for detect in driver.detect:
            for manufacturer in detect.manufacturers:
                for version in detect.versions or (None,):
                    for device_type in detect.device_types or (None,):
                        for ci in detect.cis or (None,):
                            key = (manufacturer, version, device_type, ci, driver.priority)
                            other = claims.setdefault(key, driver.name)
                            assert other == driver.name, (
                                f"{key[:4]} detected by both {other} and {driver.name}"
                            )


def test_every_driver_has_a_test_telegram():
    untested = [d.name for d in DRIVERS if not d.tests]
    assert not untested, f"drivers without [[test]]: {untested}"


@pytest.mark.parametrize("driver,test", CASES, ids=[f"{d.name}:{t.line}" for d, t in CASES])
def test_driver_test_telegram(driver, test):
    result = decode_test(driver, test)
    problems = mismatches(driver, test, result)
    assert not problems, f"{driver.path}:{test.line}: " + "; ".join(problems)
    if "error" not in test.expected:
        assert result.get("meter") == driver.name


def test_registry_finds_each_driver_by_alias():
    registry = DriverRegistry(DRIVERS)
    for driver in DRIVERS:
        for alias in driver.aliases:
            assert registry.get(alias) is driver
