"""Live reception (``sdr-wmbus listen``; its options are in cli/listen.py): statistics, the dongle's
ppm estimate, and the loop from a live source to the outputs.

The source's reader thread fills a bounded queue (sources/live.py); this loop drains it through the
same pipeline as ``replay``. A hole in the stream (blocks dropped because we fell behind, or an rtl_tcp
server that went away) restarts the receiver after the hole, so no frame is stitched across it, and
is counted. SIGINT and SIGTERM stop the source; what was already received is still decoded and every
output is flushed before the exit.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections import defaultdict, deque

import numpy as np

from .dsp.convert import cu8_to_complex64
from .pipeline import frame_counts, mode_counts

log = logging.getLogger("sdr_wmbus.listen")

AUTO_PPM_MIN_FRAMES = 3  # frames before the first automatic correction
OFFSETS_PER_METER = 16  # most recent carrier offsets kept per meter


class PpmTracker:
    """The dongle's frequency error, from the carrier offsets the receiver measures for each meter.

    Every meter's own crystal is off by a few ppm too, so the estimate is the median over meters of
    each meter's median offset. Offsets are stored as dongle ppm (a carrier that appears low means a
    dongle whose oscillator runs fast: positive ppm), including the correction applied when measured.
    """

    def __init__(self, center: float, applied: int = 0) -> None:
        self.center = center
        self.applied = applied
        self.frames = 0
        self.per_meter: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=OFFSETS_PER_METER))
        self.offsets_hz: dict[str, float] = {}

    def add(self, meter_id: str, offset_hz: float) -> None:
        self.frames += 1
        self.offsets_hz[meter_id] = offset_hz
        self.per_meter[meter_id].append(self.applied - offset_hz / self.center * 1e6)

    def estimate(self) -> float | None:
        if not self.per_meter:
            return None
        return statistics.median(statistics.median(values) for values in self.per_meter.values())

    def correction(self) -> int | None:
        """A new whole-ppm correction when the estimate has moved by at least 1 ppm, else None."""
        estimate = self.estimate()
        if estimate is None or self.frames < AUTO_PPM_MIN_FRAMES:
            return None
        wanted = int(round(estimate))
        return wanted if wanted != self.applied else None


class Listener:
    """Runs one source through the pipeline into the outputs, with live statistics."""

    def __init__(self, source, pipeline, outputs, recording, ppm: PpmTracker, auto_ppm: bool, args) -> None:
        self.source = source
        self.pipeline = pipeline
        self.outputs = outputs
        self.recording = recording
        self.ppm = ppm
        self.auto_ppm = auto_ppm
        self.stats_interval = args.stats_interval
        self.verbose = args.verbose
        self.telegrams = 0
        self.chip_rates: dict[str, float] = {}  # meter id -> last chip-rate error (ppm)
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self._last_stats = (self.started, self.cpu_started, 0)

    def run(self) -> None:
        next_stats = self.started + self.stats_interval
        for item in self.source.chunks():
            if isinstance(item, np.ndarray):
                if self.recording is not None:
                    self.recording.write_raw(item)
                self._emit(self.pipeline.process(cu8_to_complex64(item)))
            else:
                log.warning(
                    "gap in the signal: %.1f s (%d samples) lost: %s", item.seconds, item.samples, item.reason
                )
                self._emit(self.pipeline.gap(item.samples))
            if time.monotonic() >= next_stats:
                if self.verbose:
                    self.print_stats()
                self.outputs.status(self.status())
                next_stats = time.monotonic() + self.stats_interval
        self._emit(self.pipeline.flush())

    def _emit(self, results: list[dict]) -> None:
        for result in results:
            self.telegrams += 1
            offset = result.get("freq_offset_hz")
            if "id" in result and offset is not None:
                self.ppm.add(str(result["id"]), float(offset))
            if "id" in result and result.get("chip_rate_error_ppm") is not None:
                self.chip_rates[str(result["id"])] = float(result["chip_rate_error_ppm"])
            self.outputs.receive(result)
        if results and self.auto_ppm:
            wanted = self.ppm.correction()
            if wanted is not None:
                log.info(
                    "dongle frequency error about %+.1f ppm: correcting by %+d ppm",
                    self.ppm.estimate(),
                    wanted,
                )
                self.ppm.applied = wanted
                self.source.set_ppm(wanted)

    def status(self) -> dict:
        """Receiver status for MQTT (retained on <prefix>/receiver/<name>/status)."""
        src = self.source.stats
        estimate = self.ppm.estimate()
        return {
            "source": self.source.describe(),
            "uptime_s": round(time.monotonic() - self.started, 1),
            "samples": src.samples,
            "telegrams": self.telegrams,
            **self.pipeline.stats(),
            "duplicates": self.pipeline.duplicates,
            "dropped_blocks": src.dropped_blocks,
            "gaps": src.gaps,
            "reconnects": src.reconnects,
            "ppm_estimate": None if estimate is None else round(estimate, 1),
            "ppm_applied": self.ppm.applied,
        }

    def summary(self) -> str:
        wall = time.monotonic() - self.started
        cpu = time.process_time() - self.cpu_started
        stats = self.pipeline.stats()
        src = self.source.stats
        estimate = self.ppm.estimate()
        ppm_text = (
            f"dongle {estimate:+.1f} ppm from {len(self.ppm.per_meter)} meters"
            if estimate is not None
            else "dongle ppm unknown (no meter heard)"
        )
        speed = src.samples / max(wall, 1e-9) / 1e6
        return (
            f"{src.samples:,} samples in {wall:.1f} s ({speed:.2f} M samples/s, "
            f"CPU {100 * cpu / max(wall, 1e-9):.1f} %): {frame_counts(stats, self.pipeline.duplicates)}; "
            f"dropped {src.dropped_blocks} blocks "
            f"({src.dropped_samples:,} samples), {src.gaps} gaps ({src.gap_seconds:.1f} s), "
            f"{src.reconnects} reconnects; {ppm_text}"
        )

    def print_stats(self) -> None:
        now, cpu_now = time.monotonic(), time.process_time()
        then, cpu_then, samples_then = self._last_stats
        src = self.source.stats
        interval = max(now - then, 1e-9)
        stats = self.pipeline.stats()
        parts = []
        for meter, hz in sorted(self.ppm.offsets_hz.items()):
            chip = self.chip_rates.get(meter)
            clock = f" chip clock {chip:+.0f} ppm" if chip is not None else ""
            parts.append(f"{meter} {hz:+.0f} Hz{clock}")
        meters = ", ".join(parts) or "none yet"
        print(
            f"sdr-wmbus: stats: {(src.samples - samples_then) / interval / 1e6:.2f} M samples/s, "
            f"CPU {100 * (cpu_now - cpu_then) / interval:.1f} %, frames {mode_counts(stats)}, "
            f"lost to CRC errors {stats['crc_failures']}, sync hits on noise {stats['false_syncs']}, "
            f"dropped {src.dropped_blocks} "
            f"blocks, gaps {src.gaps}; meter carrier offsets and chip clocks: {meters}",
            file=sys.stderr,
            flush=True,
        )
        self._last_stats = (now, cpu_now, src.samples)
