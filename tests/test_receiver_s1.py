"""Mode S1 (sdr_wmbus.phy.receiver_s1) and all three modes from one tuning (phy.combined).

Synthetic signals from ``sdr_wmbus.synth.synthesize`` with fixed seeds: what was sent is known exactly,
and the decoded bytes are compared byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sdr_wmbus.phy.combined import CombinedReceiver
from sdr_wmbus.phy.encode import manchester_chips, s1_chips
from sdr_wmbus.phy.receiver_s1 import S1Receiver
from sdr_wmbus.synth import synthesize
from sdr_wmbus.tables.phy import CENTER_T1_C1_S1_HZ

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
RATES = [1.0e6, 1.6e6, 2.0e6, 2.4e6, 3.2e6]


def telegram(length: int, seed: int) -> bytes:
    """A CRC-free frame: SND_NR from KAM 12345678 (water), short TPL header, random payload."""
    header = bytes.fromhex("442D2C7856341201077A2A000000")
    payload = np.random.default_rng(seed).integers(0, 256, length - 1 - len(header), dtype=np.uint8)
    return bytes([length - 1]) + header + payload.tobytes()


SHORT = telegram(20, seed=11)
LONG = telegram(231, seed=12)


def receive(receiver, iq: np.ndarray, block: int | None = 65536):
    frames = []
    step = len(iq) if block is None else block
    for i in range(0, len(iq), max(1, step)):
        frames += receiver.process(iq[i : i + step])
    return frames + receiver.flush()


def test_manchester_line_code():
    # spec 1.2: byte 0x44 -> chips 1001101010011010 (bit 1 = "01", bit 0 = "10", MSB first)
    assert "".join(map(str, manchester_chips(b"\x44"))) == "1001101010011010"
    chips = s1_chips(SHORT, preamble_pairs=15)
    assert "".join(map(str, chips[30:48])) == "000111011010010110"  # the S sync after 15 x "01"
    assert len(chips) == 30 + 18 + 16 * (len(SHORT) + 4) + 4  # two blocks, each with its 2-byte CRC


@pytest.mark.parametrize("rate", RATES, ids=[f"{r / 1e6:.1f}M" for r in RATES])
def test_s1_short_and_long_frames_at_every_rate(rate):
    # tuned to 868.625 MHz (S1 at -325 kHz) where every rate holds the channel
    iq, sent = synthesize(
        [SHORT, LONG], mode="s", sample_rate=rate, center=CENTER_T1_C1_S1_HZ, ecn0_db=14.0, seed=int(rate)
    )
    frames = receive(S1Receiver(rate, CENTER_T1_C1_S1_HZ), iq)
    assert [f.data for f in frames] == [SHORT, LONG]
    assert all(f.mode == "S1" and f.frame_format == "A" for f in frames)
    for frame, record in zip(frames, sent, strict=True):
        assert abs(frame.sample - record["sync_sample"]) <= rate / 32768  # within a chip
        assert abs(frame.snr_db - 14.0) < 2.0


@pytest.mark.parametrize("offset", [-40e3, 40e3])
@pytest.mark.parametrize("ppm", [-300.0, 300.0])
def test_s1_offset_and_chip_rate_corners(offset, ppm):
    iq, _ = synthesize([LONG, SHORT], mode="s", sample_rate=1.6e6, offset_hz=offset, ppm=ppm, ecn0_db=16.0)
    frames = receive(S1Receiver(1.6e6), iq)  # tuned to 868.95 MHz: S1 at -650 kHz
    assert [f.data for f in frames] == [LONG, SHORT]
    assert all(abs(f.freq_offset_hz - offset) < 5e3 for f in frames)


def test_s1_frames_do_not_depend_on_block_size():
    iq, _ = synthesize([SHORT, LONG, SHORT], mode="s", sample_rate=1.6e6, ecn0_db=12.0, seed=5)
    reference = [(f.data, f.sample) for f in receive(S1Receiver(1.6e6), iq, block=None)]
    assert [d for d, _ in reference] == [SHORT, LONG, SHORT]
    for block in (1000, 4099, 65536, 300001):
        assert [(f.data, f.sample) for f in receive(S1Receiver(1.6e6), iq, block=block)] == reference


def test_s1_noise_alone_gives_nothing():
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal(3_200_000) + 1j * rng.standard_normal(3_200_000)).astype(np.complex64) * 0.1
    assert receive(S1Receiver(1.6e6), noise) == []


def test_all_three_modes_from_one_tuning():
    telegrams = [telegram(30 + 10 * i, seed=20 + i) for i in range(6)]
    iq, sent = synthesize(
        telegrams,
        mode="all",
        sample_rate=1.6e6,
        center=CENTER_T1_C1_S1_HZ,
        offset_hz=(-20e3, 20e3),
        ppm=(-100.0, 100.0),
        ecn0_db=13.0,
        seed=8,
    )
    receiver = CombinedReceiver(1.6e6, CENTER_T1_C1_S1_HZ, "tcs")
    frames = receive(receiver, iq)
    assert sorted((f.mode, f.data) for f in frames) == sorted(
        (s["mode"], bytes.fromhex(s["hex"])) for s in sent
    )
    assert {f.mode for f in frames} == {"T1", "C1", "S1"}
    stats = receiver.stats
    assert (stats.frames_t1, stats.frames_c1, stats.frames_s1) == (2, 2, 2)
    # and with S1 left out, only T1 and C1
    only_tc = receive(CombinedReceiver(1.6e6, CENTER_T1_C1_S1_HZ, "tc"), iq)
    assert sorted(f.mode for f in only_tc) == ["C1", "C1", "T1", "T1"]


def test_replay_modes_t_c_s_from_the_command_line(tmp_path):
    out = tmp_path / "all_868.625M_1M6.cu8"
    run = [sys.executable, "-m", "sdr_wmbus"]
    telegrams = str(SAMPLES / "telegrams.txt")
    args = ["synth", str(out), "--mode", "all", "--center", "868.625M", "--ecn0", "14"]
    synth = subprocess.run([*run, *args, "--telegrams-file", telegrams], capture_output=True, timeout=120)
    assert synth.returncode == 0, synth.stderr
    sent = [json.loads(line) for line in (tmp_path / f"{out.name}.telegrams.jsonl").read_text().splitlines()]
    proc = subprocess.run(
        [*run, "replay", str(out), "--rate", "1.6M", "--modes", "t,c,s"], capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert sorted((g["mode"], g["raw"]) for g in got) == sorted((s["mode"], s["hex"].lower()) for s in sent)
    assert "S1 " in proc.stderr.decode()
