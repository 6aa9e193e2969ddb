"""`sdr-wmbus drivers`, `sdr-wmbus analyze` and a user's own driver file, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METERS = ROOT / "samples" / "meters.toml"
KAMWATER = "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24"
KEY = "28F64A24988064A079AA2C807D6102AE"
# A water meter no built-in driver knows (manufacturer ZZZ is made up for the test).
UNKNOWN_METER = "20445A6B7856341201077A010000002F2F0413D2040000426CBF2C4413E8030000"

MY_DRIVER = """
# My own meter: the total and the reading at the last billing date.
name = "mywater"
title = "My water meter"
meter_type = "water"
detect = [{ manufacturer = "ZZZ", version = 0x01, device_type = 0x07 }]

[[field]]
name = "total"
unit = "l"
match = { vif = "volume" }

[[field]]
name = "billing"
unit = "m3"
match = { vif = "volume", storage = 1 }

[[field]]
name = "billing_date"
match = { vif = "date", storage = 1 }
format = "date"

[[test]]
telegram = "20445A6B7856341201077A010000002F2F0413D2040000426CBF2C4413E8030000"
expected = '''{"meter": "mywater", "id": "12345678", "total_l": 1234, "billing_m3": 1.0,
              "billing_date": "2021-12-31"}'''
"""


def sdr_wmbus(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sdr_wmbus", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_drivers_lists_every_driver_with_aliases_and_fields():
    done = sdr_wmbus("drivers", "--json")
    assert done.returncode == 0, done.stderr
    table = {row["name"]: row for row in json.loads(done.stdout)}
    assert "multical21" in table["kamwater"]["aliases"]
    assert {"total_m3", "current_status", "status"} <= set(table["kamwater"]["fields"])
    text = sdr_wmbus("drivers").stdout
    assert f"{len(table)} drivers" in text
    assert "| `kamwater` |" in sdr_wmbus("drivers", "--markdown").stdout


def test_analyze_explains_layers_records_and_drivers_without_showing_the_key():
    done = sdr_wmbus("analyze", KAMWATER, "--key", KEY)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    parts = ("DLL", "M=KAM (Kamstrup)", "ELL", "session number", "02FF20", "4413", "volume (storage 1)")
    for expected in parts:
        assert expected in text
    assert "kamwater (detected)" in text and "time_dry='22-31 days'" in text
    assert KEY not in text.upper() and KEY not in done.stderr.upper()
    records = json.loads(sdr_wmbus("analyze", KAMWATER, "--key", KEY, "--json").stdout)["records"]
    assert [r["dif_vif"] for r in records] == ["02FF20", "0413", "4413", "615B", "6167"]
    assert records[2]["storage"] == 1 and records[2]["value"] == 6.408


def test_analyze_without_the_key_says_so():
    done = sdr_wmbus("analyze", KAMWATER)
    assert done.returncode == 1
    assert "no key for meter 76348799" in done.stdout


def test_a_users_own_driver_file_end_to_end(tmp_path):
    folder = tmp_path / "drivers"
    folder.mkdir()
    (folder / "mywater.toml").write_text(MY_DRIVER)
    before = json.loads(sdr_wmbus("decode", "--link-crc", "none", UNKNOWN_METER).stdout)
    assert before["meter"] == "generic" and "no driver knows this meter" in before["warnings"][0]
    done = sdr_wmbus("decode", "--link-crc", "none", "--drivers", str(folder), UNKNOWN_METER)
    out = json.loads(done.stdout)
    assert (out["meter"], out["total_l"], out["billing_m3"], out["billing_date"]) == (
        "mywater",
        1234,
        1.0,
        "2021-12-31",
    )
    check = sdr_wmbus("drivers", "--check", str(folder))
    assert check.returncode == 0 and "all tests pass" in check.stdout
    # named in a meters file instead of on the command line
    meters = tmp_path / "meters.toml"
    meters.write_text('drivers = "drivers"\n[[meter]]\nid = "12345678"\nname = "garden"\n')
    out = json.loads(sdr_wmbus("decode", "--link-crc", "none", "--meters", str(meters), UNKNOWN_METER).stdout)
    assert (out["meter"], out["name"]) == ("mywater", "garden")


def test_a_bad_driver_file_is_one_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(MY_DRIVER.replace('unit = "l"', 'unit = "litres"'))
    done = sdr_wmbus("decode", "--drivers", str(bad), UNKNOWN_METER)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert f"{bad}:8: field total: unknown unit 'litres'" in done.stderr
    failing = tmp_path / "failing.toml"
    failing.write_text(MY_DRIVER.replace('"total_l": 1234', '"total_l": 1235'))
    check = sdr_wmbus("drivers", "--check", str(failing))
    assert check.returncode == 1 and "total_l: 1234 (expected 1235)" in check.stdout
