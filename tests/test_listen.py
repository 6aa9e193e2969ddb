"""`sdr-wmbus listen --rtl-tcp` against a stand-in rtl_tcp server on loopback, paced at real time."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sdr_wmbus.dsp.convert import complex64_to_cu8
from sdr_wmbus.listen import PpmTracker
from sdr_wmbus.sources import SourceError
from sdr_wmbus.sources.live import Gap
from sdr_wmbus.sources.rtltcp import Command, RtlTcpSource, encode_command, parse_address
from sdr_wmbus.sources.rtltcp_server import RtlTcpServer
from sdr_wmbus.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "rtlsdr_868.950M_1M6_synth_t1_c1.cu8"
METERS = ROOT / "samples" / "meters.toml"
RATE = 1.6e6
QUNDIS = bytes.fromhex(
    "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"
)


def renumbered(frame: bytes, meter_id: str) -> bytes:
    """The same unencrypted telegram from another meter (the id is BCD, least significant byte first)."""
    return frame[:4] + bytes.fromhex(meter_id)[::-1] + frame[8:]


def cu8_signal(telegrams: list[bytes], offset_hz: float = 0.0, seed: int = 1, **impairments) -> bytes:
    iq, _ = synthesize(
        telegrams, mode="t", sample_rate=RATE, offset_hz=offset_hz, ecn0_db=20.0, seed=seed, **impairments
    )
    return complex64_to_cu8(iq.astype(np.complex64)).tobytes()


class Listen:
    """`sdr-wmbus listen` in a subprocess; its JSON lines are collected by a thread as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sdr_wmbus", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue = queue.Queue()
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict]:
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            try:
                got.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
        return got

    def terminate(self, timeout: float = 20.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self.stderr = err.decode()
        return self.proc.returncode


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


def test_listen_decodes_every_telegram_and_stops_cleanly_on_sigterm(sample_bytes):
    sent = [json.loads(line) for line in Path(f"{SAMPLE}.telegrams.jsonl").read_text().splitlines()]
    with RtlTcpServer(sample_bytes, rate=RATE) as server:
        listen = Listen("--rtl-tcp", f"127.0.0.1:{server.port}", "--meters", str(METERS))
        got = listen.wait_for(len(sent))
        code = listen.terminate()
    assert code == 0, listen.stderr
    assert "Traceback" not in listen.stderr
    assert [g["raw"].upper() for g in got] == [s["hex"].upper() for s in sent]
    by_id = {g["id"]: g for g in got}
    assert by_id["76348799"]["total_m3"] == 6.408  # Kamstrup C1, ELL AES-CTR with its key
    assert by_id["12345678"]["total_m3"] == 28504.27  # Elster, security mode 5
    assert by_id["43054304"]["total_kwh"] == 9341  # Engelmann, mode 7
    assert all(g["mode"] in ("T1", "C1") and "rssi_dbfs" in g for g in got)
    assert "7 telegrams" in listen.stderr and "0 gaps" in listen.stderr
    # the client tuned the server: rate, centre, automatic gain, no ppm correction
    commands = dict(server.commands)
    assert commands[Command.SET_SAMPLE_RATE] == 1_600_000
    assert commands[Command.SET_FREQUENCY] == 868_950_000
    assert commands[Command.SET_GAIN_MODE] == 0
    assert commands[Command.SET_FREQ_CORRECTION] == 0


def test_listen_survives_the_server_going_away_and_decodes_after_the_gap(tmp_path):
    before = cu8_signal([QUNDIS])
    after = cu8_signal([renumbered(QUNDIS, "11223344"), renumbered(QUNDIS, "55667788")], seed=2)
    first = RtlTcpServer(before, rate=RATE).start()
    port = first.port
    listen = Listen("--rtl-tcp", f"127.0.0.1:{port}", "--save-iq", str(tmp_path / "live.cu8"))
    try:
        got = listen.wait_for(1)
        assert [g["id"] for g in got] == ["78563412"]
        first.stop()  # the server goes away; the client retries with back-off
        time.sleep(0.5)
        with RtlTcpServer(after, port=port, rate=RATE) as second:
            got = listen.wait_for(2, timeout=60)
            assert second.clients == 1
            # settings are sent again to the new server
            assert dict(second.commands)[Command.SET_FREQUENCY] == 868_950_000
            code = listen.terminate()
    finally:
        if listen.proc.poll() is None:
            listen.proc.kill()
    assert [g["id"] for g in got] == ["11223344", "55667788"]
    assert all(g["current_consumption_hca"] == 127 for g in got)
    assert code == 0, listen.stderr
    assert "1 gaps" in listen.stderr and "1 reconnects" in listen.stderr
    assert "went away" in listen.stderr
    # the frames after the gap are numbered after it: sample counting goes on across the hole
    assert got[0]["time_s"] > len(before) / 2 / RATE
    # --save-iq recorded what was received, and it replays to the same telegrams
    saved = (tmp_path / "live.cu8").read_bytes()
    assert saved.startswith(before)
    replay = subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", "replay", str(tmp_path / "live.cu8"), "--rate", "1.6M", "-q"],
        capture_output=True,
        timeout=120,
    )
    ids = [json.loads(line)["id"] for line in replay.stdout.decode().splitlines()]
    assert ids == ["78563412", "11223344", "55667788"]


def test_listen_auto_ppm_measures_the_dongle_and_corrects_it():
    # Every carrier 17.4 kHz low: a dongle whose oscillator runs 20 ppm fast (and meters whose chip
    # clocks run 2 % fast, which the stats lines report per meter).
    offset = -20e-6 * 868.95e6
    ids = ["10000001", "10000002", "10000003", "10000004"]
    data = cu8_signal([renumbered(QUNDIS, i) for i in ids], offset_hz=offset, chip_rate_error_pct=2.0)
    with RtlTcpServer(data, rate=RATE) as server:
        listen = Listen(
            "--rtl-tcp", f"127.0.0.1:{server.port}", "--ppm", "auto", "-v", "--stats-interval", "0.05"
        )
        got = listen.wait_for(len(ids))
        deadline = time.monotonic() + 10
        while Command.SET_FREQ_CORRECTION not in dict(server.commands[5:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        code = listen.terminate()
    assert [g["id"] for g in got] == ids
    assert code == 0
    corrections = [v for c, v in server.commands if c == Command.SET_FREQ_CORRECTION]
    assert corrections[0] == 0 and corrections[-1] == 20
    assert "+20 ppm" in listen.stderr
    clocks = [int(v) for v in re.findall(r"1000000\d [-+]\d+ Hz chip clock ([-+]\d+) ppm", listen.stderr)]
    assert clocks and all(abs(clock - 20000) < 1000 for clock in clocks), listen.stderr


def test_listen_reports_an_unreachable_server_in_one_line():
    import socket

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", "listen", "--rtl-tcp", f"127.0.0.1:{port}"],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    err = proc.stderr.decode().strip()
    assert err.count("\n") == 0 and "cannot connect to rtl_tcp server 127.0.0.1" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rtl-tcp", "host:99999"], "port must be a number"),
        (["--rtl-tcp", "127.0.0.1:1", "--gain", "loud"], "--gain"),
        (["--rtl-tcp", "127.0.0.1:1", "--ppm", "1.5"], "--ppm"),
        (["--rtl-tcp", "127.0.0.1:1", "--rate", "5M"], "outside 0.8-3.2 Msps"),
    ],
)
def test_listen_usage_errors(args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "sdr_wmbus", "listen", *args], capture_output=True, timeout=60
    )
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()


# ---------------------------------------------------------------------- the client on its own
def test_commands_are_five_bytes_big_endian_with_signed_ppm():
    assert encode_command(Command.SET_FREQUENCY, 868_950_000) == b"\x01" + (868_950_000).to_bytes(4, "big")
    assert encode_command(Command.SET_FREQ_CORRECTION, -3) == b"\x05\xff\xff\xff\xfd"


@pytest.mark.parametrize(
    "text, expected",
    [("pi:1234", ("pi", 1234)), ("192.168.1.5", ("192.168.1.5", 1234)), ("[::1]:7373", ("::1", 7373))],
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_client_streams_bytes_in_order_and_sends_manual_gain():
    data = bytes(range(256)) * 4096  # 1 MiB, recognisable
    with RtlTcpServer(data) as server:
        source = RtlTcpSource("127.0.0.1", server.port, RATE, 868.95e6, gain=40.2, ppm=-3, block_bytes=65536)
        source.start()
        received = bytearray()
        for item in source.chunks():
            assert not isinstance(item, Gap)
            received += item.tobytes()
            if len(received) >= len(data):
                source.stop()
        source.close()
        commands = server.commands
    assert bytes(received[: len(data)]) == data
    assert source.tuner == "R820T"
    assert (Command.SET_GAIN_MODE, 1) in commands and (Command.SET_GAIN, 402) in commands
    assert (Command.SET_FREQ_CORRECTION, (-3) & 0xFFFFFFFF) in commands


def test_client_reports_a_gap_when_the_server_comes_back():
    first = RtlTcpServer(b"\x80" * 70000).start()
    port = first.port
    source = RtlTcpSource("127.0.0.1", port, RATE, 868.95e6, block_bytes=65536)
    source.start()
    items = []
    second = None
    try:
        for item in source.chunks():
            items.append(item)
            if isinstance(item, Gap):
                break
            if sum(len(i) for i in items if not isinstance(i, Gap)) >= 70000 and second is None:
                first.stop()
                second = RtlTcpServer(b"\x80" * 1000, port=port).start()
    finally:
        source.close()
        first.stop()
        if second is not None:
            second.stop()
    gap = items[-1]
    assert isinstance(gap, Gap) and gap.seconds >= 0.9 and gap.samples == pytest.approx(gap.seconds * RATE, 1)
    assert source.stats.reconnects == 1 and source.stats.gaps == 1


def test_client_rejects_a_server_that_is_not_rtl_tcp():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def answer():
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    with pytest.raises(SourceError, match="is not an rtl_tcp server"):
        RtlTcpSource("127.0.0.1", port, RATE, 868.95e6).start()
    listener.close()


def test_ppm_tracker_takes_the_median_over_meters():
    tracker = PpmTracker(868.95e6)
    for meter, offset in [("a", -17379.0), ("a", -17379.0), ("b", -16500.0), ("c", -30000.0)]:
        tracker.add(meter, offset)
    assert tracker.estimate() == pytest.approx(20.0, abs=0.01)  # meter c's own crystal is far off
    assert tracker.correction() == 20
    tracker.applied = 20
    tracker.add("a", 0.0)  # after the correction the residual is measured; the total stays about 20
    assert tracker.correction() is None


def test_listen_hears_t1_c1_and_s1_from_one_tuning():
    telegrams = [renumbered(QUNDIS, f"3000000{i}") for i in range(6)]
    iq, sent = synthesize(telegrams, mode="all", sample_rate=RATE, center=868.625e6, ecn0_db=16.0, seed=4)
    data = complex64_to_cu8(iq.astype(np.complex64)).tobytes()
    with RtlTcpServer(data, rate=RATE) as server:
        listen = Listen("--rtl-tcp", f"127.0.0.1:{server.port}", "--modes", "t,c,s")
        got = listen.wait_for(len(sent))
        code = listen.terminate()
        commands = dict(server.commands)
    assert code == 0, listen.stderr
    assert commands[Command.SET_FREQUENCY] == 868_625_000  # the tuning that holds all three modes
    assert sorted((g["mode"], g["id"]) for g in got) == sorted(
        (s["mode"], telegrams[s["index"]][4:8][::-1].hex()) for s in sent
    )
    assert "S1 2" in listen.stderr
