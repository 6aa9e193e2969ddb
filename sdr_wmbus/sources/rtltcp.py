"""rtl_tcp client: IQ from an RTL-SDR on another machine (``rtl_tcp -a 0.0.0.0`` next to the meters).

The protocol (as rtl_tcp from the rtl-sdr project speaks it): on connect the server sends a 12-byte
header, b"RTL0" + tuner type + number of gain steps (both big-endian uint32), then an endless stream
of cu8 samples. The client tunes it with 5-byte commands: one command byte + a big-endian 32-bit
parameter (see ``Command``). The server keeps the settings of the last client only, so they are sent
again after every reconnection.

A server that goes away (closed connection, network error, or no data for ``stall_s``) is reconnected
with exponential back-off (1 s, 2 s, ... up to 30 s), for as long as it takes; the time it was away is
reported to the consumer as a ``Gap`` and counted in the stats.
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
        stall_s: float = 10.0,
    ) -> None:
        super().__init__(rate, center, queue_blocks)
        self.host = host
        self.port = port
        self.gain = gain
        self.ppm = int(ppm)
        self.bias_tee = bias_tee
        self.block_bytes = block_bytes
        self.connect_timeout_s = connect_timeout_s
        self.stall_s = stall_s
        self.tuner: str | None = None
        self.gain_steps = 0
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()

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
            sock.settimeout(self.stall_s)
            self._sock = sock
            for command, value in self._settings():
                self._send(command, value)
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
            lost_at = time.monotonic()
            log.warning("%s went away (%s); reconnecting", self.describe(), reason)
            if not self._reconnect():
                return
            away = time.monotonic() - lost_at
            self.stats.reconnects += 1
            log.warning("reconnected to %s after %.1f s (gap in the signal)", self.describe(), away)
            self._gap(away, f"{self.describe()} away")

    def _stream(self) -> str:
        """Read blocks until the connection ends; returns why it ended."""
        buffer = bytearray(self.block_bytes)
        view = memoryview(buffer)
        filled = 0
        sock = self._sock
        try:
            while not self.stopping and sock is not None:
                try:
                    # MSG_WAITALL: one system call (and one GIL round trip) per block, not per packet
                    got = sock.recv_into(view[filled:], 0, socket.MSG_WAITALL)
                except TimeoutError:
                    return f"no data for {self.stall_s:g} s"
                if got == 0:
                    return "connection closed by the server"
                filled += got
                if filled == len(buffer):
                    self._emit(view)
                    filled = 0
            return "stopped"
        except OSError as exc:
            return _reason(exc)
        finally:
            if filled:
                self._emit(view[:filled])
            self._drop_socket()

    def _reconnect(self) -> bool:
        delay = BACKOFF_FIRST_S
        while not self.stopping:
            if self._stopping.wait(delay):
                return False
            try:
                self._connect()
                return True
            except (OSError, SourceError) as exc:
                log.info(
                    "%s: reconnect failed (%s); next try in %.0f s", self.describe(), _reason(exc), delay
                )
                delay = min(2 * delay, BACKOFF_MAX_S)
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
