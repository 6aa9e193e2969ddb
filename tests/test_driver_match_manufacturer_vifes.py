"""Match key ``manufacturer_vifes``: a record is told apart by the VIFEs a manufacturer puts after the
manufacturer-specific VIFE 0xFF (a phase, an average, exported energy ...)."""

from __future__ import annotations

from sdr_wmbus.app.records import parse_apl
from sdr_wmbus.drivers.engine import RecordIndex, manufacturer_vifes
from sdr_wmbus.drivers.spec import parse_driver

DRIVER = """
name = "phases"
detect = [{ manufacturer = "ABC" }]

[[field]]
name = "voltage_l1_n"
unit = "v"
match = { vif = "voltage", manufacturer_vifes = "01" }

[[field]]
name = "voltage_l2_n"
unit = "v"
match = { vif = "voltage", manufacturer_vifes = "02" }

[[field]]
name = "voltage"
unit = "v"
match = { vif = "voltage" }

[[field]]
name = "active_consumption_l1"
unit = "kw"
match = { vif = "power", manufacturer_vifes = "8100" }
"""
# 230.0 V at L1 (FD C8 FF 01), 231.0 V at L2 (FD C8 FF 02), 232.0 V plain (FD 48), and 1500 W with an
# ABB-style tail (2B FF 81 00: W, manufacturer code 01, then VIFE 00).
APL = "02FDC8FF01FC0802FDC8FF02060902FD48100902ABFF8100DC05"


def test_records_are_told_apart_by_their_manufacturer_vifes():
    records = parse_apl(bytes.fromhex(APL)).records
    assert [manufacturer_vifes(r) for r in records] == [b"\x01", b"\x02", None, b"\x81\x00"]
    index = RecordIndex(records)
    l1, l2, plain, power = parse_driver(DRIVER, "phases.toml").fields
    assert [r.value for r in index.candidates(l1.match)] == [230.0]
    assert [r.value for r in index.candidates(l2.match)] == [231.0]
    assert [r.value for r in index.candidates(plain.match)] == [232.0]
    assert [r.value for r in index.candidates(power.match)] == [1500]
