"""Synthetic test signals (sdr_wmbus.synth): FSK modulation, noise level, burst layout, CLI glue."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from sdr_wmbus.cli.options import parse_si, parse_value_or_range
from sdr_wmbus.cli.synth import add_synth_arguments
from sdr_wmbus.cli.synth import run as run_synth
from sdr_wmbus.dsp.convert import complex64_to_cu8
from sdr_wmbus.phy.encode import c1_chips, s1_chips, t1_chips
from sdr_wmbus.sources import open_iq
from sdr_wmbus.synth import (
    DEFAULT_TELEGRAMS,
    Synthesizer,
    add_noise,
    iq_format_for,
    modulate_fsk,
    scale_for_integer_format,
    synthesize,
)
from sdr_wmbus.tables.phy import DEVIATION_C1_HZ, DEVIATION_T1_HZ

V10_FRAME = bytes.fromhex("0F442D2C785634120132A00001020304")
V13 = bytes.fromhex(DEFAULT_TELEGRAMS[0])
V6 = bytes.fromhex(DEFAULT_TELEGRAMS[1])
RATES = [1.0e6, 1.6e6, 2.0e6, 2.4e6, 3.2e6]


def discriminator(iq: np.ndarray, sample_rate: float) -> np.ndarray:
    """Instantaneous frequency in Hz between consecutive samples (entry n: from sample n to n+1)."""
    return np.angle(iq[1:] * np.conj(iq[:-1])) * sample_rate / (2 * np.pi)


def chip_centres(n_chips: int, sample_rate: float, chip_rate: float) -> np.ndarray:
    """Sample index nearest each chip's centre, for a burst starting at sample 0."""
    return np.floor((np.arange(n_chips) + 0.5) * sample_rate / chip_rate).astype(np.int64)


def demodulate(iq: np.ndarray, start: int, n_chips: int, sample_rate: float, chip_rate: float, centre_hz=0.0):
    """Chips of a noiseless burst starting at ``start``: sign of the discriminator at chip centres."""
    freq = discriminator(iq, sample_rate)
    return (freq[start + chip_centres(n_chips, sample_rate, chip_rate)] > centre_hz).astype(np.uint8)


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("offset_hz", [0.0, -37e3])
def test_fsk_frequency_at_chip_centres(sample_rate: float, offset_hz: float):
    chips = t1_chips(V10_FRAME)
    iq = modulate_fsk(chips, sample_rate, 100e3, 50e3, offset_hz=offset_hz, ppm=0.0, phase=1.0)
    assert iq.dtype == np.complex64
    np.testing.assert_allclose(np.abs(iq), 1.0, atol=1e-5)
    freq = discriminator(iq, sample_rate)
    centres = chip_centres(len(chips), sample_rate, 100e3)
    expected = offset_hz + 50e3 * (2.0 * chips - 1.0)
    np.testing.assert_allclose(freq[centres], expected, atol=2.0)
    # Continuous phase: the frequency never leaves the two tones (no phase jumps at chip edges).
    assert np.max(np.abs(freq - offset_hz)) <= 50e3 + 2.0


@pytest.mark.parametrize("sample_rate", [1.2e6, 2.4e6])
def test_fsk_chip_edges_exact_for_integer_ratio(sample_rate: float):
    spc = int(sample_rate / 100e3)
    chips = np.array([0, 1, 1, 0, 1], dtype=np.uint8)
    iq = modulate_fsk(chips, sample_rate, 100e3, 50e3)
    assert len(iq) == 5 * spc
    freq = discriminator(iq, sample_rate)
    expected = np.repeat(50e3 * (2.0 * chips - 1.0), spc)[:-1]
    np.testing.assert_allclose(freq, expected, atol=2.0)


@pytest.mark.parametrize("ppm", [-20000.0, -100.0, 5000.0, 30000.0])
def test_ppm_changes_burst_length(ppm: float):
    chips = t1_chips(V13)
    sample_rate = 1.6e6
    nominal = modulate_fsk(chips, sample_rate)
    skewed = modulate_fsk(chips, sample_rate, ppm=ppm)
    assert len(nominal) == len(chips) * 16
    expected = len(chips) * sample_rate / (100e3 * (1 + ppm * 1e-6))
    assert abs(len(skewed) - expected) <= 1
    # ...and the chips are still where a receiver with the skewed clock looks for them.
    got = demodulate(skewed, 0, len(chips), sample_rate, 100e3 * (1 + ppm * 1e-6))
    np.testing.assert_array_equal(got, chips)


@pytest.mark.parametrize("ecn0_db", [-3.0, 6.0, 15.0])
@pytest.mark.parametrize("sample_rate", [1.2e6, 2.4e6])
def test_add_noise_ecn0(ecn0_db: float, sample_rate: float):
    rng = np.random.default_rng(1)
    chips = rng.integers(0, 2, 40_000).astype(np.uint8)
    iq = 0.3 * modulate_fsk(chips, sample_rate, 100e3, 50e3)
    noisy = add_noise(iq, ecn0_db, sample_rate, 100e3, np.random.default_rng(2))
    assert noisy.dtype == np.complex64 and noisy.shape == iq.shape
    noise = noisy - iq
    power = np.mean(np.abs(iq) ** 2)
    measured = 10 * math.log10(power * (1 / 100e3) / (np.var(noise) / sample_rate))
    assert abs(measured - ecn0_db) < 0.2
    assert abs(np.mean(noise)) < 0.05 * math.sqrt(np.var(noise))  # zero mean
    assert abs(np.var(noise.real) - np.var(noise.imag)) < 0.05 * np.var(noise)  # circular


def test_add_noise_explicit_signal_power():
    iq = np.zeros(200_000, dtype=np.complex64)
    noisy = add_noise(iq, 10.0, 1.6e6, 100e3, np.random.default_rng(0), signal_power=0.25)
    expected_variance = 0.25 * 1.6e6 / (100e3 * 10.0)
    assert abs(10 * math.log10(np.var(noisy) / expected_variance)) < 0.2


def test_synthesize_layout_and_record():
    telegrams = [V13, V6, V10_FRAME]
    iq, sent = synthesize(telegrams, mode="mixed", sample_rate=1.6e6, gap_s=0.002, lead_s=0.001)
    assert iq.dtype == np.complex64
    assert [e["mode"] for e in sent] == ["T1", "C1", "T1"]
    assert [e["index"] for e in sent] == [0, 1, 2]
    assert [e["hex"] for e in sent] == [t.hex().upper() for t in telegrams]
    assert sent[0]["start_sample"] == 1600
    active = np.abs(iq) > 0
    covered = np.zeros(len(iq), dtype=bool)
    previous_end = 0
    for entry in sent:
        start, end = entry["start_sample"], entry["end_sample"]
        assert start >= previous_end + (1600 if entry["index"] == 0 else 3200)
        assert active[start:end].all()
        np.testing.assert_allclose(np.abs(iq[start:end]), 0.5, atol=1e-5)
        covered[start:end] = True
        previous_end = end
        assert entry["frame_format"] == "A"
        assert entry["offset_hz"] == 0.0 and entry["ppm"] == 0.0 and entry["ecn0_db"] is None
    assert not active[~covered].any()
    assert len(iq) == sent[-1]["end_sample"] + 3200


@pytest.mark.parametrize("sample_rate", RATES)
def test_synthesize_bursts_demodulate_to_chips(sample_rate: float):
    telegrams = [V13, V6]
    iq, sent = synthesize(
        telegrams, mode="mixed", frame_format="B", sample_rate=sample_rate, offset_hz=12e3, ppm=(-300, 300)
    )
    for entry, frame in zip(sent, telegrams, strict=True):
        chips = t1_chips(frame) if entry["mode"] == "T1" else c1_chips(frame, "B")
        chip_rate = 100e3 * (1 + entry["ppm"] * 1e-6)
        got = demodulate(iq, entry["start_sample"], len(chips), sample_rate, chip_rate, entry["baseband_hz"])
        np.testing.assert_array_equal(got, chips)
        deviation = DEVIATION_T1_HZ if entry["mode"] == "T1" else DEVIATION_C1_HZ
        freq = discriminator(iq[entry["start_sample"] : entry["end_sample"]], sample_rate)
        assert np.max(np.abs(freq - 12e3)) == pytest.approx(deviation, abs=5.0)
        # The sync word starts at sync_sample: 0000111101 (T1) or 0x543D (C1).
        sync = demodulate(iq, entry["sync_sample"], 10, sample_rate, chip_rate, 12e3).tolist()
        t1_sync, c1_sync = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1], [0, 1, 0, 1, 0, 1, 0, 0, 0, 0]
        assert sync == (t1_sync if entry["mode"] == "T1" else c1_sync)
    assert [e["frame_format"] for e in sent] == ["A", "B"]


def test_synthesize_center_shifts_carrier():
    _, sent = synthesize([V10_FRAME], sample_rate=1.6e6, center=868.625e6, offset_hz=-5e3)
    assert sent[0]["baseband_hz"] == pytest.approx(325e3 - 5e3)
    with pytest.raises(ValueError, match="does not fit"):
        synthesize([V10_FRAME], sample_rate=1.0e6, center=868.5e6)


def test_synthesize_ranges_drawn_per_telegram():
    _, sent = synthesize([V10_FRAME] * 8, offset_hz=(-40e3, 40e3), ppm=(-100.0, 100.0), seed=3)
    offsets = [e["offset_hz"] for e in sent]
    ppms = [e["ppm"] for e in sent]
    assert all(-40e3 <= o <= 40e3 for o in offsets) and len(set(offsets)) == 8
    assert all(-100 <= p <= 100 for p in ppms) and len(set(ppms)) == 8


def test_synthesize_noise_and_seeds():
    kwargs = dict(mode="c", ecn0_db=8.0, offset_hz=(-20e3, 20e3), gap_s=0.003)
    iq_a, sent_a = synthesize([V6, V10_FRAME], seed=7, **kwargs)
    iq_b, sent_b = synthesize([V6, V10_FRAME], seed=7, **kwargs)
    iq_c, sent_c = synthesize([V6, V10_FRAME], seed=8, **kwargs)
    np.testing.assert_array_equal(iq_a, iq_b)
    assert sent_a == sent_b
    assert not np.array_equal(iq_a, iq_c) and sent_a != sent_c
    assert all(e["ecn0_db"] == 8.0 for e in sent_a)
    # Gaps carry noise at the level that gives bursts of amplitude 0.5 the requested Ec/N0.
    gap = iq_a[: sent_a[0]["start_sample"]]
    expected_variance = 0.25 * 1.6e6 / (100e3 * 10**0.8)
    assert abs(10 * math.log10(np.var(gap) / expected_variance)) < 0.5


def test_synthesize_rejects_bad_input():
    with pytest.raises(ValueError, match="telegram 1 .*L field"):
        synthesize([V10_FRAME, V10_FRAME + b"\x00"])
    with pytest.raises(ValueError, match="format A only"):
        synthesize([V10_FRAME], mode="t", frame_format="B")
    with pytest.raises(ValueError, match="mode"):
        synthesize([V10_FRAME], mode="x")
    with pytest.raises(ValueError, match="no telegrams"):
        synthesize([])


# --- command line -------------------------------------------------------------------------------


def test_parse_numbers():
    assert parse_si("1.6M") == parse_si("1600k") == parse_si("1600000") == parse_si("1.6e6") == 1.6e6
    assert parse_si("868.95M") == pytest.approx(868.95e6)
    assert parse_value_or_range("-40k:40k") == (-40e3, 40e3)
    assert parse_value_or_range("25") == 25.0
    with pytest.raises(argparse.ArgumentTypeError):
        parse_si("fast")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_value_or_range("5:1")


def test_format_from_extension():
    assert iq_format_for("x.cu8") == "cu8"
    assert iq_format_for("x.CS16") == "cs16"
    assert iq_format_for("x.sigmf-data") == "sigmf"
    assert iq_format_for("x.wav") is None


def make_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sdr-wmbus synth")
    add_synth_arguments(parser)
    return parser.parse_args(argv)


def test_cli_arguments():
    args = make_args(["out.cu8", "--rate", "2.4M", "--offset=-10k:10k", "--ppm", "30", "--telegram", "AB"])
    assert args.rate == "2.4M" and args.offset == (-10e3, 10e3) and args.ppm == 30.0
    assert args.telegrams == ["AB"] and args.mode == "t" and args.ecn0 is None and args.repeat == 1


def test_cli_errors_before_writing(tmp_path, capsys):
    assert run_synth(make_args([str(tmp_path / "x.wav")])) == 2
    assert "--format" in capsys.readouterr().err
    assert run_synth(make_args([str(tmp_path / "x.cu8"), "--telegram", "0F44"])) == 2
    assert "error" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_writes_iq_and_list(tmp_path, capsys):
    sources = pytest.importorskip("sdr_wmbus.sources")
    if not hasattr(sources, "write_iq"):
        pytest.skip("sdr_wmbus.sources.write_iq not available yet")
    telegrams_file = tmp_path / "telegrams.txt"
    # V13 given with format-A CRCs: the list records it CRC-free.
    telegrams_file.write_text(
        "# comment\n"
        "314493441234567835084D9E7A740000200B6E2701004B6E45010042BBD76C5F2CCB086E790000C2086C7F21326C0540"
        "FFFF046D200B74221FDA\n\n"
    )
    out = tmp_path / "sig.cf32"
    argv = [str(out), "--telegrams-file", str(telegrams_file), "--telegram", V6.hex(), "--mode", "mixed"]
    assert run_synth(make_args(argv + ["--repeat", "2", "--ecn0", "12", "--seed", "5"])) == 0
    err = capsys.readouterr().err
    assert "4 telegrams" in err
    entries = [json.loads(line) for line in (tmp_path / "sig.cf32.telegrams.jsonl").read_text().splitlines()]
    # --telegram ones first, then the file's.
    assert [e["hex"] for e in entries] == [V6.hex().upper(), V13.hex().upper()] * 2
    assert [e["mode"] for e in entries] == ["T1", "C1", "T1", "C1"]
    assert out.stat().st_size >= entries[-1]["end_sample"] * 8


def test_cli_stdout_defaults_to_cu8_without_list(tmp_path, capsysbinary, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_synth(make_args(["-", "--rate", "1200k", "--telegram", V10_FRAME.hex()])) == 0
    captured = capsysbinary.readouterr()
    plan = Synthesizer([V10_FRAME], sample_rate=1.2e6)
    assert len(captured.out) == 2 * plan.total_samples  # cu8: two bytes a sample
    expected = complex64_to_cu8(np.concatenate(list(plan.blocks())))
    assert captured.out == expected.tobytes()
    assert not list(tmp_path.iterdir())
    assert "1 telegram (1 T1)" in captured.err.decode()


def test_integer_formats_get_headroom():
    quiet, _ = synthesize([V10_FRAME])
    assert scale_for_integer_format(quiet) == 1.0
    noisy, _ = synthesize([V10_FRAME], ecn0_db=0.0)  # noise std ~0.9 per component at 1.6 Msps
    gain = scale_for_integer_format(noisy)
    assert 0 < gain < 1
    assert np.mean(np.abs((noisy * gain).view(np.float32)) > 1.0) < 1e-3


# --- impairments for the receiver's tolerance tests, and streaming ------------------------------------


@pytest.mark.parametrize("block", [1, 999, 65536, 10**7])
def test_blocks_give_the_same_signal_for_any_block_size(block: int):
    kwargs = dict(mode="mixed", ecn0_db=9.0, offset_hz=(-20e3, 20e3), jitter_s=2e-6, seed=4, gap_s=0.001)
    plan = Synthesizer([V13, V6, V10_FRAME], **kwargs)
    whole, sent = synthesize([V13, V6, V10_FRAME], **kwargs)
    assert plan.sent == sent and plan.total_samples == len(whole)
    step = block if block > 1 else 1
    if block == 1:  # one-sample blocks over a short stretch only (slow), then the rest in one go
        pieces = []
        for piece in plan.blocks(1):
            pieces.append(piece)
            if len(pieces) == 5000:
                break
        np.testing.assert_array_equal(np.concatenate(pieces), whole[:5000])
        return
    np.testing.assert_array_equal(np.concatenate(list(plan.blocks(step))), whole)
    # a second pass gives the same signal again
    np.testing.assert_array_equal(np.concatenate(list(plan.blocks(step))), whole)


@pytest.mark.parametrize("percent", [-12.0, -3.0, 2.0, 10.0])
def test_chip_rate_error_in_percent(percent: float):
    iq, sent = synthesize([V13], chip_rate_error_pct=percent, ppm=100.0, sample_rate=1.6e6, lead_s=0.0)
    total_ppm = 100.0 + percent * 1e4
    assert sent[0]["ppm"] == pytest.approx(total_ppm)
    chips = t1_chips(V13)
    rate = 100e3 * (1 + total_ppm * 1e-6)
    assert abs(sent[0]["end_sample"] - len(chips) * 1.6e6 / rate) <= 1
    got = demodulate(iq, 0, len(chips), 1.6e6, rate)
    np.testing.assert_array_equal(got, chips)


def transitions(freq: np.ndarray, centre_hz: float = 0.0) -> np.ndarray:
    """Sample positions (fractional) where the discriminator crosses the centre frequency."""
    above = freq > centre_hz
    index = np.nonzero(above[1:] != above[:-1])[0]
    a, b = freq[index] - centre_hz, freq[index + 1] - centre_hz
    return index + a / (a - b) + 1.0  # entry n of the discriminator spans samples n..n+1


def test_jitter_moves_each_transition_within_bounds():
    rate, jitter = 3.2e6, 3e-6
    chips = t1_chips(V13)
    rng = np.random.default_rng(1)
    iq = modulate_fsk(chips, rate, 100e3, 50e3, jitter_s=jitter, rng=rng)
    edges = transitions(discriminator(iq, rate))
    nominal = (np.nonzero(chips[1:] != chips[:-1])[0] + 1) * rate / 100e3
    assert len(edges) == len(nominal)
    moved = (edges - nominal) / rate
    assert np.max(np.abs(moved)) <= jitter + 1.1 / rate  # within +-3 us (and the sample grid)
    assert np.max(moved) > 0.8 * jitter and np.min(moved) < -0.8 * jitter  # both ways, near the bound
    assert np.std(moved) == pytest.approx(jitter / math.sqrt(3), rel=0.15)  # uniform
    # Continuous phase and only the two tones, still.
    assert np.max(np.abs(discriminator(iq, rate))) <= 50e3 + 2.0
    with pytest.raises(ValueError, match="half a chip"):
        modulate_fsk(chips, rate, 100e3, 50e3, jitter_s=6e-6, rng=rng)


def test_jitter_in_synthesize_is_reproducible_and_in_the_record():
    a, sent = synthesize([V13, V6], mode="mixed", jitter_s=3e-6, seed=2)
    b, _ = synthesize([V13, V6], mode="mixed", jitter_s=3e-6, seed=2)
    c, _ = synthesize([V13, V6], mode="mixed", seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert all(entry["jitter_us"] == pytest.approx(3.0) for entry in sent)


@pytest.mark.parametrize("deviation", [40e3, 80e3, (33.75e3, 56.25e3)])
def test_deviation(deviation):
    iq, sent = synthesize(
        [V6, V6], mode="c", deviation_hz=deviation, sample_rate=2.4e6, offset_hz=5e3, seed=1
    )
    for entry in sent:
        if isinstance(deviation, tuple):
            assert deviation[0] <= entry["deviation_hz"] <= deviation[1]
        else:
            assert entry["deviation_hz"] == deviation
        freq = discriminator(iq[entry["start_sample"] : entry["end_sample"]], 2.4e6)
        assert np.max(np.abs(freq - 5e3)) == pytest.approx(entry["deviation_hz"], abs=5.0)
    assert sent[0]["deviation_hz"] != sent[1]["deviation_hz"] or not isinstance(deviation, tuple)


def test_gaussian_shaping():
    rate = 2.4e6
    chips = t1_chips(V13)
    plain = modulate_fsk(chips, rate, 100e3, 50e3)
    shaped = modulate_fsk(chips, rate, 100e3, 50e3, bt=0.5)
    assert len(shaped) == len(plain)
    freq = discriminator(shaped, rate)
    centres = chip_centres(len(chips), rate, 100e3)[:-1]
    # chips still on their side of the carrier, as a receiver slices them
    np.testing.assert_array_equal((freq[centres] > 0).astype(np.uint8), chips[:-1])
    # an isolated chip (neighbours differ) no longer reaches the full deviation; within a run it does
    isolated = [k for k in range(1, len(chips) - 2) if chips[k - 1] != chips[k] != chips[k + 1]]
    runs = [k for k in range(1, len(chips) - 3) if len(set(chips[k - 1 : k + 3])) == 1]  # 2nd of 4
    assert isolated and runs
    assert np.max(np.abs(freq[centres[isolated]])) < 0.9 * 50e3
    assert np.min(np.abs(freq[centres[runs]])) > 0.99 * 50e3
    # the shaping is smooth: no step between samples larger than a plain FSK's slope allows
    assert np.max(np.abs(np.diff(freq))) < 0.2 * 100e3
    with pytest.raises(ValueError, match="BT"):
        synthesize([V13], bt=0.01)


@pytest.mark.parametrize(
    ("mode", "extra", "missing", "sync"),
    [
        ("t", "1", 0, [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]),
        ("t", "0", 0, [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]),
        ("t", "", 1, [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]),
        ("c", "1", 0, [0, 1, 0, 1, 0, 1, 0, 0, 0, 0]),
        ("s", "0", 0, [0, 0, 0, 1, 1, 1, 0, 1, 1, 0]),
    ],
)
def test_extra_and_missing_chips_before_the_sync_word(mode, extra, missing, sync):
    rate = 1.6e6
    iq, sent = synthesize([V10_FRAME], mode=mode, extra_chips=extra, missing_chips=missing, sample_rate=rate)
    entry = sent[0]
    chip_rate = 32768.0 if mode == "s" else 100e3
    nominal = {"t": t1_chips, "c": c1_chips, "s": s1_chips}[mode](V10_FRAME)
    assert entry["end_sample"] - entry["start_sample"] == math.ceil(
        (len(nominal) + len(extra) - missing) * rate / chip_rate - 1e-9
    )
    centre = entry["baseband_hz"]
    assert demodulate(iq, entry["sync_sample"], 10, rate, chip_rate, centre).tolist() == sync
    before = demodulate(
        iq, entry["sync_sample"] - math.ceil(4 * rate / chip_rate), 4, rate, chip_rate, centre
    )
    expected_before = {"1": [1, 0, 1, 1], "0": [1, 0, 1, 0], "": [0, 1, 0, 1]}[extra]
    if missing:
        expected_before = [1, 0, 1, 0]
    assert before.tolist() == expected_before
    assert entry["extra_chips"] == extra and entry["missing_chips"] == missing


def test_sync_errors_flip_chips_of_the_sync_word():
    rate = 1.6e6
    iq, sent = synthesize([V10_FRAME] * 4, mode="t", sync_errors=1, sample_rate=rate, seed=3)
    positions = set()
    for entry in sent:
        (flipped,) = entry["sync_errors"]
        positions.add(flipped)
        expected = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
        expected[flipped] ^= 1
        got = demodulate(iq, entry["sync_sample"], 10, rate, 100e3)
        np.testing.assert_array_equal(got, expected)
    assert len(positions) > 1
    with pytest.raises(ValueError, match="only 10 chips"):
        synthesize([V10_FRAME], sync_errors=11)


def test_cli_impairment_options(tmp_path, capsys):
    out = tmp_path / "x_1M6.cf32"
    argv = [str(out), "--telegram", V13.hex(), "--chip-rate-error=-10", "--jitter", "3", "--bt", "0.5"]
    argv += ["--deviation", "40k", "--extra-chips", "1", "--sync-errors", "1", "--seed", "3"]
    args = make_args(argv)
    assert args.chip_rate_error == -10.0 and args.jitter == 3.0 and args.deviation == 40e3
    assert run_synth(args) == 0
    (entry,) = [
        json.loads(line) for line in (tmp_path / "x_1M6.cf32.telegrams.jsonl").read_text().splitlines()
    ]
    assert entry["ppm"] == pytest.approx(-1e5) and entry["deviation_hz"] == 40e3 and entry["bt"] == 0.5
    assert entry["jitter_us"] == pytest.approx(3.0) and entry["extra_chips"] == "1"
    with open_iq(str(out), rate=1.6e6) as source:
        written = np.concatenate(list(source.blocks()))
    plan = Synthesizer(
        [V13], chip_rate_error_pct=-10.0, jitter_s=3e-6, bt=0.5, deviation_hz=40e3, extra_chips="1",
        sync_errors=1, seed=3,
    )  # fmt: skip
    np.testing.assert_array_equal(written, np.concatenate(list(plan.blocks())))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--jitter", "6"], "half a chip"),
        (["--bt", "0.05"], "BT"),
        (["--extra-chips", "012"], "0 and 1"),
        (["--deviation=-5k"], "deviation must be positive"),
        (["--chip-rate-error=-60"], "not a rate"),
        (["--missing-chips", "99"], "cannot remove"),
    ],
)
def test_cli_impairment_errors_before_writing(tmp_path, capsys, argv, message):
    assert run_synth(make_args([str(tmp_path / "x.cu8"), *argv])) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_streaming_memory_is_flat():
    """A long signal is written block by block: the peak RSS of 30 s of signal (384 MB as complex64)
    is that of 3 s."""
    import subprocess
    import sys

    code = (
        "import resource, sys\n"
        "from sdr_wmbus.cli.synth import add_synth_arguments, run as run_synth\n"
        "import argparse\n"
        "p = argparse.ArgumentParser(); add_synth_arguments(p)\n"
        "assert run_synth(p.parse_args(sys.argv[1:])) == 0\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )

    def peak_mib(repeat: int) -> float:
        argv = ["-", "--format", "cu8", "--gap", "1", "--repeat", str(repeat), "--ecn0", "10"]
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return int(proc.stderr.split()[-1]) / 1024

    short, long = peak_mib(3), peak_mib(30)
    assert long - short < 30, (short, long)
