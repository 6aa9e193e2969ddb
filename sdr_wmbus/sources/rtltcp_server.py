"""A stand-in rtl_tcp server that serves a cu8 recording: for tests, benchmarks and checking a set-up.

It speaks the server side of the rtl_tcp protocol (the 12-byte RTL0 header, then cu8 samples; it
reads and records the 5-byte commands a client sends) but takes its samples from a recording instead
of a dongle, paced at the recording's sample rate (as a dongle would) or as fast as the client reads.

    python3 -m sdr_wmbus.sources.rtltcp_server samples/rtlsdr_868.950M_1M6_synth_t1_c1.cu8 --loop
    sdr-wmbus listen --rtl-tcp 127.0.0.1:1234

One client at a time, like rtl_tcp. ``disconnect()`` drops the current client (as a server that
crashes or loses its network would), ``stop()`` closes the listening socket too; a new server may
then be started on the same port.
"""

from __future__ import annotations

import argparse
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

from .rtltcp import MAGIC

CHUNK_BYTES = 32768


class RtlTcpServer:
    """Serves ``data`` (cu8 bytes, or a callable returning an iterator of byte chunks) to one client."""

    def __init__(
        self,
        data: bytes | Callable[[], Iterator[bytes]],
        host: str = "127.0.0.1",
        port: int = 0,
        rate: float | None = None,
        loop: bool = False,
        after_end: str = "silence",
        tuner: int = 5,
        gain_steps: int = 29,
    ) -> None:
        self.data = data
        self.rate = rate  # samples/s to pace at; None: as fast as the client reads
        self.loop = loop
        self.after_end = after_end  # "silence" (keep sending a flat carrier-free signal) or "close"
        self.header = MAGIC + struct.pack(">II", tuner, gain_steps)
        self.commands: list[tuple[int, int]] = []
        self.bytes_sent = 0
        self.clients = 0
        self.finished = threading.Event()  # set when the data has been sent completely (not looping)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(1)
        self._listener.settimeout(0.1)  # accept() wakes up to notice stop()
        self.host, self.port = self._listener.getsockname()[:2]
        self._client: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="rtl_tcp-server", daemon=True)

    def start(self) -> RtlTcpServer:
        self._thread.start()
        return self

    def disconnect(self) -> None:
        """Drop the current client (it will see the connection close)."""
        client = self._client
        if client is not None:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self._stopping.set()
        self.disconnect()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._listener.close()

    def __enter__(self) -> RtlTcpServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving
    def _chunks(self) -> Iterator[bytes]:
        while True:
            if callable(self.data):
                yield from self.data()
            else:
                for i in range(0, len(self.data), CHUNK_BYTES):
                    yield self.data[i : i + CHUNK_BYTES]
            if not self.loop:
                return

    def _serve(self) -> None:
        chunks = self._chunks()  # one position in the data across clients, like a live dongle
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self.clients += 1
            self._client = client
            reader = threading.Thread(target=self._read_commands, args=(client,), daemon=True)
            reader.start()
            try:
                client.sendall(self.header)
                self._send(client, chunks)
            except OSError:
                pass
            finally:
                self._client = None
                client.close()

    def _send(self, client: socket.socket, chunks: Iterator[bytes]) -> None:
        started = time.monotonic()
        sent_at_start = self.bytes_sent
        for chunk in chunks:
            if self._stopping.is_set():
                return
            client.sendall(chunk)
            self.bytes_sent += len(chunk)
            if self.rate:
                due = started + (self.bytes_sent - sent_at_start) / (2 * self.rate)
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        self.finished.set()
        if self.after_end == "close":
            return
        silence = bytes([127, 128]) * (CHUNK_BYTES // 2)
        while not self._stopping.is_set():
            client.sendall(silence)
            time.sleep(CHUNK_BYTES / 2 / self.rate if self.rate else 0.01)

    def _read_commands(self, client: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                got = client.recv(64)
            except OSError:
                return
            if not got:
                return
            buffer += got
            while len(buffer) >= 5:
                command, value = struct.unpack(">BI", buffer[:5])
                self.commands.append((command, value))
                buffer = buffer[5:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m sdr_wmbus.sources.rtltcp_server",
        description="Serve a cu8 recording as an rtl_tcp server (for testing a set-up without a dongle).",
    )
    parser.add_argument("file", help="cu8 recording")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--rate", type=float, default=1.6e6, help="pace at this sample rate (0: unpaced)")
    parser.add_argument("--loop", action="store_true", help="start again at the end of the file")
    args = parser.parse_args(argv)
    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
        server = RtlTcpServer(data, args.host, args.port, rate=args.rate or None, loop=args.loop)
    except OSError as exc:
        parser.exit(1, f"error: {exc.strerror or exc}\n")
    print(f"serving {args.file} on {server.host}:{server.port} (Ctrl-C to stop)")
    server.start()
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
