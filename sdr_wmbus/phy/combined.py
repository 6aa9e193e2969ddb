"""All the receivers one tuning feeds: T1/C1 (one demodulator) and S1, on the same IQ stream.

Each receiver filters its own channel out of the input, so one dongle tuned between the carriers
(868.625 MHz at 1.6 Msps: T1/C1 at +325 kHz, S1 at -325 kHz) hears all three modes at once. Frames come
out sorted by their sample within each call; an S1 frame, whose receiver waits for a longer lookahead,
may come out one call after a later T1/C1 frame.

Carrier range: one receiver's channel (400-800 kS/s, a +-150 kHz filter) takes carriers within about
+-60 kHz of the nominal one: a meter's +-50 kHz (mode T) and a dongle's error of a few ppm. A dongle that
is off by up to 100 ppm (87 kHz) before ``--ppm`` is known needs more: ``max_offset_hz`` adds side
channels, each a whole receiver 110 kHz further out (so +-150 kHz costs three times the DSP work), as far
as the sampled band allows. Where channels overlap, each reports the carriers nearest its centre.
"""

from __future__ import annotations

import math

import numpy as np

from ..frame import Frame
from ..tables.phy import CENTER_S1_HZ, CENTER_T1_C1_HZ
from .receiver import T1C1Receiver
from .receiver_s1 import S1Receiver
from .streaming import ReceiverStats, SyncSearchReceiver

CHANNEL_CAPTURE_HZ = 60e3  # carrier offsets one channel takes
SIDE_CHANNEL_STEP_HZ = 110e3  # side channels' spacing: they overlap by 10 kHz
CHANNEL_HALF_WIDTH_HZ = 200e3  # a channel needs this much band either side of its centre


class CombinedReceiver:
    """Same interface as one receiver: ``process(block)``, ``flush()``, ``stats``."""

    def __init__(
        self,
        rate: float,
        center: float = CENTER_T1_C1_HZ,
        modes: str = "tc",
        max_offset_hz: float = CHANNEL_CAPTURE_HZ,
    ) -> None:
        self.rate = float(rate)
        self.groups: list[list[SyncSearchReceiver]] = []  # the channels of one mode group
        self.capture_hz: dict[str, tuple[float, float]] = {}  # mode group -> carrier offsets covered
        tc = "".join(m for m in modes if m in "tc")
        if tc:
            self._add(
                CENTER_T1_C1_HZ - center, max_offset_hz, "tc", lambda off: T1C1Receiver(rate, center, tc, off)
            )
        if "s" in modes:
            self._add(CENTER_S1_HZ - center, max_offset_hz, "s", lambda off: S1Receiver(rate, center, off))
        if not self.groups:
            raise ValueError(f"no receiver for modes {modes!r}")
        self.receivers = [r for group in self.groups for r in group]
        self.held: list[list[tuple[Frame, SyncSearchReceiver]]] = [[] for _ in self.groups]
        self.dropped = ReceiverStats()  # copies of one telegram heard in two channels, left out

    def _add(self, carrier_hz: float, max_offset_hz: float, group: str, make) -> None:
        """The centre channel and as many side channels as ``max_offset_hz`` asks and the band holds
        (``carrier_hz``: where the nominal carrier lies in the sampled band)."""
        count = max(0, math.ceil((max_offset_hz - CHANNEL_CAPTURE_HZ) / SIDE_CHANNEL_STEP_HZ - 1e-9))
        offsets = [0.0]
        for k in range(1, count + 1):
            for side in (-1, 1):
                offset = side * k * SIDE_CHANNEL_STEP_HZ
                if abs(carrier_hz + offset) + CHANNEL_HALF_WIDTH_HZ <= self.rate / 2:
                    offsets.append(offset)
        offsets.sort()
        self.groups.append([make(offset) for offset in offsets])
        self.capture_hz[group] = (offsets[0] - CHANNEL_CAPTURE_HZ, offsets[-1] + CHANNEL_CAPTURE_HZ)

    @property
    def stats(self) -> ReceiverStats:
        total = ReceiverStats()
        for receiver in self.receivers:
            total.add(receiver.stats)
        for name in ("frames_t1", "frames_c1", "frames_s1"):
            setattr(total, name, getattr(total, name) - getattr(self.dropped, name))
        return total

    def process(self, block: np.ndarray) -> list[Frame]:
        return _by_sample([f for g in range(len(self.groups)) for f in self._group(g, block, final=False)])

    def flush(self) -> list[Frame]:
        return _by_sample([f for g in range(len(self.groups)) for f in self._group(g, None, final=True)])

    def _group(self, index: int, block: np.ndarray | None, final: bool) -> list[Frame]:
        """A mode group's frames. With one channel, as they come. With side channels, a frame waits
        until every channel has decided past it; then of the copies of one telegram (same bytes, sync
        within a few chips) the one measured nearest its own channel's centre is kept. The copies are
        the same whatever the block size, and so is the choice."""
        group = self.groups[index]
        found = []
        for receiver in group:
            frames = receiver.process(block) if block is not None else receiver.flush()
            found += [(frame, receiver) for frame in frames]
        if len(group) == 1:
            return [frame for frame, _ in found]
        held = self.held[index] + found
        settled = None if final else min(receiver.settled for receiver in group)
        slack = int(SLACK_CHIPS * self.rate / group[0].chip_rate)
        ready = [(f, r) for f, r in held if settled is None or (f.sample or 0) + slack < settled]
        self.held[index] = [
            (f, r) for f, r in held if not (settled is None or (f.sample or 0) + slack < settled)
        ]
        ready.sort(key=lambda item: (item[0].sample or 0, _misfit(*item)))
        kept: list[tuple[Frame, SyncSearchReceiver]] = []
        for frame, receiver in ready:
            twin = next(
                (
                    k
                    for k in kept
                    if k[0].data == frame.data and abs((k[0].sample or 0) - (frame.sample or 0)) <= slack
                ),
                None,
            )
            if twin is None:
                kept.append((frame, receiver))
                continue
            if _misfit(frame, receiver) < _misfit(*twin):
                kept[kept.index(twin)] = (frame, receiver)
                frame = twin[0]
            counter = f"frames_{frame.mode.lower()}"
            setattr(self.dropped, counter, getattr(self.dropped, counter) + 1)
        return [frame for frame, _ in kept]


SLACK_CHIPS = 4  # copies of one telegram from two channels have their syncs this close


def _misfit(frame: Frame, receiver: SyncSearchReceiver) -> tuple[float, int]:
    """How far a frame's carrier lies from its channel's centre (ties: the channel nearer the middle)."""
    return abs((frame.freq_offset_hz or 0.0) - receiver.offset_hz), abs(int(receiver.offset_hz))


def _by_sample(frames: list[Frame]) -> list[Frame]:
    return sorted(frames, key=lambda f: f.sample or 0) if len(frames) > 1 else frames
