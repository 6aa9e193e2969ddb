"""Field format ``datetime_minutes``: a date-time printed to the minute (the seconds of a 6-byte type I
date-time dropped), as wmbusmeters prints device date-times."""

from __future__ import annotations

from sdr_wmbus.app.records import read_record
from sdr_wmbus.drivers.engine import field_value
from sdr_wmbus.drivers.spec import parse_driver

DRIVER = """
name = "clock"
detect = [{ manufacturer = "ABC" }]

[[field]]
name = "device_datetime"
match = { vif = "datetime" }
format = "datetime_minutes"

[[field]]
name = "meter_datetime"
match = { vif = "datetime" }
format = "datetime"
"""


def test_datetime_minutes_drops_the_seconds_and_datetime_keeps_them():
    minutes, full = parse_driver(DRIVER, "clock.toml").fields
    record, _ = read_record(bytes.fromhex("066D1E5C11DA2140"), 0)  # 2022-01-26 17:28:30
    assert field_value(minutes, record) == "2022-01-26 17:28"
    assert field_value(full, record) == "2022-01-26 17:28:30"


def test_datetime_minutes_of_a_type_f_datetime_is_unchanged():
    minutes, _ = parse_driver(DRIVER, "clock.toml").fields
    record, _ = read_record(bytes.fromhex("046D2E2B0F31"), 0)  # 2024-01-15 11:46, no seconds sent
    assert field_value(minutes, record) == "2024-01-15 11:46"
