"""Live IQ sources (an RTL-SDR stick, an rtl_tcp server): a reader thread feeds a bounded queue.

The radio produces samples at its own pace whether or not we keep up, so a reader thread takes them
as they come and the consumer (demodulator) drains a bounded queue. When the consumer falls behind
and the queue is full, the newest block is dropped, counted and logged, and the consumer is told how
many samples are missing (a ``Gap``) before the next block it gets: nothing is lost silently, and the
receiver never stitches two pieces of signal together as if they were continuous.

Blocks are raw cu8 bytes (I, Q, I, Q, ... unsigned 8-bit), as both rtl-sdr and rtl_tcp deliver them:
the same bytes can be written to a recording (``--save-iq``) without conversion.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger("sdr_wmbus.source")

DEFAULT_QUEUE_BLOCKS = 64  # 64 blocks of 256 kB: about 5 s of signal at 1.6 Msps
DROP_LOG_INTERVAL_S = 10.0  # at most one log line per this many seconds about dropped blocks


@dataclass
class Gap:
    """Samples that never reached the consumer: dropped blocks or the time a server was away."""

    samples: int
    seconds: float
    reason: str


@dataclass
class LiveStats:
    samples: int = 0  # samples handed to the consumer
    blocks: int = 0
    dropped_blocks: int = 0  # blocks the consumer was too slow for
    dropped_samples: int = 0
    gaps: int = 0  # interruptions of the stream (server gone, device error)
    gap_seconds: float = 0.0
    reconnects: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class LiveSource:
    """Base of the threaded sources: subclasses implement ``_run`` and call ``_emit``/``_gap`` from it.

    ``chunks()`` yields numpy uint8 arrays (cu8 bytes, an even number) and ``Gap`` objects, and ends
    after ``stop()`` (callable from any thread or a signal handler) or when the reader gives up; the
    blocks already queued are still delivered, so a stop loses nothing that was received.
    """

    kind = "live"

    def __init__(self, rate: float, center: float, queue_blocks: int = DEFAULT_QUEUE_BLOCKS) -> None:
        self.rate = float(rate)
        self.center = float(center)
        self.stats = LiveStats()
        self.error: str | None = None  # set by the reader when it gives up: the reason, in one line
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_blocks))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending_drop = 0  # samples dropped since the last block that made it into the queue
        self._last_drop_log = 0.0
        self._odd_byte: bytes = b""

    # ------------------------------------------------------------------ consumer side
    def start(self) -> None:
        """Open the device or connection (errors raise SourceError here) and start reading."""
        self._open()
        self._thread = threading.Thread(target=self._reader, name=f"{self.kind}-reader", daemon=True)
        self._thread.start()

    def chunks(self, poll_s: float = 0.2) -> Iterator[np.ndarray | Gap]:
        while True:
            try:
                item = self._queue.get(timeout=poll_s)
            except queue.Empty:
                if self._thread is None or not self._thread.is_alive():
                    return
                continue
            if item is None:  # the reader has finished
                return
            if isinstance(item, Gap):
                yield item
                continue
            dropped, block = item
            if dropped:
                yield Gap(dropped, dropped / self.rate, "receiver too slow: blocks dropped")
            self.stats.samples += len(block) // 2
            self.stats.blocks += 1
            yield block

    def stop(self) -> None:
        """Ask the reader to finish; safe from a signal handler or another thread."""
        self._stopping.set()
        self._interrupt()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._close()

    def set_ppm(self, ppm: int) -> None:
        """Apply a frequency correction (ppm) on the device; sources that cannot do it ignore it."""

    def describe(self) -> str:
        return self.kind

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ reader side
    def _reader(self) -> None:
        try:
            self._run()
        except Exception as exc:  # the reason goes to the user in one line, not as a traceback
            self.error = str(exc) or type(exc).__name__
            log.error("%s: %s", self.describe(), self.error)
        finally:
            self._put_final()

    def _put_final(self) -> None:
        """Mark the end of the stream after the queued blocks (which the consumer still gets)."""
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                self._queue.put(None, timeout=0.2)
                return
            except queue.Full:
                continue  # the consumer is still draining; if it is gone, chunks() ends on its own

    def _emit(self, data: bytes | bytearray | memoryview | np.ndarray) -> None:
        """Queue one block of cu8 bytes (any length: an odd byte is carried to the next block)."""
        raw = self._odd_byte + bytes(data)
        if len(raw) % 2:
            raw, self._odd_byte = raw[:-1], raw[-1:]
        else:
            self._odd_byte = b""
        if not raw:
            return
        block = np.frombuffer(raw, dtype=np.uint8)
        try:
            self._queue.put_nowait((self._pending_drop, block))
            self._pending_drop = 0
        except queue.Full:
            samples = len(block) // 2
            self._pending_drop += samples
            self.stats.dropped_blocks += 1
            self.stats.dropped_samples += samples
            now = time.monotonic()
            if now - self._last_drop_log >= DROP_LOG_INTERVAL_S:
                self._last_drop_log = now
                log.warning(
                    "%s: receiver too slow, dropped %d blocks (%d samples) so far",
                    self.describe(),
                    self.stats.dropped_blocks,
                    self.stats.dropped_samples,
                )

    def _gap(self, seconds: float, reason: str) -> None:
        """Tell the consumer the stream was interrupted for ``seconds`` (blocks until queued)."""
        samples = int(round(seconds * self.rate)) + self._pending_drop
        self._pending_drop = 0
        self._odd_byte = b""
        self.stats.gaps += 1
        self.stats.gap_seconds += seconds
        gap = Gap(samples, seconds, reason)
        while not self._stopping.is_set():
            try:
                self._queue.put(gap, timeout=0.2)
                return
            except queue.Full:
                continue

    # ------------------------------------------------------------------ to implement
    def _open(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Wake the reader if it is blocked (cancel an async read, shut a socket down)."""

    def _close(self) -> None:
        """Release the device or connection."""
