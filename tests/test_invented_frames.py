"""Frames the radio must not invent (hardening issue, PHY fuzzer): a first block that fits its 16-bit
CRC by chance but holds a header no device sends, a frame read on into silence whose CRCs fit by
chance, and the exact fuzzer inputs that made such frames (replayed from their seed). Every real
telegram of the corpus, the fixtures and the IQ recording must still pass the header check."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.frame import Frame
from sdr_wmbus.link.dll import plausible_link_header
from sdr_wmbus.phy.encode import c1_chips, s1_chips, t1_chips
from sdr_wmbus.phy.receiver import T1C1Receiver
from sdr_wmbus.phy.receiver_s1 import S1Receiver
from sdr_wmbus.phy.streaming import ReceiverStats
from sdr_wmbus.synth import modulate_fsk
from sdr_wmbus.tables.ci_fields import C_FIELDS
from sdr_wmbus.tables.manufacturers import manufacturer_letters_valid
from sdr_wmbus.tables.phy import (
    CENTER_S1_HZ,
    CHIP_RATE_S1,
    CHIP_RATE_T1,
    DEVIATION_C1_HZ,
    DEVIATION_S1_HZ,
    DEVIATION_T1_HZ,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzz  # noqa: E402

RATE = 1.6e6
TELEGRAM_FILES = [
    ROOT.parent / "shared" / "corpus" / "telegrams.jsonl",
    ROOT.parent / "shared" / "corpus" / "telegrams_edge_cases.jsonl",
    ROOT / "tests" / "fixtures" / "telegrams.jsonl",
]
# The two telegrams of the real recording (shared/corpus/iq/MANIFEST.md), as in test_receiver.py.
RECORDED = [
    "294468502300207172f0a0009f21000000a07d2202000100000000000000000000000400030203020000",
    "6644242382007064640e721221008492261704300050059de7c930894d0d5e5aab82e4d9eefe39d0b338f936c0db728d",
]
# A real QDS heat cost allocator telegram (corpus), plain: it decodes to a reading.
QDS = bytes.fromhex(
    "3e44934486707945211a7801fd08f081027c034955230082026cffff81037c034c41230082036cffff03fd1700000032"
    "6cffff046d0f0abc2b02fdac7e1100"
)
# What the fuzzer's C1 receiver made of sync words sent over and over (input 2:41022 below): L = 0x53,
# C = 0x54 (no function), its 84 bytes fitting their format-B CRC by chance.
JUNK_B = bytes.fromhex(
    "53542aaaaaaaaa15555555550aaaaaaaaa855555555542aaaaaaaaa155555555506c6926b53c694017fd063382a2a43cf"
    "6343dc473f7babaeef642204f1e975b1f709987c86649cc99f68f381d2b170424e80238"
)


def radio_telegrams() -> list[str]:
    """Every telegram of the corpus and the fixtures that a radio carries (L + 1 bytes, not wired)."""
    found = []
    for path in TELEGRAM_FILES:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            try:
                data = bytes.fromhex(json.loads(line)["telegram"])
            except (ValueError, KeyError):
                continue
            if len(data) >= 11 and data[0] + 1 == len(data):
                found.append(data.hex())
    return found


def test_every_real_telegram_has_a_plausible_link_header():
    telegrams = radio_telegrams() + RECORDED
    assert len(telegrams) > 100  # the fixtures alone hold more
    refused = [hex_ for hex_ in telegrams if not plausible_link_header(bytes.fromhex(hex_))]
    assert refused == []


def test_c_fields_no_device_sends_are_refused():
    header = bytearray(QDS[:10])
    accepted = []
    for c_field in range(256):
        header[1] = c_field
        if plausible_link_header(bytes(header)):
            accepted.append(c_field)
    assert accepted == sorted(C_FIELDS)
    # EN 13757-4's functions from meters (and their responses' ACD/DFC variants) and to meters:
    for c_field in (0x44, 0x46, 0x47, 0x48, 0x08, 0x18, 0x28, 0x38, 0x00, 0x10, 0x40, 0x53, 0x73, 0x5B, 0x7B):
        assert c_field in C_FIELDS
    assert 0x54 not in C_FIELDS and 0x45 not in C_FIELDS  # what the fuzzer's junk had


@pytest.mark.parametrize(
    ("wire", "valid"),
    [
        ("2d2c", True),  # KAM
        ("1486", True),  # APT with bit 15 set, as Apator meters send it (corpus)
        ("0186", True),  # APA, bit 15 set
        ("1344", False),  # 0x4413: middle letter 0 ('@'), QDS with one bit lost
        ("ffff", False),  # letters 31
        ("0000", False),
        ("5b6b", False),  # 0x6B5B: first letter 26 (Z), middle 26 (Z), last 27
    ],
)
def test_manufacturer_must_spell_three_letters(wire: str, valid: bool):
    value = int.from_bytes(bytes.fromhex(wire), "little")
    assert manufacturer_letters_valid(value) is valid
    assert plausible_link_header(bytes([10, 0x44]) + bytes.fromhex(wire) + bytes(6)) is valid


# ------------------------------------------------------------------------------------------------ radio
MODES = {  # mode -> (chips of a burst, receiver, chip rate, deviation, chips per byte)
    "T1": (t1_chips, lambda: T1C1Receiver(RATE), CHIP_RATE_T1, DEVIATION_T1_HZ, 12),
    "C1-A": (lambda f: c1_chips(f, "A"), lambda: T1C1Receiver(RATE), CHIP_RATE_T1, DEVIATION_C1_HZ, 8),
    "C1-B": (lambda f: c1_chips(f, "B"), lambda: T1C1Receiver(RATE), CHIP_RATE_T1, DEVIATION_C1_HZ, 8),
    "S1": (s1_chips, lambda: S1Receiver(RATE, CENTER_S1_HZ), CHIP_RATE_S1, DEVIATION_S1_HZ, 16),
}


def receive(mode: str, frame: bytes, fade_after_byte: int | None = None) -> tuple[list[Frame], ReceiverStats]:
    """One clean burst of ``frame`` (CRCs added) in light noise; with ``fade_after_byte``, the chips
    from that byte of the frame on sent 26 dB weaker (still 20 dB above the noise: every chip is
    decided right, so the CRCs fit)."""
    make, receiver_for, chip_rate, deviation, per_byte = MODES[mode]
    chips = make(frame)
    iq = modulate_fsk(chips, RATE, chip_rate, deviation)
    if fade_after_byte is not None:
        cut = int((first_frame_chip(mode, frame) + fade_after_byte * per_byte) * RATE / chip_rate)
        iq[cut:] *= 0.05
    rng = np.random.default_rng(5)
    quiet = np.zeros(20000, dtype=np.complex64)
    signal = np.concatenate([quiet, iq, quiet])
    signal = signal + 0.0005 * (rng.standard_normal(len(signal)) + 1j * rng.standard_normal(len(signal)))
    receiver = receiver_for()
    frames = receiver.process(signal.astype(np.complex64)) + receiver.flush()
    return frames, receiver.stats


def first_frame_chip(mode: str, frame: bytes) -> int:
    """About where the frame's bytes (L first) begin in its burst's chips (to within a code word):
    the bursts of two frames that differ in C first differ one byte after that."""
    make, per_byte = MODES[mode][0], MODES[mode][4]
    a, b = make(frame), make(frame[:1] + bytes([frame[1] ^ 0x80]) + frame[2:])
    return int(np.argmax(a != b)) - per_byte


@pytest.mark.parametrize("mode", list(MODES))
def test_a_frame_is_received_whole_and_refused_when_it_runs_into_silence(mode: str):
    """The same burst: whole, it is received; with its second half 26 dB down (a burst cut short and
    noise or another burst after it), its CRCs still fit here, but it is not one burst: refused."""
    frames, _ = receive(mode, QDS)
    assert [f.data for f in frames] == [QDS]
    frames, stats = receive(mode, QDS, fade_after_byte=30)
    assert frames == []
    assert stats.crc_failures == 1


def test_a_header_no_device_sends_is_a_sync_hit_on_noise():
    """The fuzzer's C1 junk as a clean burst with a valid CRC: C = 0x54 is no function, so it is not a
    frame (counted as a sync hit on noise); with a meter's header the same burst is received."""
    frames, stats = receive("C1-B", JUNK_B)
    assert frames == []
    assert stats.false_syncs >= 1  # and more: the junk holds sync words of its own
    meter = JUNK_B[:1] + QDS[1:10] + JUNK_B[10:]
    frames, _ = receive("C1-B", meter)
    assert [f.data for f in frames] == [meter]


# Inputs of `python3 benchmarks/fuzz.py --phy 100000 --workers 2` (seed 1: runs 1 and 2) after which
# the receiver, before these checks, put out a frame that was never sent: (run, input, samples before
# it) as the fuzzer prints them. Replayed from six inputs before, on a receiver started in the same
# phase of its decimation, they gave the same frames.
FOUND = [
    (
        1,
        4566,
        156433411,
    ),  # C1-B junk from sync words sent over and over, its CRC fitting over the noise after
    (1, 9799, 339958440),
    (1, 11923, 413619367),
    (1, 12910, 447360890),
    (1, 18049, 625501535),
    (1, 28852, 1001197083),
    (1, 35354, 1227526552),
    (1, 45464, 1581020745),  # C = 0x45
    (2, 2990, 104834257),  # a real header (KAM), then noise
    (2, 41022, 1422219784),  # JUNK_B
]


@pytest.mark.parametrize(("run", "number", "samples"), FOUND, ids=[f"{r}:{n}" for r, n, _ in FOUND])
def test_fuzzer_inputs_that_made_invented_frames(run: int, number: int, samples: int):
    frames = fuzz.replay_phy(run, number, samples, before=6)
    transmitted = set(fuzz.phy_frames())
    assert [f.data.hex() for f in frames if f.data not in transmitted] == []


def test_two_chips_151_apart_make_a_frame_that_was_sent_but_names_no_manufacturer():
    """Fuzzer input 2:23221 flipped two chips of a C1 format-B burst of QDS 151 bits apart: the CRC
    cannot see that (x^151 = 1 modulo its polynomial), so the burst carries another valid frame, which
    the fuzzer counts as sent. Its M field lost a bit (0x4493 -> 0x4413: no letter '@'), so the
    radio refuses it anyway; before, it came out and decoded to a reading of manufacturer 'Q@S'."""
    description, _, sent = fuzz.phy_input(2, 23221, fuzz.phy_frames())
    assert "mode c case 0" in description and sent[0] == QDS
    flipped = sent[1]
    assert [i for i in range(len(QDS)) if QDS[i] != flipped[i]] == [2, 20] and flipped[2] == 0x13
    assert "error" not in TelegramDecoder().decode(Frame(flipped, mode="C1", frame_format="B"))
    frames = fuzz.replay_phy(2, 23226, 809825356, before=6)
    assert flipped not in [f.data for f in frames]
