"""One vocabulary of options across commands: the same --rate/--center/--modes checks everywhere, the
output formats, synth's output found by replay without options, and output for people."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sdr_wmbus.outputs.human import HumanOutput, main_readings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
METERS = ROOT / "samples" / "meters.toml"


def sdr_wmbus(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "command",
    [
        ["listen", "--rtl-tcp", "127.0.0.1:9", "--rate", "0"],
        ["replay", str(SAMPLE), "--rate", "0"],
        ["bench", "--rate", "0", "--seconds", "0.1"],
        ["synth", "/nonexistent/x.cu8", "--rate", "0"],
    ],
)
def test_rate_zero_is_refused_the_same_way_by_every_command(command):
    done = sdr_wmbus(*command)
    assert done.returncode == 2
    assert done.stderr.strip() == "sdr-wmbus: error: --rate: 0 Hz is outside 0.8-3.2 Msps"


@pytest.mark.parametrize("command", [["listen", "--rtl-tcp", "127.0.0.1:9"], ["replay", str(SAMPLE)]])
def test_center_and_modes_are_checked_the_same_way(command):
    done = sdr_wmbus(*command, "--center", "5G")
    assert done.returncode == 2 and "--center: 5000 MHz is outside 800-1000 MHz" in done.stderr
    done = sdr_wmbus(*command, "--modes", "x")
    assert done.returncode == 2 and "--modes: expected a list of t, c and s" in done.stderr


def test_decode_takes_the_old_format_option_with_a_note():
    hex_text = (
        "2E44A5119870659930037A06002005_2F2F0C933E842784060A3B00000A5A5901C4016D3B37DF2CCC01933E24032606"
    )
    done = sdr_wmbus("decode", "--format", "pretty", hex_text)
    assert done.returncode == 0 and "--format is now --output-format" in done.stderr
    assert json.loads(done.stdout)["total_m3"] == 6842.784 and done.stdout.count("\n") > 5


def test_synth_output_replays_without_options(tmp_path):
    path = tmp_path / "test.cu8"  # a name that says nothing about rate or centre
    done = sdr_wmbus("synth", str(path), "--rate", "2.4M", "--center", "868.9M", "--mode", "mixed")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "test.cu8.sigmf-meta").exists()
    done = sdr_wmbus("replay", str(path), "--output-format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 2 and "2.4 Msps" in done.stderr


KAMWATER = {
    "id": "76348799",
    "manufacturer": "KAM",
    "manufacturer_name": "Kamstrup",
    "media": "cold water",
    "meter": "kamwater",
    "name": "kitchen",
    "total_m3": 6.408,
    "target_m3": 6.408,
    "flow_temperature_c": 127,
    "status": "DRY",
    "current_status": "DRY",
    "mode": "C1",
    "rssi_dbfs": -30.4,
    "snr_db": 21.6,
    "time_s": 0.033,
}


def test_a_line_for_people_per_telegram_and_a_table_of_meters():
    stream = io.StringIO()
    output = HumanOutput(stream)
    output.write(KAMWATER)
    output.write({**KAMWATER, "total_m3": 6.41})
    output.write({"id": "67042798", "manufacturer": "KAM", "media": "heat", "error": "encrypted, no key"})
    output.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == (
        "   0.033s C1 76348799 kitchen: Kamstrup cold water (kamwater): total 6.408 m³, "
        "flow temperature 127 °C · DRY · -30 dBFS, SNR 22 dB"
    )
    assert "error: encrypted, no key" in lines[2]
    assert "2 meters heard:" in stream.getvalue()
    table = stream.getvalue().split("2 meters heard:")[1]
    assert "76348799  Kamstrup      cold water  kamwater  2          total 6.41 m³" in table


def test_main_readings_leave_out_history_and_header_fields():
    readings = main_readings({**KAMWATER, "total_storage_17_m3": 1.0, "target_date": "2024-12-31"})
    assert readings == ["total 6.408 m³", "flow temperature 127 °C"]


def test_main_readings_leave_out_what_the_radio_measured():
    radio = {"rssi_dbfs": -9.0, "snr_db": 14.0, "freq_offset_hz": -1200.0, "chip_rate_error_ppm": -32}
    assert main_readings({**KAMWATER, **radio}) == ["total 6.408 m³", "flow temperature 127 °C"]
    assert main_readings({"id": "67042798", "error": "encrypted, no key", **radio}) == []


def test_replay_prints_lines_for_people_when_asked():
    done = sdr_wmbus("replay", str(SAMPLE), "--meters", str(METERS), "--output-format", "human")
    assert done.returncode == 0
    assert "76348799 kitchen cold water: Kamstrup cold water (kamwater): total 6.408 m³" in done.stdout
    assert "7 meters heard:" in done.stdout
    assert "chip rate error" not in done.stdout  # radio figures are not readings
