"""rtl_tcp servers that misbehave: back-off for every kind of failed connection, a watchdog on the sample
rate, and gaps measured in the samples actually lost. Scripted servers on loopback, real time."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable

import pytest

from sdr_wmbus.sources.live import Gap
from sdr_wmbus.sources.rtltcp import MAGIC, RtlTcpSource

RATE = 1.6e6
HEADER = MAGIC + struct.pack(">II", 5, 29)  # R820T, 29 gain steps

Script = Callable[[socket.socket, threading.Event], None]


class ScriptedServer:
    """Accepts connections on loopback; connection n is served by ``scripts[n]`` (the last one for
    every connection after), which gets the socket and an event set when the test ends."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = scripts
        self.connected_at: list[float] = []
        self.done = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connected_at.append(time.monotonic())
            script = self.scripts[min(len(self.connected_at), len(self.scripts)) - 1]
            threading.Thread(target=self._run, args=(script, conn), daemon=True).start()

    def _run(self, script: Script, conn: socket.socket) -> None:
        try:
            script(conn, self.done)
        except OSError:
            pass
        finally:
            conn.close()

    def wait_connections(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.connected_at) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(self.connected_at) >= count

    def close(self) -> None:
        self.done.set()
        self._thread.join(timeout=2)
        self._listener.close()


def header_then_close(conn: socket.socket, done: threading.Event) -> None:
    """The header, then (having read the client's settings) the connection closes."""
    conn.sendall(HEADER)
    conn.settimeout(0.2)
    try:
        while conn.recv(1024):
            pass
    except TimeoutError:
        pass


def trickle(conn: socket.socket, done: threading.Event) -> None:
    """The header, then one byte every 0.5 s."""
    conn.sendall(HEADER)
    while not done.wait(0.5):
        conn.sendall(b"\x80")


def paced(seconds: float | None, share: float = 1.0, then: str = "stall") -> Script:
    """The header, then samples at ``share`` of the rate for ``seconds`` (None: until the end), then
    nothing more on an open connection (``then="stall"``) or a closed one (``"close"``)."""

    def script(conn: socket.socket, done: threading.Event) -> None:
        conn.sendall(HEADER)
        chunk = bytes([127, 128]) * 8000  # 10 ms at 1.6 Msps
        started = time.monotonic()
        sent = 0
        while not done.is_set() and (seconds is None or time.monotonic() - started < seconds):
            conn.sendall(chunk)
            sent += len(chunk)
            delay = started + sent / (2 * RATE * share) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if then == "stall":
            done.wait()

    return script


@pytest.fixture
def servers():
    made: list = []
    yield made
    for item in reversed(made):
        item.close()


def first_gap(source: RtlTcpSource, timeout: float) -> Gap | None:
    """The first Gap the consumer gets, or None if none came within ``timeout`` s."""
    watchdog = threading.Timer(timeout, source.stop)  # ends chunks() even when nothing comes
    watchdog.start()
    try:
        for item in source.chunks():
            if isinstance(item, Gap):
                return item
        return None
    finally:
        watchdog.cancel()


def test_a_server_that_sends_its_header_and_closes_is_retried_with_back_off(servers, caplog):
    # a server that worked, then goes bad: from now on it sends its header and closes
    server = ScriptedServer(paced(0.5, then="close"), header_then_close)
    servers.append(server)
    source = RtlTcpSource("127.0.0.1", server.port, RATE, 868.95e6)
    servers.append(source)
    with caplog.at_level(logging.INFO, logger="sdr_wmbus.source"):
        source.start()
        assert server.wait_connections(4, timeout=12)
    attempts = server.connected_at
    # 1 s, 2 s, 4 s (it was retried every 1.0 s forever: a header is no proof of a working server)
    assert 1.3 <= attempts[1] - attempts[0] <= 2.3  # 0.5 s of signal, then 1 s
    assert 2.1 <= attempts[2] - attempts[1] <= 3.0  # 0.2 s connected, then 2 s
    assert 4.1 <= attempts[3] - attempts[2] <= 5.0
    assert source.stats.gaps == 0  # no signal came after the first: no gap reported yet
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"127.0.0.1:{server.port} went away" in warnings[0]  # the rest at -v
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("right after the header; next try in 4 s" in text for text in retries), retries


def test_a_server_that_trickles_a_byte_every_half_second_is_a_fault(servers, caplog):
    server = ScriptedServer(trickle, paced(None))
    servers.append(server)
    source = RtlTcpSource("127.0.0.1", server.port, RATE, 868.95e6)
    servers.append(source)
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.source"):
        source.start()
        gap = first_gap(source, timeout=15)
    assert len(server.connected_at) == 2
    # noticed by the 5 s watchdog, reconnected after 1 s
    assert 5.0 <= server.connected_at[1] - server.connected_at[0] <= 7.5
    assert (
        "stream far too slow" in caplog.text
        and "% of the 3,200,000 bytes/s that 1.6 Msps need" in caplog.text
    )
    # the trickle was no signal: the whole time from its first byte to the new stream is lost
    assert gap is not None and 5.5 <= gap.seconds <= 8.0
    assert gap.samples == pytest.approx(gap.seconds * RATE, abs=2)
    assert "stream far too slow" in gap.reason


def test_a_stall_is_a_gap_of_the_samples_actually_lost(servers, caplog):
    # 1.5 s of signal, then the connection stays open and silent; the next connection streams
    server = ScriptedServer(paced(1.5), paced(None))
    servers.append(server)
    source = RtlTcpSource("127.0.0.1", server.port, RATE, 868.95e6, watchdog_s=1.0)
    servers.append(source)
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.source"):
        source.start()
        received = 0
        gap = None
        threading.Timer(15, source.stop).start()
        for item in source.chunks():
            if isinstance(item, Gap):
                gap = item
                break
            received += len(item) // 2
    assert len(server.connected_at) == 2
    silent_until = server.connected_at[1]  # about when the new stream started
    # stall noticed after 1 s without data (at the end of a watchdog window), then 1 s of back-off:
    # about 2.5 s of signal missing, not the 1 s of back-off alone
    assert 2.0 <= gap.seconds <= 3.5, gap
    assert gap.samples == pytest.approx(gap.seconds * RATE, abs=2)
    assert received == pytest.approx(1.5 * RATE, rel=0.05)
    assert silent_until - server.connected_at[0] == pytest.approx(1.5 + gap.seconds, abs=0.5)
    assert "no data for 1 s" in caplog.text
    assert "delivers only" not in caplog.text  # a stall is not a slow link


def test_a_slow_stream_is_warned_about_but_kept(servers, caplog):
    server = ScriptedServer(paced(None, share=0.5))
    servers.append(server)
    source = RtlTcpSource("127.0.0.1", server.port, RATE, 868.95e6, watchdog_s=1.0)
    servers.append(source)
    with caplog.at_level(logging.WARNING, logger="sdr_wmbus.source"):
        source.start()
        deadline = time.monotonic() + 2.6
        for _ in source.chunks():
            if time.monotonic() > deadline:
                break
    assert len(server.connected_at) == 1 and source.stats.reconnects == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # once a minute at most
    assert "delivers only 5" in warnings[0] or "delivers only 4" in warnings[0]
    assert "samples are being lost" in warnings[0]
