"""T1/C1 receiver (sdr_wmbus.phy.receiver): real recording, synthetic signals at every supported sample
rate, carrier offset and chip-rate error, block-size independence, false alarms, mode filter, estimates.

Every synthetic signal comes from ``sdr_wmbus.synth.synthesize`` with a fixed seed, so what was sent (and
where, at which offset and Ec/N0) is known exactly and the decoded bytes are compared byte for byte.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sdr_wmbus.frame import Frame
from sdr_wmbus.phy.receiver import T1C1Receiver
from sdr_wmbus.sources import open_iq
from sdr_wmbus.synth import DEFAULT_TELEGRAMS, synthesize
from sdr_wmbus.tables.phy import CHIP_RATE_T1

SHARED_IQ = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "iq"
REAL_RECORDING = SHARED_IQ / "rtlwmbus_samples2_T1_868.95M_1600k.cu8"
# The two CRC-valid telegrams of the recording, from shared/corpus/iq/MANIFEST.md: (from, to) in seconds.
REAL_TELEGRAMS = {
    "TCH": (
        "294468502300207172f0a0009f21000000a07d2202000100000000000000000000000400030203020000",
        (0.239, 0.246),
    ),
    "HYD": (
        "6644242382007064640e721221008492261704300050059de7c930894d0d5e5aab82e4d9eefe39d0b338f936c0db728d"
        "6786698b5c0b4b88e516611072a991fd1fbfd2a5b8bee9f9c6bf0ce56ae94e2cf7c75b250bfd8ed0f2ec0b9c5f3adc3f7c"
        "fa326857c98d",
        (0.456, 0.470),
    ),
}

RATES = [1.0e6, 1.6e6, 2.0e6, 2.4e6, 3.2e6]
RATE_IDS = [f"{rate / 1e6:.1f}M" for rate in RATES]
# (synthesize mode, frame format): the three on-air forms the receiver handles.
AIR_FORMATS = [("t", "A"), ("c", "A"), ("c", "B")]
AIR_IDS = ["T1", "C1-A", "C1-B"]


def telegram(length: int, seed: int) -> bytes:
    """A CRC-free frame of ``length`` bytes: valid link header (SND_NR, KAM 12345678, water), short TPL
    header (CI 0x7A, no encryption), then random payload from ``seed``."""
    header = bytes.fromhex("442D2C7856341201077A2A000000")  # C M A CI ACC STS CFG
    if length < 1 + len(header):
        raise ValueError(f"telegram of {length} bytes is shorter than its header")
    payload = np.random.default_rng(seed).integers(0, 256, length - 1 - len(header), dtype=np.uint8)
    return bytes([length - 1]) + header + payload.tobytes()


SHORT = telegram(20, seed=1)
LONG = telegram(231, seed=2)  # L = 230: 15 blocks in format A, 3,000+ chips in T1


def receive(iq: np.ndarray, rate: float, block: int | None = 65536, modes: str = "tc", **kwargs):
    """Every frame the receiver gives for ``iq`` fed in ``block``-sample chunks (None: all at once)."""
    receiver = T1C1Receiver(rate, modes=modes, **kwargs)
    frames: list[Frame] = []
    step = len(iq) if block is None else block
    for pos in range(0, len(iq), max(step, 1)):
        frames += receiver.process(iq[pos : pos + step])
    frames += receiver.flush()
    return frames, receiver


def hexes(frames: list[Frame]) -> list[str]:
    return [frame.data.hex().upper() for frame in frames]


def sent_hexes(sent: list[dict]) -> list[str]:
    return [entry["hex"] for entry in sent]


def chip_samples(rate: float) -> float:
    return rate / CHIP_RATE_T1


def assert_frames_match(frames: list[Frame], sent: list[dict], rate: float) -> None:
    """Exactly the sent telegrams, in order, once each, with their mode, format and position."""
    assert hexes(frames) == sent_hexes(sent)
    for frame, entry in zip(frames, sent, strict=True):
        assert frame.mode == entry["mode"]
        assert frame.frame_format == entry["frame_format"]
        # "Near the sync": within the preamble's last 16 chips before the sync word, never after it.
        chip = chip_samples(rate)
        assert entry["sync_sample"] - 16 * chip <= frame.sample <= entry["sync_sample"] + chip
        assert frame.time == pytest.approx(frame.sample / rate)


# --------------------------------------------------------------------------- 1. real recording


@pytest.mark.parametrize("block", [16384, 262144], ids=["block16k", "block256k"])
def test_real_recording_decodes_both_manifest_telegrams(block: int):
    if not REAL_RECORDING.exists():
        pytest.skip(f"shared corpus absent: {REAL_RECORDING}")
    with open_iq(str(REAL_RECORDING)) as source:
        assert source.info.rate == 1.6e6
        receiver = T1C1Receiver(source.info.rate, center=source.info.center)
        frames = []
        for chunk in source.blocks(block):
            frames += receiver.process(chunk)
        frames += receiver.flush()
    expected = [hex_text.upper() for hex_text, _ in REAL_TELEGRAMS.values()]
    assert hexes(frames) == expected
    for frame, (_, (start_s, end_s)) in zip(frames, REAL_TELEGRAMS.values(), strict=True):
        assert (frame.mode, frame.frame_format) == ("T1", "A")
        assert start_s - 0.002 <= frame.time <= end_s
        assert -14_500 <= frame.freq_offset_hz <= -10_500  # the carrier sits about -11 kHz from centre
    techem, hydrometer = frames
    assert techem.rssi_dbfs > hydrometer.rssi_dbfs  # MANIFEST: TCH strong, HYD weak
    assert receiver.stats.frames_t1 == 2 and receiver.stats.frames_c1 == 0


# --------------------------------------------------------------------------- 2. every rate, mode, format


@pytest.mark.parametrize(("mode", "frame_format"), AIR_FORMATS, ids=AIR_IDS)
@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_short_and_long_frames_decode_exactly_at_every_rate(rate: float, mode: str, frame_format: str):
    iq, sent = synthesize(
        [SHORT, LONG, SHORT], mode=mode, frame_format=frame_format, sample_rate=rate, ecn0_db=20.0, seed=3
    )
    frames, receiver = receive(iq, rate)
    assert_frames_match(frames, sent, rate)
    assert receiver.stats.frames_t1 + receiver.stats.frames_c1 == 3


LENGTH_CASES = [
    pytest.param(mode, frame_format, length, id=f"{air_id}-len{length}")
    for (mode, frame_format), air_id in zip(AIR_FORMATS, AIR_IDS, strict=True)
    for length in (10, 11, 125, 126, 127, 128, 252, 256)
    # Format B: L >= 12 (a CI field after the link header) and at most 252 CRC-free bytes (L = 255).
    if frame_format == "A" or 11 <= length <= 252
]


@pytest.mark.parametrize(("mode", "frame_format", "length"), LENGTH_CASES)
def test_frame_length_limits(mode: str, frame_format: str, length: int):
    """Shortest frames, the format-B block-1/2 boundary (126 CRC-free bytes) and the longest frames
    (L = 255 in format A, L = 251 CRC-free / 255 on air in format B)."""
    frame = telegram(length, seed=length) if length >= 15 else telegram(15, seed=length)[:length]
    frame = bytes([length - 1]) + frame[1:]
    iq, sent = synthesize([frame], mode=mode, frame_format=frame_format, sample_rate=1.6e6, seed=length)
    frames, _ = receive(iq, 1.6e6)
    assert_frames_match(frames, sent, 1.6e6)


@pytest.mark.parametrize(("mode", "frame_format"), AIR_FORMATS, ids=AIR_IDS)
def test_frames_touching_both_ends_of_the_stream(mode: str, frame_format: str):
    """No lead-in, no gap: the first preamble starts at sample 0 and the last burst ends the stream."""
    iq, sent = synthesize(
        [SHORT, LONG], mode=mode, frame_format=frame_format, sample_rate=2.4e6, lead_s=0.0, gap_s=0.0, seed=4
    )
    assert sent[-1]["end_sample"] == len(iq)
    frames, _ = receive(iq, 2.4e6, block=4096)
    assert_frames_match(frames, sent, 2.4e6)


@pytest.mark.parametrize("center", [868.90e6, 869.00e6], ids=["tuned-50k", "tuned+50k"])
def test_receiver_retunes_from_another_centre(center: float):
    iq, sent = synthesize(
        [SHORT, LONG, SHORT, LONG], mode="mixed", sample_rate=1.6e6, center=center, ecn0_db=20.0, seed=5
    )
    frames, _ = receive(iq, 1.6e6, center=center)
    assert_frames_match(frames, sent, 1.6e6)
    for frame, entry in zip(frames, sent, strict=True):
        assert frame.freq_offset_hz == pytest.approx(entry["offset_hz"], abs=3000)


# --------------------------------------------------------------------------- 3. offset and chip-rate error


@pytest.mark.parametrize("ppm", [-300.0, 300.0], ids=["-300ppm", "+300ppm"])
@pytest.mark.parametrize("offset_hz", [-40e3, 40e3], ids=["-40kHz", "+40kHz"])
@pytest.mark.parametrize(("mode", "frame_format"), AIR_FORMATS, ids=AIR_IDS)
def test_offset_and_chip_rate_corners_at_14db(mode: str, frame_format: str, offset_hz: float, ppm: float):
    iq, sent = synthesize(
        [LONG, SHORT, LONG],
        mode=mode,
        frame_format=frame_format,
        sample_rate=1.6e6,
        offset_hz=offset_hz,
        ppm=ppm,
        ecn0_db=14.0,
        seed=7,
    )
    frames, _ = receive(iq, 1.6e6)
    assert_frames_match(frames, sent, 1.6e6)


# --------------------------------------------------------------------------- 4. block-size independence


@cache
def block_test_signal(name: str) -> tuple[np.ndarray, float, tuple[dict, ...]]:
    if name == "long":
        # ~0.4 s at 1 Msps: the receiver trims its buffers several times; noise, offsets, chip-rate errors.
        rate = 1.0e6
        telegrams = [SHORT, LONG, bytes.fromhex(DEFAULT_TELEGRAMS[0]), LONG, SHORT]
        telegrams += [bytes.fromhex(DEFAULT_TELEGRAMS[1]), LONG, SHORT, LONG, SHORT]
        iq, sent = synthesize(
            telegrams,
            mode="mixed",
            frame_format="B",
            sample_rate=rate,
            offset_hz=(-40e3, 40e3),
            ppm=(-300.0, 300.0),
            ecn0_db=14.0,
            gap_s=0.013,
            seed=21,
        )
    else:
        # A T1 and a C1 burst close together, short enough for one-sample blocks.
        rate = 1.6e6
        iq, sent = synthesize(
            [SHORT, telegram(16, seed=6)],
            mode="mixed",
            sample_rate=rate,
            offset_hz=(-20e3, 20e3),
            ecn0_db=16.0,
            gap_s=0.002,
            lead_s=0.001,
            seed=22,
        )
    return iq, rate, tuple(sent)


def frame_keys(frames: list[Frame]) -> list[tuple]:
    return [(frame.data, frame.mode, frame.frame_format, frame.sample) for frame in frames]


@pytest.mark.parametrize(
    ("signal", "block"),
    [
        ("long", 13),
        ("long", 777),
        ("long", 4096),
        ("long", 65536),
        ("short", 1),
        ("short", 7),
        ("short", 4095),
    ],
    ids=lambda value: f"block{value}" if isinstance(value, int) else value,
)
def test_frames_do_not_depend_on_block_size(signal: str, block: int):
    iq, rate, sent = block_test_signal(signal)
    whole, _ = receive(iq, rate, block=None)
    assert_frames_match(whole, list(sent), rate)
    chunked, _ = receive(iq, rate, block=block)
    assert frame_keys(chunked) == frame_keys(whole)


# --------------------------------------------------------------------------- 5. no false frames


def test_noise_alone_gives_no_frames():
    rate = 1.6e6
    rng = np.random.default_rng(5)
    noise = rng.standard_normal(2 * int(4.0 * rate), dtype=np.float32).view(np.complex64) * np.float32(0.1)
    frames, receiver = receive(noise, rate)
    assert frames == []
    assert receiver.stats.frames_t1 == receiver.stats.frames_c1 == 0
    assert receiver.stats.candidates > 0  # the search did look at the noise


def test_all_zero_input_gives_no_frames():
    frames, receiver = receive(np.zeros(int(1.6e6), dtype=np.complex64), 1.6e6)
    assert frames == []
    assert receiver.stats.candidates == 0


@pytest.mark.parametrize("noisy", [False, True], ids=["clean", "noisy"])
def test_unmodulated_carrier_gives_no_frames(noisy: bool):
    rate = 1.6e6
    n = np.arange(int(2.0 * rate))
    carrier = (0.9 * np.exp(2j * np.pi * 20e3 * n / rate)).astype(np.complex64)
    if noisy:
        rng = np.random.default_rng(6)
        carrier += rng.standard_normal(2 * len(n), dtype=np.float32).view(np.complex64) * np.float32(0.05)
    frames, _ = receive(carrier, rate)
    assert frames == []


# --------------------------------------------------------------------------- 6. mode filter


@pytest.mark.parametrize("frame_format", ["A", "B"], ids=["C1-A", "C1-B"])
@pytest.mark.parametrize("modes", ["tc", "t", "c"], ids=["modes-tc", "modes-t", "modes-c"])
def test_modes_filter(modes: str, frame_format: str):
    iq, sent = synthesize(
        [SHORT, LONG, LONG, SHORT], mode="mixed", frame_format=frame_format, sample_rate=1.6e6,
        ecn0_db=18.0, gap_s=0.002, seed=8,
    )  # fmt: skip
    frames, receiver = receive(iq, 1.6e6, modes=modes)
    wanted = [entry for entry in sent if entry["mode"][0].lower() in modes]
    assert_frames_match(frames, wanted, 1.6e6)
    if "t" not in modes:
        assert receiver.stats.frames_t1 == 0
    if "c" not in modes:
        assert receiver.stats.frames_c1 == 0


# --------------------------------------------------------------------------- 7. SNR and offset estimates


@cache
def estimate_signal(mode: str, ecn0_db: float) -> tuple[list[Frame], list[dict]]:
    """24 short frames at random offsets (+-40 kHz) and chip-rate errors, decoded."""
    iq, sent = synthesize(
        [SHORT] * 24,
        mode=mode,
        sample_rate=1.6e6,
        offset_hz=(-40e3, 40e3),
        ppm=(-300.0, 300.0),
        ecn0_db=ecn0_db,
        gap_s=0.002,
        seed=31,
    )
    frames, _ = receive(iq, 1.6e6)
    # At 10 dB a C1 frame may be lost now and then (NRZ, Eb/N0 = Ec/N0); pair frames with what was sent.
    matched = []
    for frame in frames:
        entry = min(sent, key=lambda e: abs(e["sync_sample"] - frame.sample))
        assert frame.data.hex().upper() == entry["hex"]
        matched.append(entry)
    assert len({entry["index"] for entry in matched}) == len(frames) >= 21
    return frames, matched


@pytest.mark.parametrize(
    ("mode", "ecn0_db"),
    [
        pytest.param("t", 10.0, id="T1-10dB"),
        pytest.param("t", 16.0, id="T1-16dB"),
        pytest.param("c", 10.0, id="C1-10dB"),
        pytest.param("c", 16.0, id="C1-16dB"),
    ],
)
def test_snr_tracks_ecn0(mode: str, ecn0_db: float):
    frames, _ = estimate_signal(mode, ecn0_db)
    snr = np.array([frame.snr_db for frame in frames])
    assert np.all(np.abs(snr - ecn0_db) <= 3.0), snr.round(1)
    assert abs(float(np.mean(snr)) - ecn0_db) <= 2.0, snr.round(1)  # no systematic bias


@pytest.mark.parametrize(
    ("mode", "ecn0_db"),
    [
        pytest.param("t", 10.0, id="T1-10dB"),
        pytest.param("t", 16.0, id="T1-16dB"),
        pytest.param("c", 10.0, id="C1-10dB"),
        pytest.param("c", 16.0, id="C1-16dB"),
    ],
)
def test_freq_offset_estimate(mode: str, ecn0_db: float):
    frames, sent = estimate_signal(mode, ecn0_db)
    pairs = zip(frames, sent, strict=True)
    errors = np.array([frame.freq_offset_hz - entry["offset_hz"] for frame, entry in pairs])
    assert np.all(np.abs(errors) <= 3000.0), errors.round()


# --------------------------------------------------------------------------- 8. mixed, close together


@pytest.mark.parametrize("gap_s", [0.001, 0.0], ids=["gap1ms", "gap0"])
@pytest.mark.parametrize("frame_format", ["A", "B"], ids=["C1-A", "C1-B"])
@pytest.mark.parametrize("rate", [1.0e6, 1.6e6, 3.2e6], ids=["1.0M", "1.6M", "3.2M"])
def test_mixed_t1_and_c1_close_together(rate: float, frame_format: str, gap_s: float):
    telegrams = [SHORT, LONG, LONG, SHORT, telegram(40, seed=9), bytes.fromhex(DEFAULT_TELEGRAMS[1])]
    iq, sent = synthesize(
        telegrams, mode="mixed", frame_format=frame_format, sample_rate=rate, gap_s=gap_s,
        offset_hz=(-20e3, 20e3), ecn0_db=16.0, seed=10,
    )  # fmt: skip
    assert [entry["mode"] for entry in sent] == ["T1", "C1"] * 3
    frames, receiver = receive(iq, rate, block=8192)
    assert_frames_match(frames, sent, rate)  # all of them, in order, none twice
    assert (receiver.stats.frames_t1, receiver.stats.frames_c1) == (3, 3)


# --------------------------------------------------------------------------- Frame.sample contract


@pytest.mark.parametrize(("mode", "frame_format"), AIR_FORMATS, ids=AIR_IDS)
def test_sample_is_the_first_sample_of_the_sync_word(mode: str, frame_format: str):
    rate = 1.6e6
    iq, sent = synthesize([SHORT], mode=mode, frame_format=frame_format, sample_rate=rate, seed=12)
    frames, _ = receive(iq, rate)
    assert hexes(frames) == sent_hexes(sent)
    assert abs(frames[0].sample - sent[0]["sync_sample"]) <= chip_samples(rate)
