"""Radio to JSON: IQ blocks -> T1/C1 receiver -> telegram stack -> one dict per telegram.

Kept in plain Python: the numba kernels live in dsp/, the per-frame work is small.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from .decoder import TelegramDecoder
from .errors import DecodeError
from .frame import Frame
from .link.dll import parse_link_header
from .phy.combined import CHANNEL_CAPTURE_HZ, CombinedReceiver

DUPLICATE_WINDOW_S = 2.0  # the same bytes again within this time is the same telegram heard twice


class RadioPipeline:
    """Stateful: feed IQ blocks, get decoded telegrams; identical frames close in time are reported once."""

    def __init__(
        self,
        rate: float,
        center: float,
        modes: str,
        decoder: TelegramDecoder | None,
        max_offset_hz: float = CHANNEL_CAPTURE_HZ,
    ) -> None:
        """``decoder=None``: no telegram stack (a receiver that holds no keys): each frame becomes its
        raw record, hex plus radio metadata and the link-layer id, for a central decoder.
        ``max_offset_hz``: the carrier range (see CombinedReceiver)."""
        self.rate, self.center, self.modes, self.max_offset_hz = rate, center, modes, max_offset_hz
        self.receiver = CombinedReceiver(rate, center, modes, max_offset_hz)
        self.decoder = decoder
        self.recent: OrderedDict[bytes, float] = OrderedDict()
        self.duplicates = 0
        self.base_sample = 0  # stream position of the current receiver's first sample
        self.samples = 0  # samples given to the current receiver
        self.totals = {
            "frames_t1": 0,
            "frames_c1": 0,
            "frames_s1": 0,
            "crc_failures": 0,
            "false_syncs": 0,
            "candidates": 0,
        }

    def process(self, block: np.ndarray) -> list[dict]:
        self.samples += len(block)
        return self._decode(self.receiver.process(block))

    def flush(self) -> list[dict]:
        return self._decode(self.receiver.flush())

    def gap(self, samples: int) -> list[dict]:
        """The stream lost ``samples`` samples: finish what the receiver holds and start afresh after
        the hole (a frame is never stitched across it); sample numbers and times go on counting."""
        out = self.flush()
        self._add_stats()
        self.base_sample += self.samples + max(0, int(samples))
        self.samples = 0
        self.receiver = CombinedReceiver(self.rate, self.center, self.modes, self.max_offset_hz)
        return out

    def stats(self) -> dict[str, int]:
        """Receiver counters over the whole stream (across gaps)."""
        current = self.receiver.stats
        return {name: total + getattr(current, name) for name, total in self.totals.items()}

    def _add_stats(self) -> None:
        for name in self.totals:
            self.totals[name] += getattr(self.receiver.stats, name)

    def _decode(self, frames: Iterable[Frame]) -> list[dict]:
        out = []
        for frame in frames:
            if self.base_sample and frame.sample is not None:
                frame = dataclasses.replace(
                    frame,
                    sample=frame.sample + self.base_sample,
                    time=(frame.sample + self.base_sample) / self.rate,
                )
            now = frame.time or 0.0
            while self.recent and next(iter(self.recent.values())) < now - DUPLICATE_WINDOW_S:
                self.recent.popitem(last=False)
            if frame.data in self.recent:
                self.duplicates += 1
                continue
            self.recent[frame.data] = now
            result = self.decoder.decode(frame) if self.decoder is not None else raw_frame_record(frame)
            result["time_s"] = round(now, 6)
            out.append(result)
        return out

    def run(self, blocks: Iterable[np.ndarray]) -> Iterator[dict]:
        for block in blocks:
            yield from self.process(block)
        yield from self.flush()


def raw_frame_record(frame: Frame) -> dict:
    """Hex and radio metadata of a frame, with the link layer's meter id and manufacturer (for filters)."""
    record: dict = {}
    try:
        header = parse_link_header(frame.data)
        record["id"] = header.id
        record["manufacturer"] = header.manufacturer
    except DecodeError:
        pass
    record["raw"] = frame.data.hex()
    record.update(frame.radio_fields())
    record["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


def mode_counts(stats) -> str:
    """'T1 3, C1 2' (and S1 when it was received), for summaries."""
    get = stats.get if isinstance(stats, dict) else lambda name: getattr(stats, name)
    text = f"T1 {get('frames_t1')}, C1 {get('frames_c1')}"
    return text + (f", S1 {get('frames_s1')}" if get("frames_s1") else "")


def frame_counts(stats, duplicates: int) -> str:
    """What the radio heard, in numbers that add up: frames per mode = telegrams + duplicates; frames
    lost to a CRC error (their first block checked); sync-word hits that were only noise."""
    get = stats.get if isinstance(stats, dict) else lambda name: getattr(stats, name)
    frames = get("frames_t1") + get("frames_c1") + get("frames_s1")
    return (
        f"{frames} frames ({mode_counts(stats)}) = {frames - duplicates} telegrams + {duplicates} "
        f"duplicates; {get('crc_failures')} lost to CRC errors; {get('false_syncs')} sync hits on noise"
    )
