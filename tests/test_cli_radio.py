"""`sdr-wmbus replay`, `synth` and `bench` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
METERS = ROOT / "samples" / "meters.toml"
REAL = ROOT.parent / "shared" / "corpus" / "iq" / "rtlwmbus_samples2_T1_868.95M_1600k.cu8"


def sdr_wmbus(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", *args], input=stdin, capture_output=True, timeout=300
    )


def json_lines(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_replay_bundled_sample_decodes_every_telegram():
    proc = sdr_wmbus("replay", str(SAMPLE), "--meters", str(METERS))
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc)
    sent = [json.loads(line) for line in Path(str(SAMPLE) + ".telegrams.jsonl").read_text().splitlines()]
    assert [o["raw"].upper() for o in out] == [s["hex"].upper() for s in sent]
    assert [o["mode"] for o in out] == [s["mode"] for s in sent]
    by_id = {o["id"]: o for o in out}
    assert by_id["76348799"]["total_m3"] == 6.408  # Kamstrup, ELL AES-CTR with the key from meters.toml
    assert by_id["12345678"]["total_m3"] == 28504.27  # Elster, security mode 5
    assert by_id["43054304"]["total_kwh"] == 9341  # Sensostar, mode 7
    assert by_id["67042798"]["error"] == "encrypted, no key for meter 67042798"
    for o, s in zip(out, sent, strict=True):
        assert {"rssi_dbfs", "snr_db", "freq_offset_hz", "chip_rate_error_ppm", "sample", "time_s"} <= set(o)
        assert isinstance(o["chip_rate_error_ppm"], int)
        assert abs(o["chip_rate_error_ppm"] - s["ppm"]) < 500  # the meter's chip clock, as sent
    summary = proc.stderr.decode()
    assert "7 frames (T1 4, C1 3) = 7 telegrams + 0 duplicates; 0 lost to CRC errors" in summary


@pytest.mark.skipif(not REAL.exists(), reason="../shared corpus not present")
def test_replay_real_recording():
    proc = sdr_wmbus("replay", str(REAL), "-q")
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc)
    assert [o["raw"] for o in out] == [
        "294468502300207172f0a0009f21000000a07d2202000100000000000000000000000400030203020000",
        "6644242382007064640e721221008492261704300050059de7c930894d0d5e5aab82e4d9eefe39d0b338f936c0db728d6786"
        "698b5c0b4b88e516611072a991fd1fbfd2a5b8bee9f9c6bf0ce56ae94e2cf7c75b250bfd8ed0f2ec0b9c5f3adc3f7cfa3268"
        "57c98d",
    ]
    assert out[1]["error"].startswith("encrypted, no key for meter")
    assert -16000 < out[0]["freq_offset_hz"] < -9000


def test_replay_from_stdin_and_truncated_input():
    data = SAMPLE.read_bytes()
    proc = sdr_wmbus("replay", "-", "--format", "cu8", "--rate", "1.6M", "-q", stdin=data + b"\x80")
    assert proc.returncode == 1
    assert len(json_lines(proc)) == 7  # everything before the stray byte is decoded
    err = proc.stderr.decode().strip()
    assert err.endswith(
        "truncated IQ file: 1 bytes at the end do not make a whole sample (all whole samples were decoded)"
    )
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "/nonexistent.cu8", "--rate", "1.6M"], "cannot open"),
        (["replay", "-", "--format", "cu8"], "sample rate"),
        (["replay", str(SAMPLE), "--rate", "250k"], "outside 0.8-3.2 Msps"),
        (["replay", str(SAMPLE), "--modes", "x"], "--modes"),
        (["replay", str(SAMPLE), "--rate", "fast"], "--rate"),
    ],
)
def test_replay_errors_are_one_line(args, message):
    proc = sdr_wmbus(*args, stdin=b"")
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_synth_then_replay_round_trip(tmp_path):
    out = tmp_path / "test.cs16"
    proc = sdr_wmbus(
        "synth",
        str(out),
        "--rate",
        "2.4M",
        "--mode",
        "c",
        "--frame-format",
        "B",
        "--ecn0",
        "14",
        "--offset=-30k:30k",
        "--ppm=-200:200",
        "--seed",
        "5",
    )
    assert proc.returncode == 0, proc.stderr
    sent = [json.loads(line) for line in Path(str(out) + ".telegrams.jsonl").read_text().splitlines()]
    replay = sdr_wmbus("replay", str(out), "--rate", "2.4M", "-q")
    assert replay.returncode == 0, replay.stderr
    got = json_lines(replay)
    assert [g["raw"].upper() for g in got] == [s["hex"].upper() for s in sent]
    assert {g["frame_format"] for g in got} == {"B"}


def test_bench_reports_throughput(tmp_path):
    proc = sdr_wmbus("bench", str(SAMPLE), "--repeat", "1")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert "7 telegrams decoded" in text
    assert "x real time at 1.6 Msps" in text and "complex samples/s" in text


def test_replay_max_offset_hears_a_carrier_150_khz_off(tmp_path):
    out = tmp_path / "far_1M6.cu8"
    synth = sdr_wmbus("synth", str(out), "--offset", "150k", "--ecn0", "15", "--mode", "mixed")
    assert synth.returncode == 0, synth.stderr
    sent = [json.loads(line) for line in Path(f"{out}.telegrams.jsonl").read_text().splitlines()]
    wide = sdr_wmbus("replay", str(out), "--rate", "1.6M", "--raw-only", "--max-offset", "150k", "-q")
    assert wide.returncode == 0, wide.stderr
    got = json_lines(wide)
    assert [g["raw"] for g in got] == [s["hex"].lower() for s in sent]
    assert all(abs(g["freq_offset_hz"] - 150e3) < 5e3 for g in got)
    narrow = sdr_wmbus("replay", str(out), "--rate", "1.6M", "--raw-only", "-q")
    assert len(json_lines(narrow)) < len(sent)


def test_replay_max_offset_errors_and_band_warning(tmp_path):
    bad = sdr_wmbus("replay", str(SAMPLE), "--max-offset", "2M")
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == "sdr-wmbus: error: --max-offset: expected 0 to 500k Hz, got '2M'"
    # 1 Msps tuned for all three modes: T1/C1 sit at +325 kHz, no room above them for a side channel
    out = tmp_path / "x.cu8"
    synth = sdr_wmbus("synth", str(out), "--rate", "1M", "--center", "868.625M")
    assert synth.returncode == 0, synth.stderr
    warn = sdr_wmbus(
        "replay", str(out), "--rate", "1M", "--center", "868.625M", "--max-offset", "150k", "--raw-only"
    )
    assert warn.returncode == 0
    assert "warning: T1/C1 carriers received within -170..+60 kHz only" in warn.stderr.decode()


def test_replay_counts_add_up_and_noise_is_not_a_crc_failure(tmp_path):
    """Sync-word hits on noise are not frames lost to CRC errors, and per-mode frames add up to the
    telegrams plus the duplicates (the issue: "3 CRC failures" for a clean sample)."""
    import numpy as np

    noise = (np.random.default_rng(3).integers(120, 136, size=2 * 1_600_000)).astype(np.uint8)
    path = tmp_path / "rtlsdr_868.950M_1M6_noise.cu8"
    path.write_bytes(noise.tobytes())
    proc = sdr_wmbus("replay", str(path))
    summary = proc.stderr.decode()
    assert "0 frames (T1 0, C1 0) = 0 telegrams + 0 duplicates; 0 lost to CRC errors" in summary, summary
    assert "sync hits on noise" in summary


def test_ctrl_c_in_replay_prints_the_summary():
    import signal
    import threading
    import time

    command = [sys.executable, "-m", "sdr_wmbus", "replay", "-", "--format", "cu8", "--rate", "1.6M"]
    proc = subprocess.Popen(
        [*command, "--meters", str(METERS), "--output-format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
    # the telegrams and a second of quiet after them; then the stream stays open, as a live pipe does
    proc.stdin.write(SAMPLE.read_bytes() + bytes([128]) * 2 * 1_600_000)
    proc.stdin.flush()
    deadline = time.monotonic() + 90
    while len(lines) < 7 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    reader.join(5)
    assert len(lines) == 7
    assert proc.returncode == 130
    assert b"7 frames (T1 4, C1 3)" in err and b"(interrupted)" in err and b"Traceback" not in err
