"""rtl_tcp client: IQ from an RTL-SDR on another machine (``rtl_tcp -a 0.0.0.0`` next to the meters).

The protocol (as rtl_tcp from the rtl-sdr project speaks it): on connect the server sends a 12-byte
header, b"RTL0" + tuner type + number of gain steps (both big-endian uint32), then an endless stream
of cu8 samples. The client tunes it with 5-byte commands: one command byte + a big-endian 32-bit
parameter (see ``Command``). The server keeps the settings of the last client only, so they are sent
again after every reconnection.

A connection fails when it closes, breaks, or delivers far less than the sample rate: a watchdog
measures the stream over ``watchdog_s`` (5 s) windows, and less than ``min_rate`` (10 %) of the bytes
the rate needs is a fault (nothing at all is a stall), logged and reconnected; a stream a little short
(under 80 %) is warned about, as the server is then dropping samples. Every kind of failed connection
(refused, timed out, not rtl_tcp, closed right after the header, stalled, trickling) is retried with
exponential back-off (1 s, 2 s, ... up to 30 s), which starts again from 1 s only once a connection has
streamed at the rate for a whole window: a server that accepts and closes at once is not hammered.

The consumer is told about the hole as a ``Gap`` of the samples actually lost: the time from the end of
the signal received (the samples in hand account for the time they cover, so a stall or a trickle
counts from when the stream stopped keeping up) to the first data of the new connection, at the rate.
"""

from __future__ import annotations

import enum
import logging
import socket
import struct
import threading
import time

from .errors import SourceError
from .live import DEFAULT_QUEUE_BLOCKS, LiveSource

log = logging.getLogger("sdr_wmbus.source")

DEFAULT_PORT = 1234
HEADER_BYTES = 12
MAGIC = b"RTL0"
TUNERS = {0: "unknown", 1: "E4000", 2: "FC0012", 3: "FC0013", 4: "FC2580", 5: "R820T", 6: "R828D"}
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
WATCHDOG_S = 5.0  # the stream's rate is checked over windows this long
MIN_RATE = 0.1  # less than this share of the sample rate over a window is a fault
SHORT_RATE = 0.8  # less than this share is warned about (the server drops what we do not take)
TICK_S = 0.5  # the reader wakes up at least this often to check the watchdog
SHORT_WARNING_INTERVAL_S = 60.0


class Command(enum.IntEnum):
    """rtl_tcp command bytes."""

    SET_FREQUENCY = 0x01
    SET_SAMPLE_RATE = 0x02
    SET_GAIN_MODE = 0x03  # 0 = automatic, 1 = manual
    SET_GAIN = 0x04  # tenths of a dB
    SET_FREQ_CORRECTION = 0x05  # ppm (signed)
    SET_IF_GAIN = 0x06
    SET_TEST_MODE = 0x07
    SET_AGC_MODE = 0x08
    SET_DIRECT_SAMPLING = 0x09
    SET_OFFSET_TUNING = 0x0A
    SET_RTL_XTAL = 0x0B
    SET_TUNER_XTAL = 0x0C
    SET_GAIN_BY_INDEX = 0x0D
    SET_BIAS_TEE = 0x0E


def encode_command(command: int, value: int) -> bytes:
    """One 5-byte command; negative values (a ppm correction) are sent as two's complement."""
    return struct.pack(">BI", int(command), int(value) & 0xFFFFFFFF)


def parse_address(text: str) -> tuple[str, int]:
    """'host:port', 'host' or '[v6addr]:port' -> (host, port)."""
    text = text.strip()
    host, port = text, DEFAULT_PORT
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SourceError(f"--rtl-tcp {text!r}: expected HOST:PORT")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise SourceError(f"--rtl-tcp {text!r}: expected HOST:PORT")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, text)
    if not host:
        raise SourceError(f"--rtl-tcp {text!r}: expected HOST:PORT")
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SourceError(f"--rtl-tcp {whole!r}: the port must be a number from 1 to 65535")
    return int(text)


class RtlTcpSource(LiveSource):
    """cu8 blocks from an rtl_tcp server, reconnecting when it goes away."""

    kind = "rtl_tcp"

    def __init__(
        self,
        host: str,
        port: int,
        rate: float,
        center: float,
        gain: str | float = "auto",
        ppm: int = 0,
        bias_tee: bool = False,
        queue_blocks: int = DEFAULT_QUEUE_BLOCKS,
        block_bytes: int = 262144,
        connect_timeout_s: float = 5.0,
        watchdog_s: float = WATCHDOG_S,
        min_rate: float = MIN_RATE,
        backoff: tuple[float, float] = (BACKOFF_FIRST_S, BACKOFF_MAX_S),
    ) -> None:
        super().__init__(rate, center, queue_blocks)
        self.host = host
        self.port = port
        self.gain = gain
        self.ppm = int(ppm)
        self.bias_tee = bias_tee
        self.block_bytes = block_bytes
        self.connect_timeout_s = connect_timeout_s
        self.watchdog_s = watchdog_s
        self.min_rate = min_rate
        self.backoff = backoff
        self.tuner: str | None = None
        self.gain_steps = 0
        self.connections = 0  # connections made (header read), the first one included
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._delay = backoff[0]  # the wait before the next connection attempt
        # Signal time (monotonic seconds) up to which every sample is in hand or counted lost; None
        # before the first data.
        self._accounted: float | None = None
        self._outage: str | None = None  # why the stream stopped, until it is healthy again
        self._outage_warned = False
        self._last_short_warning = -SHORT_WARNING_INTERVAL_S

    def describe(self) -> str:
        return f"rtl_tcp server {self.host}:{self.port}"

    # ------------------------------------------------------------------ connection
    def _open(self) -> None:
        try:
            self._connect()
        except OSError as exc:
            raise SourceError(f"cannot connect to {self.describe()}: {_reason(exc)}") from None
        tuner = f", tuner {self.tuner}" if self.tuner else ""
        log.info("connected to %s%s", self.describe(), tuner)

    def _connect(self) -> None:
        """Connect, check the header and send the settings (raises OSError or SourceError)."""
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            header = _recv_exactly(sock, HEADER_BYTES)
            if len(header) < HEADER_BYTES or header[:4] != MAGIC:
                raise SourceError(f"{self.describe()} is not an rtl_tcp server (no RTL0 header)")
            tuner, self.gain_steps = struct.unpack(">II", header[4:])
            self.tuner = TUNERS.get(tuner, f"type {tuner}")
            sock.settimeout(TICK_S)
            self._sock = sock
            try:
                for command, value in self._settings():
                    self._send(command, value)
            except OSError as exc:
                raise SourceError(
                    f"{self.describe()} closed the connection right after its header ({_reason(exc)})"
                ) from None
            self.connections += 1
        except BaseException:
            sock.close()
            self._sock = None
            raise

    def _settings(self) -> list[tuple[int, int]]:
        commands = [
            (Command.SET_SAMPLE_RATE, int(round(self.rate))),
            (Command.SET_FREQUENCY, int(round(self.center))),
            (Command.SET_FREQ_CORRECTION, self.ppm),
        ]
        if self.gain == "auto":
            commands.append((Command.SET_GAIN_MODE, 0))
        else:
            commands += [(Command.SET_GAIN_MODE, 1), (Command.SET_GAIN, int(round(float(self.gain) * 10)))]
        commands.append((Command.SET_BIAS_TEE, 1 if self.bias_tee else 0))
        return commands

    def _send(self, command: int, value: int) -> None:
        with self._send_lock:
            if self._sock is not None:
                self._sock.sendall(encode_command(command, value))

    def set_ppm(self, ppm: int) -> None:
        ppm = int(ppm)
        if ppm == self.ppm:
            return
        self.ppm = ppm
        try:
            self._send(Command.SET_FREQ_CORRECTION, ppm)
            log.info("%s: frequency correction set to %+d ppm", self.describe(), ppm)
        except OSError as exc:  # the reconnection will send it again
            log.warning("%s: could not send the ppm correction: %s", self.describe(), _reason(exc))

    # ------------------------------------------------------------------ reader thread
    def _run(self) -> None:
        while not self.stopping:
            reason = self._stream()
            if self.stopping:
                return
            if self._outage is None:
                self._outage = reason
                log.warning("%s went away (%s); reconnecting", self.describe(), reason)
            elif self._delay >= self.backoff[1] and not self._outage_warned:
                self._outage_warned = True  # still no usable stream: say so once more, then at -v
                log.warning(
                    "%s: still no usable stream (%s); trying every %g s", self.describe(), reason, self._delay
                )
            else:  # the back-off grows
                log.info("%s: %s; next try in %g s", self.describe(), reason, self._delay)
            if not self._reconnect():
                return
            self.stats.reconnects += 1
            log.info("reconnected to %s", self.describe())

    def _stream(self) -> str:
        """Read blocks until the connection ends or fails the watchdog; returns why it ended."""
        buffer = bytearray(self.block_bytes)
        view = memoryview(buffer)
        filled = 0
        sock = self._sock
        started = time.monotonic()
        window_start, window_bytes = started, 0
        received = 0  # bytes on this connection
        last_data = started
        need = 2 * self.rate  # bytes per second at the sample rate
        try:
            while not self.stopping and sock is not None:
                try:
                    got = sock.recv_into(view[filled:])
                except TimeoutError:
                    got = -1  # no data this tick
                now = time.monotonic()
                if got == 0:
                    if not received:
                        return "connection closed by the server right after the header"
                    return "connection closed by the server"
                if got > 0:
                    if not received:
                        self._first_data(now)
                    received += got
                    window_bytes += got
                    last_data = now
                    self._accounted = min(now, self._accounted + got / need)
                    filled += got
                    if filled == len(buffer):
                        self._emit(view)
                        filled = 0
                if now - window_start >= self.watchdog_s:
                    share = window_bytes / (need * (now - window_start))
                    if window_bytes == 0:
                        return f"no data for {now - window_start:.0f} s"
                    if share < self.min_rate:
                        rate = window_bytes / (now - window_start)
                        return (
                            f"stream far too slow: {rate:,.0f} bytes/s, {100 * share:.1f} % of the "
                            f"{need:,.0f} bytes/s that {self.rate / 1e6:g} Msps need"
                        )
                    if share < SHORT_RATE:
                        # too slow while it flowed (not a stall starting, which the next window sees)
                        flowing = window_bytes / (need * max(last_data - window_start, 1e-3))
                        if flowing < SHORT_RATE:
                            self._warn_short(share)
                    else:  # a healthy window: the next failure starts the back-off afresh
                        self._delay = self.backoff[0]
                        self._outage = None
                        self._outage_warned = False
                    window_start, window_bytes = now, 0
            return "stopped"
        except OSError as exc:
            return _reason(exc)
        finally:
            if filled:
                self._emit(view[:filled])
            self._drop_socket()

    def _first_data(self, now: float) -> None:
        """The first bytes of a connection: the samples missed since the last ones in hand are a gap."""
        if self._accounted is None:  # the very first data
            self._accounted = now
            return
        lost_s = max(0.0, now - self._accounted)
        self._accounted = now
        if self.connections > 1:
            why = f" ({self._outage})" if self._outage else ""
            self._gap(lost_s, f"{self.describe()} away{why}")

    def _warn_short(self, share: float) -> None:
        now = time.monotonic()
        if now - self._last_short_warning >= SHORT_WARNING_INTERVAL_S:
            self._last_short_warning = now
            log.warning(
                "%s delivers only %.0f %% of the %g Msps sample rate (a slow link?): samples are being lost",
                self.describe(),
                100 * share,
                self.rate / 1e6,
            )

    def _reconnect(self) -> bool:
        """Wait the back-off, then try to connect (the wait doubles on every failure); False if stopped."""
        while not self.stopping:
            delay = self._delay
            self._delay = min(2 * delay, self.backoff[1])
            if self._stopping.wait(delay):
                return False
            try:
                self._connect()
                return True
            except (OSError, SourceError) as exc:
                log.info(
                    "%s: reconnect failed (%s); next try in %g s", self.describe(), _reason(exc), self._delay
                )
        return False

    def _drop_socket(self) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _interrupt(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close(self) -> None:
        self._drop_socket()


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
