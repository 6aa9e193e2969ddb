"""The receivers at the corners of EN 13757-4's tolerances (issue 10): chip-rate error (T +-10 % with
+-3 us jitter per transition, S +-2 %, C), deviation, Gaussian shaping, sync slips, and the chip-rate
error each frame reports.

Synthetic signals from ``sdr_wmbus.synth.synthesize`` with fixed seeds at 15 dB Ec/N0 (where an
unimpaired signal decodes completely): every telegram sent, short (20 bytes) and long (231 bytes),
must come back byte for byte, once, with its mode, and the same whatever the block size.
"""

from __future__ import annotations

import numpy as np
import pytest

from sdr_wmbus.frame import Frame
from sdr_wmbus.phy.combined import CombinedReceiver
from sdr_wmbus.synth import synthesize
from sdr_wmbus.tables.phy import CENTER_T1_C1_S1_HZ


def telegram(length: int, seed: int) -> bytes:
    """A CRC-free frame: SND_NR from KAM 12345678 (water), short TPL header, random payload."""
    header = bytes.fromhex("442D2C7856341201077A2A000000")
    payload = np.random.default_rng(seed).integers(0, 256, length - 1 - len(header), dtype=np.uint8)
    return bytes([length - 1]) + header + payload.tobytes()


SHORT = telegram(20, seed=101)
LONG = telegram(231, seed=102)
RATE = 1.6e6


def receive(iq: np.ndarray, modes: str, center: float, block: int | None = 65536) -> list[Frame]:
    receiver = CombinedReceiver(RATE, center, modes)
    step = len(iq) if block is None else block
    frames = []
    for pos in range(0, len(iq), step):
        frames += receiver.process(iq[pos : pos + step])
    return frames + receiver.flush()


def decode_all(
    mode: str, ecn0_db: float = 15.0, center: float = 868.95e6, block: int | None = 65536, **impairments
):
    """Two short and two long telegrams with the impairments; every one must be received."""
    iq, sent = synthesize(
        [SHORT, LONG, LONG, SHORT], mode=mode, sample_rate=RATE, center=center, ecn0_db=ecn0_db,
        offset_hz=(-20e3, 20e3), seed=17, **impairments,
    )  # fmt: skip
    modes = "s" if mode == "s" else "tc"
    frames = receive(iq, modes, center, block)
    assert [f.data.hex() for f in frames] == [s["hex"].lower() for s in sent]
    assert [f.mode for f in frames] == [s["mode"] for s in sent]
    return frames, sent


# --------------------------------------------------------------------------- chip rate


@pytest.mark.parametrize("percent", [-10.0, 10.0])
def test_t1_at_ten_percent_with_three_microseconds_of_jitter(percent: float):
    frames, sent = decode_all("t", chip_rate_error_pct=percent, jitter_s=3e-6)
    for frame, entry in zip(frames, sent, strict=True):
        bound = 50 if len(frame.data) > 200 else 500
        assert abs(frame.chip_rate_error_ppm - entry["ppm"]) <= bound


@pytest.mark.parametrize("percent", [-12.0, -5.0, 3.0, 12.0])
def test_t1_over_the_acquisition_range(percent: float):
    decode_all("t", chip_rate_error_pct=percent)


@pytest.mark.parametrize("percent", [-2.0, -1.0, 1.0, 2.0])
def test_c1_off_its_chip_rate(percent: float):
    decode_all("c", chip_rate_error_pct=percent)


@pytest.mark.parametrize("percent", [-3.0, -2.0, 2.0, 3.0])
def test_s1_off_its_chip_rate(percent: float):
    decode_all("s", chip_rate_error_pct=percent, center=CENTER_T1_C1_S1_HZ)


@pytest.mark.parametrize(("mode", "percent"), [("t", 7.0), ("t", -3.0), ("c", 1.5), ("s", -2.0)])
def test_chip_rate_error_is_reported(mode: str, percent: float):
    center = CENTER_T1_C1_S1_HZ if mode == "s" else 868.95e6
    frames, sent = decode_all(mode, chip_rate_error_pct=percent, ppm=(-300.0, 300.0), center=center)
    for frame, entry in zip(frames, sent, strict=True):
        bound = 50 if len(frame.data) > 200 else 500  # a long frame pins the rate down better
        assert abs(frame.chip_rate_error_ppm - entry["ppm"]) <= bound
        assert frame.radio_fields()["chip_rate_error_ppm"] == round(frame.chip_rate_error_ppm)


# --------------------------------------------------------------------------- modulation


@pytest.mark.parametrize("deviation", [40e3, 80e3])
def test_t1_deviation_limits(deviation: float):
    decode_all("t", deviation_hz=deviation)


@pytest.mark.parametrize("deviation", [33.75e3, 56.25e3])  # 45 kHz +-25 %
def test_c1_deviation_limits(deviation: float):
    decode_all("c", deviation_hz=deviation)


@pytest.mark.parametrize("mode", ["t", "c", "s"])
def test_gaussian_shaping_bt_0_5(mode: str):
    decode_all(mode, bt=0.5, center=CENTER_T1_C1_S1_HZ if mode == "s" else 868.95e6)


# --------------------------------------------------------------------------- sync slips and errors


@pytest.mark.parametrize("extra", ["0", "1"])
@pytest.mark.parametrize("mode", ["t", "c", "s"])
def test_one_extra_chip_before_the_sync_word(mode: str, extra: str):
    frames, _ = decode_all(mode, extra_chips=extra, center=CENTER_T1_C1_S1_HZ if mode == "s" else 868.95e6)


@pytest.mark.parametrize("mode", ["t", "c"])
def test_one_chip_missing_before_the_sync_word(mode: str):
    decode_all(mode, missing_chips=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["t", "c", "s"])
def test_one_chip_error_in_the_sync_word(mode: str, seed: int):
    center = CENTER_T1_C1_S1_HZ if mode == "s" else 868.95e6
    iq, sent = synthesize(
        [SHORT, LONG, SHORT, LONG], mode=mode, sample_rate=RATE, center=center, ecn0_db=15.0, sync_errors=1,
        seed=seed,
    )  # fmt: skip
    assert len({entry["sync_errors"][0] for entry in sent}) > 1  # the error is not always in one place
    frames = receive(iq, "s" if mode == "s" else "tc", center)
    assert [f.data.hex() for f in frames] == [s["hex"].lower() for s in sent]


# --------------------------------------------------------------------------- block size


@pytest.mark.parametrize(
    ("mode", "impairments"),
    [
        ("t", {"chip_rate_error_pct": 10.0, "jitter_s": 3e-6}),
        ("t", {"chip_rate_error_pct": -10.0, "extra_chips": "1"}),
        ("c", {"chip_rate_error_pct": 2.0, "bt": 0.5}),
        ("s", {"chip_rate_error_pct": -2.0}),
    ],
    ids=["T1+10%-jitter", "T1-10%-slip", "C1+2%-GFSK", "S1-2%"],
)
def test_results_do_not_depend_on_block_size(mode: str, impairments: dict):
    center = CENTER_T1_C1_S1_HZ if mode == "s" else 868.95e6
    whole, _ = decode_all(mode, center=center, block=None, **impairments)
    keys = [(f.data, f.mode, f.sample, f.chip_rate_error_ppm, f.freq_offset_hz) for f in whole]
    for block in (1009, 16384, 262144):
        chunked, _ = decode_all(mode, center=center, block=block, **impairments)
        assert [(f.data, f.mode, f.sample, f.chip_rate_error_ppm, f.freq_offset_hz) for f in chunked] == keys


# --------------------------------------------------------------------------- carrier offset


def receive_wide(iq: np.ndarray, modes: str, center: float, block: int | None = 65536, max_offset=150e3):
    receiver = CombinedReceiver(RATE, center, modes, max_offset_hz=max_offset)
    step = len(iq) if block is None else block
    frames = []
    for pos in range(0, len(iq), step):
        frames += receiver.process(iq[pos : pos + step])
    return frames + receiver.flush(), receiver


@pytest.mark.parametrize("offset", [-150e3, 150e3])
@pytest.mark.parametrize(
    ("mode", "frame_format", "center"),
    [("t", "A", 868.95e6), ("c", "A", 868.95e6), ("c", "B", 868.95e6), ("s", "A", CENTER_T1_C1_S1_HZ)],
    ids=["T1", "C1-A", "C1-B", "S1"],
)
def test_carrier_150_khz_off_at_1_6_msps(mode: str, frame_format: str, center: float, offset: float):
    iq, sent = synthesize(
        [SHORT, LONG, SHORT], mode=mode, frame_format=frame_format, sample_rate=RATE, center=center,
        offset_hz=offset, ecn0_db=15.0, seed=23,
    )  # fmt: skip
    modes = "s" if mode == "s" else "tc"
    frames, receiver = receive_wide(iq, modes, center)
    assert [f.data.hex() for f in frames] == [s["hex"].lower() for s in sent]
    assert all(abs(f.freq_offset_hz - offset) < 5e3 for f in frames)
    assert receiver.capture_hz[modes] == (-170e3, 170e3)
    # ...which one channel alone does not take
    narrow = receive(iq, modes, center)
    assert len(narrow) < len(sent)


def test_side_channels_report_each_telegram_once_whatever_the_block_size():
    """Carriers all over +-150 kHz, several where the channels overlap (+-55 kHz): every telegram once,
    counted once, and the same frames (with the same measurements) for any block size."""
    offsets = [-150e3, -56e3, -55e3, -54e3, 0.0, 54e3, 55e3, 56e3, 150e3, 110e3]
    telegrams = [telegram(20 + 20 * i, seed=200 + i) for i in range(len(offsets))]
    pieces, sent = [], []
    for i, (offset, frame) in enumerate(zip(offsets, telegrams, strict=True)):
        iq, record = synthesize([frame], mode="mixed" if i % 2 == 0 else "c", offset_hz=offset, seed=i,
                                ecn0_db=16.0, sample_rate=RATE)  # fmt: skip
        pieces.append(iq)
        sent += record
    iq = np.concatenate(pieces)
    whole, receiver = receive_wide(iq, "tc", 868.95e6, block=None)
    assert sorted(f.data for f in whole) == sorted(telegrams)
    stats = receiver.stats
    assert stats.frames_t1 + stats.frames_c1 == len(telegrams)
    keys = [(f.data, f.sample, f.freq_offset_hz, f.snr_db) for f in whole]
    for block in (4099, 65536):
        chunked, _ = receive_wide(iq, "tc", 868.95e6, block=block)
        assert [(f.data, f.sample, f.freq_offset_hz, f.snr_db) for f in chunked] == keys


def test_side_channels_only_where_the_band_holds_them():
    # 1 Msps tuned for T1, C1 and S1 (T1/C1 at +325 kHz): no room above for a side channel
    receiver = CombinedReceiver(1.0e6, CENTER_T1_C1_S1_HZ, "tcs", max_offset_hz=150e3)
    assert receiver.capture_hz["tc"] == (-170e3, 60e3)
    assert receiver.capture_hz["s"] == (-60e3, 170e3)
    assert len(CombinedReceiver(RATE, 868.95e6, "tc").receivers) == 1  # by default one channel
