"""IQ sources and writers: round trips, chunking, pipes, file names, metadata precedence and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sdr_wmbus.dsp.convert import cs8_to_complex64, cs16_to_complex64, cu8_to_complex64
from sdr_wmbus.sources import (
    FORMATS,
    SAMPLE_BYTES,
    IQFileWriter,
    SourceError,
    StreamInfo,
    open_iq,
    parse_iq_filename,
    write_iq,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS_IQ = SHARED / "corpus" / "iq" / "rtlwmbus_samples2_T1_868.95M_1600k.cu8"
RNG = np.random.default_rng(11)


def representable(fmt: str, count: int) -> np.ndarray:
    """Random complex64 samples that ``fmt`` stores exactly, so a round trip must give them back."""
    if fmt == "cu8":
        return cu8_to_complex64(RNG.integers(0, 256, 2 * count, dtype=np.uint8))
    if fmt == "cs8":
        return cs8_to_complex64(RNG.integers(-128, 128, 2 * count).astype(np.int8))
    if fmt == "cs16":
        return cs16_to_complex64(RNG.integers(-32768, 32768, 2 * count).astype(np.int16))
    return RNG.standard_normal(2 * count).astype(np.float32).view(np.complex64)


def read_all(path, block_samples: int = 262144, **kwargs) -> np.ndarray:
    with open_iq(str(path), **kwargs) as source:
        blocks = list(source.blocks(block_samples))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.complex64)


def write_sigmf_meta(base: Path, datatype="cu8", rate=1.6e6, frequency=868.95e6) -> Path:
    meta = {
        "global": {"core:datatype": datatype, "core:version": "1.0.0"},
        "captures": [{"core:sample_start": 0}],
    }
    if rate is not None:
        meta["global"]["core:sample_rate"] = rate
    if frequency is not None:
        meta["captures"][0]["core:frequency"] = frequency
    path = base.with_name(base.name + ".sigmf-meta")
    path.write_text(json.dumps(meta))
    return path


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(tmp_path, fmt):
    iq = representable(fmt, 5000)
    path = tmp_path / f"rec_868.95M_1600k.{fmt}"
    write_iq(str(path), iq, fmt, rate=1.6e6)
    assert path.stat().st_size == iq.size * SAMPLE_BYTES[fmt]
    with open_iq(str(path)) as source:
        assert source.info == StreamInfo(rate=1.6e6, center=868.95e6, fmt=fmt, path=str(path))
        assert source.total_samples == 5000
        got = np.concatenate(list(source.blocks(1000)))
        assert source.samples_read == 5000 and source.stray_bytes == 0
    np.testing.assert_array_equal(got, iq)
    assert got.dtype == np.complex64


def test_files_are_little_endian_and_interleaved(tmp_path):
    iq = np.array([0.5 - 0.25j, -1 + 1j], np.complex64)
    write_iq(str(tmp_path / "a.cs16"), iq, "cs16", rate=1e6)
    assert (tmp_path / "a.cs16").read_bytes() == np.array([16384, -8192, -32768, 32767], "<i2").tobytes()
    write_iq(str(tmp_path / "a.cu8"), iq, "cu8", rate=1e6)
    assert list((tmp_path / "a.cu8").read_bytes()) == [191, 96, 0, 255]
    write_iq(str(tmp_path / "a.cf32"), iq, "cf32", rate=1e6)
    assert (tmp_path / "a.cf32").read_bytes() == np.array([0.5, -0.25, -1, 1], "<f4").tobytes()


def test_writer_clips_and_rounds(tmp_path):
    write_iq(str(tmp_path / "a.cs8"), np.array([2 - 2j, 0.3 + 0.0j]), "cs8", rate=1e6)
    assert np.frombuffer((tmp_path / "a.cs8").read_bytes(), np.int8).tolist() == [127, -128, 38, 0]


@pytest.mark.parametrize("name", ["rec", "rec.sigmf-meta", "rec.sigmf-data"])
def test_sigmf_round_trip_with_metadata(tmp_path, name):
    iq = representable("cf32", 3000)
    write_iq(str(tmp_path / name), iq, "sigmf", rate=2.4e6, center=868.625e6)
    meta = json.loads((tmp_path / "rec.sigmf-meta").read_text())
    assert meta["global"]["core:datatype"] == "cf32_le"
    assert meta["global"]["core:sample_rate"] == 2.4e6
    assert meta["global"]["core:version"] == "1.0.0"
    assert meta["global"]["core:description"]
    assert meta["captures"][0]["core:frequency"] == 868.625e6
    for opened in ("rec", "rec.sigmf-meta", "rec.sigmf-data"):
        with open_iq(str(tmp_path / opened)) as source:
            assert source.info == StreamInfo(2.4e6, 868.625e6, "cf32", str(tmp_path / "rec.sigmf-data"))
            assert source.total_samples == 3000
            np.testing.assert_array_equal(np.concatenate(list(source.blocks())), iq)


def test_sigmf_without_centre(tmp_path):
    write_iq(str(tmp_path / "rec"), representable("cf32", 10), "sigmf", rate=1e6)
    assert "core:frequency" not in json.loads((tmp_path / "rec.sigmf-meta").read_text())["captures"][0]
    with open_iq(str(tmp_path / "rec")) as source:
        assert source.info.center is None


@pytest.mark.parametrize(
    "datatype, fmt", [("cu8", "cu8"), ("ci8", "cs8"), ("ci16_le", "cs16"), ("cf32_le", "cf32")]
)
def test_sigmf_datatypes(tmp_path, datatype, fmt):
    iq = representable(fmt, 700)
    write_iq(str(tmp_path / "rec.sigmf-data"), iq, fmt, rate=1e6)  # raw samples under a SigMF name
    write_sigmf_meta(tmp_path / "rec", datatype=datatype)
    with open_iq(str(tmp_path / "rec")) as source:
        assert source.info.fmt == fmt
        np.testing.assert_array_equal(np.concatenate(list(source.blocks(64))), iq)


@pytest.mark.parametrize("fmt", ["cu8", "sigmf"])
def test_incremental_writer_equals_one_shot(tmp_path, fmt):
    iq = representable("cu8", 10_000)
    with IQFileWriter(str(tmp_path / "inc"), fmt, rate=1.6e6, center=868.95e6) as writer:
        for start in range(0, iq.size, 3001):
            writer.write(iq[start : start + 3001])
        assert writer.samples_written == iq.size
    write_iq(str(tmp_path / "once"), iq, fmt, rate=1.6e6, center=868.95e6)
    data = "" if fmt == "cu8" else ".sigmf-data"
    assert (tmp_path / f"inc{data}").read_bytes() == (tmp_path / f"once{data}").read_bytes()
    np.testing.assert_array_equal(
        read_all(tmp_path / f"inc{data}", fmt=None if data else "cu8", rate=1.6e6), iq
    )


def test_writer_to_stdout(capsysbinary):
    write_iq("-", np.array([1 - 1j], np.complex64), "cu8", rate=1e6)
    assert capsysbinary.readouterr().out == bytes([255, 0])


# --- chunking and pipes -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_block_size_does_not_change_the_samples(tmp_path, fmt):
    iq = representable(fmt, 20_000)
    path = tmp_path / f"x.{fmt}"
    write_iq(str(path), iq, fmt, rate=1e6)
    for block in (1000, 4096, 262144):
        with open_iq(str(path), rate=1e6) as source:
            blocks = list(source.blocks(block))
        assert all(b.size == block for b in blocks[:-1]) and 0 < blocks[-1].size <= block
        np.testing.assert_array_equal(np.concatenate(blocks), iq)


def feed_pipe_in_odd_pieces(data: bytes) -> tuple[object, threading.Thread]:
    """An unbuffered pipe reader whose reads return the odd-sized pieces a writer thread pushes."""
    read_fd, write_fd = os.pipe()

    def writer():
        sizes, at = [1, 3, 7, 5, 1021, 2, 4093, 11], 0
        with os.fdopen(write_fd, "wb", buffering=0) as pipe:
            for i in range(len(data)):
                if at >= len(data):
                    break
                piece = data[at : at + sizes[i % len(sizes)]]
                pipe.write(piece)
                at += len(piece)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    return os.fdopen(read_fd, "rb", buffering=0), thread


@pytest.mark.parametrize("fmt", FORMATS)
def test_stdin_pipe_fed_in_odd_byte_counts(tmp_path, monkeypatch, fmt):
    iq = representable(fmt, 12_345)
    path = tmp_path / f"x.{fmt}"
    write_iq(str(path), iq, fmt, rate=1e6)
    pipe, thread = feed_pipe_in_odd_pieces(path.read_bytes() + b"\x01")  # and one stray byte
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=pipe))
    with open_iq("-", fmt=fmt, rate=1.6e6, center=868.95e6) as source:
        assert source.info == StreamInfo(1.6e6, 868.95e6, fmt, "-")
        assert source.total_samples is None
        blocks = list(source.blocks(1000))
        assert source.stray_bytes == 1 and source.samples_read == iq.size
    thread.join()
    pipe.close()
    assert all(b.size == 1000 for b in blocks[:-1])
    np.testing.assert_array_equal(np.concatenate(blocks), iq)


def test_real_stdin_of_a_subprocess(tmp_path):
    iq = representable("cs16", 50_000)
    path = tmp_path / "x.cs16"
    write_iq(str(path), iq, "cs16", rate=1e6)
    script = textwrap.dedent(
        """
        import numpy as np
        from sdr_wmbus.sources import open_iq
        with open_iq("-", fmt="cs16", rate=2.4e6) as source:
            iq = np.concatenate(list(source.blocks(4096)))
        np.save("out.npy", iq)
        print(source.samples_read, source.stray_bytes)
        """
    )
    command = [sys.executable, "-c", script]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path) as child:
        data, at, size = path.read_bytes(), 0, 1
        while at < len(data):  # pieces of 1, 4, 13, 40 … bytes: samples split across writes
            child.stdin.write(data[at : at + size])
            child.stdin.flush()
            at, size = at + size, size * 3 + 1
        child.stdin.close()
        assert child.stdout.read().split() == [b"50000", b"0"]
        assert child.wait(timeout=60) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), iq)


# --- truncated and empty files ------------------------------------------------------------------


@pytest.mark.parametrize("block", [1000, 1024, 4096])
def test_truncated_file_delivers_whole_samples_and_counts_stray_bytes(tmp_path, block):
    iq = representable("cs16", 1024)
    path = tmp_path / "cut.cs16"
    write_iq(str(path), iq, "cs16", rate=1e6)
    with open(path, "ab") as file:
        file.write(b"\x07\x08\x09")
    with open_iq(str(path), rate=1e6) as source:
        assert source.total_samples == 1024
        got = np.concatenate(list(source.blocks(block)))
        assert source.stray_bytes == 3 and source.samples_read == 1024
    np.testing.assert_array_equal(got, iq)


def test_empty_file_and_file_shorter_than_a_sample(tmp_path):
    (tmp_path / "empty.cf32").write_bytes(b"")
    (tmp_path / "tiny.cf32").write_bytes(b"\x00" * 5)
    with open_iq(str(tmp_path / "empty.cf32"), rate=1e6) as source:
        assert list(source.blocks()) == [] and source.stray_bytes == 0 and source.total_samples == 0
    with open_iq(str(tmp_path / "tiny.cf32"), rate=1e6) as source:
        assert list(source.blocks()) == [] and source.stray_bytes == 5


def test_block_size_must_be_positive(tmp_path):
    write_iq(str(tmp_path / "a.cu8"), np.zeros(4, np.complex64), "cu8", rate=1e6)
    with open_iq(str(tmp_path / "a.cu8"), rate=1e6) as source, pytest.raises(ValueError):
        next(source.blocks(0))


# --- file names, rate and centre ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("rtlsdr_868.950M_1M6_samples2.cu8", {"rate": 1.6e6, "center": 868.95e6, "fmt": "cu8"}),
        ("foo_868.95M_1600k.cu8", {"rate": 1.6e6, "center": 868.95e6, "fmt": "cu8"}),
        ("x_2.4Msps_868625000Hz.cs16", {"rate": 2.4e6, "center": 868.625e6, "fmt": "cs16"}),
        ("rtlsdr_868.625M_2M4_issue48.cu8", {"rate": 2.4e6, "center": 868.625e6, "fmt": "cu8"}),
        ("rtlwmbus_samples2_T1_868.95M_1600k.cu8", {"rate": 1.6e6, "center": 868.95e6, "fmt": "cu8"}),
        ("/some/dir_433M/g001_868.3M_2048k.cs8", {"rate": 2.048e6, "center": 868.3e6, "fmt": "cs8"}),
        ("rec-868.95MHz-1.6MSPS.cf32", {"rate": 1.6e6, "center": 868.95e6, "fmt": "cf32"}),
        ("hackrf_868M_2M.complex16s", {"rate": 2e6, "center": 868e6, "fmt": "cs8"}),
        ("urh.complex16u", {"fmt": "cu8"}),
        ("gnuradio.cfile", {"fmt": "cf32"}),
        ("capture_868.95M", {"center": 868.95e6}),
        ("capture_2019_10s_3.raw", {}),
        ("rec_868.95M_1600k.sigmf-meta", {"rate": 1.6e6, "center": 868.95e6}),
        ("plain.iq", {}),
        ("", {}),
    ],
)
def test_parse_iq_filename(name, expected):
    assert parse_iq_filename(name) == expected


def test_rate_and_centre_precedence(tmp_path):
    base = tmp_path / "rec_868.3M_1M"
    write_iq(str(base) + ".sigmf-data", np.zeros(8, np.complex64), "cu8", rate=1e6)
    named_only = tmp_path / "rec_868.3M_1M.cu8"
    named_only.write_bytes(b"\x80" * 16)

    def info(path, **kwargs):
        with open_iq(str(path), **kwargs) as source:
            return source.info.rate, source.info.center

    assert info(named_only) == (1e6, 868.3e6)  # from the name
    assert info(named_only, rate=2e6, center=868.95e6) == (2e6, 868.95e6)  # explicit wins
    write_sigmf_meta(base, rate=2.4e6, frequency=868.625e6)
    assert info(base) == (2.4e6, 868.625e6)  # metadata beats the name
    assert info(base, rate=3.2e6, center=1e8) == (3.2e6, 1e8)  # explicit beats metadata
    write_sigmf_meta(base, rate=None, frequency=None)
    assert info(base) == (1e6, 868.3e6)  # metadata silent: the name again
    (tmp_path / "nothing.cu8").write_bytes(b"")
    assert info(tmp_path / "nothing.cu8", rate=0.8e6) == (0.8e6, None)  # centre may stay unknown


def test_explicit_format_beats_extension_and_metadata(tmp_path):
    (tmp_path / "a.cu8").write_bytes(bytes([0x80, 0x7F]))
    with open_iq(str(tmp_path / "a.cu8"), fmt="CS8", rate=1e6) as source:
        assert source.info.fmt == "cs8"
        assert next(source.blocks()).tolist() == [complex(-1, 127 / 128)]
    (tmp_path / "b.sigmf-data").write_bytes(bytes(4))
    write_sigmf_meta(tmp_path / "b", datatype="cf32_le")
    with open_iq(str(tmp_path / "b"), fmt="cu8") as source:
        assert source.info.fmt == "cu8" and source.total_samples == 2


@pytest.mark.parametrize("rate", [0.8e6, 1.024e6, 2.048e6, 3.2e6])
def test_any_rate_in_range_is_accepted(tmp_path, rate):
    (tmp_path / "a.cu8").write_bytes(b"")
    with open_iq(str(tmp_path / "a.cu8"), rate=rate) as source:
        assert source.info.rate == rate


def test_real_recording():
    if not CORPUS_IQ.exists():
        pytest.skip("../shared/corpus is not here")
    with open_iq(str(CORPUS_IQ)) as source:
        assert (source.info.rate, source.info.center, source.info.fmt) == (1.6e6, 868.95e6, "cu8")
        assert source.total_samples == 1_048_576
        power = peak = 0.0
        for block in source.blocks(100_000):
            assert block.size <= 100_000
            power += float(np.sum(np.abs(block) ** 2))
            peak = max(peak, float(np.abs(block).max()))
        assert source.samples_read == 1_048_576 and source.stray_bytes == 0
    assert 0 < power / 1_048_576 < 1 and peak <= np.sqrt(2)


# --- errors -------------------------------------------------------------------------------------


def error_of(call) -> str:
    with pytest.raises(SourceError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and isinstance(caught.value, ValueError)
    return message


def test_error_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("foo.cu8").write_bytes(b"")
    Path("foo.raw").write_bytes(b"")
    assert (
        error_of(lambda: open_iq("missing.cu8", rate=1e6))
        == "cannot open missing.cu8: No such file or directory"
    )
    assert error_of(lambda: open_iq("foo.cu8")) == (
        "cannot tell the sample rate of foo.cu8: give --rate or name the file like rtlsdr_868.950M_1M6.cu8"
    )
    assert error_of(lambda: open_iq("foo.cu8", fmt="cu16", rate=1e6)) == (
        "unknown IQ format 'cu16' (known: cu8, cs8, cs16, cf32)"
    )
    assert error_of(lambda: open_iq("foo.raw", rate=1e6)) == (
        "cannot tell the format of foo.raw: give --format (cu8, cs8, cs16 or cf32) "
        "or name the file with its format (.cu8, .cs8, .cs16, .cf32)"
    )
    with open_iq("foo.raw", fmt="cu8", rate=1e6) as source:
        assert source.info.fmt == "cu8"
    assert (
        error_of(lambda: open_iq("foo.cu8", rate=250000)) == "sample rate 250000 Hz is outside 0.8-3.2 Msps"
    )
    assert (
        error_of(lambda: open_iq("foo.cu8", rate=3.3e6)) == "sample rate 3300000 Hz is outside 0.8-3.2 Msps"
    )
    Path("g_433.92M_250k.cu8").write_bytes(b"")
    assert error_of(lambda: open_iq("g_433.92M_250k.cu8")) == "sample rate 250000 Hz is outside 0.8-3.2 Msps"
    assert error_of(lambda: open_iq("-", rate=1e6)) == (
        "cannot tell the format of stdin: give --format (cu8, cs8, cs16 or cf32)"
    )
    assert error_of(lambda: open_iq("-", fmt="cu8")) == "cannot tell the sample rate of stdin: give --rate"
    assert error_of(lambda: open_iq(".")) == "cannot open .: Is a directory"


def test_sigmf_error_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("rec.sigmf-data").write_bytes(b"")
    Path("rec.sigmf-meta").write_text("{not json")
    assert error_of(lambda: open_iq("rec")).startswith(
        "bad SigMF metadata in rec.sigmf-meta: Expecting property name"
    )
    Path("rec.sigmf-meta").write_text("[]")
    assert (
        error_of(lambda: open_iq("rec.sigmf-data"))
        == "bad SigMF metadata in rec.sigmf-meta: no 'global' object"
    )
    Path("rec.sigmf-meta").write_text('{"global": {"core:sample_rate": 1e6}}')
    assert (
        error_of(lambda: open_iq("rec.sigmf-meta"))
        == "bad SigMF metadata in rec.sigmf-meta: no core:datatype"
    )
    write_sigmf_meta(Path("rec"), datatype="ri16_le")
    assert error_of(lambda: open_iq("rec")) == (
        "unsupported SigMF datatype 'ri16_le' in rec.sigmf-meta (supported: cu8, ci8, ci16_le, cf32_le)"
    )
    write_sigmf_meta(Path("rec"), rate="fast")
    assert error_of(lambda: open_iq("rec")) == (
        "bad SigMF metadata in rec.sigmf-meta: core:sample_rate 'fast' is not a number"
    )
    write_sigmf_meta(Path("rec"), rate=None)
    assert error_of(lambda: open_iq("rec")).startswith("cannot tell the sample rate of rec: give --rate")
    assert (
        error_of(lambda: open_iq("other.sigmf-data"))
        == "cannot open other.sigmf-meta: No such file or directory"
    )
    write_sigmf_meta(Path("lonely"))
    assert error_of(lambda: open_iq("lonely")) == "cannot open lonely.sigmf-data: No such file or directory"


def test_writer_error_messages(tmp_path):
    iq = np.zeros(4, np.complex64)
    assert error_of(lambda: write_iq(str(tmp_path / "a"), iq, "wav", rate=1e6)) == (
        "unknown IQ format 'wav' (known: cu8, cs8, cs16, cf32)"
    )
    assert (
        error_of(lambda: write_iq(str(tmp_path / "a"), iq, "cu8", rate=0))
        == "sample rate 0 Hz is not a positive number"
    )
    assert error_of(lambda: write_iq(str(tmp_path / "no" / "a.cu8"), iq, "cu8", rate=1e6)).startswith(
        f"cannot create {tmp_path / 'no' / 'a.cu8'}: No such file"
    )
    with pytest.raises(ValueError, match="1-D"):
        write_iq(str(tmp_path / "a.cu8"), iq.reshape(2, 2), "cu8", rate=1e6)
