"""All the receivers one tuning feeds: T1/C1 (one demodulator) and S1, on the same IQ stream.

Each receiver filters its own channel out of the input, so one dongle tuned between the carriers
(868.625 MHz at 1.6 Msps: T1/C1 at +325 kHz, S1 at -325 kHz) hears all three modes at once. Frames come
out sorted by their sample within each call; an S1 frame, whose receiver waits for a longer lookahead,
may come out one call after a later T1/C1 frame.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame
from ..tables.phy import CENTER_T1_C1_HZ
from .receiver import T1C1Receiver
from .receiver_s1 import S1Receiver
from .streaming import ReceiverStats, SyncSearchReceiver


class CombinedReceiver:
    """Same interface as one receiver: ``process(block)``, ``flush()``, ``stats``."""

    def __init__(self, rate: float, center: float = CENTER_T1_C1_HZ, modes: str = "tc") -> None:
        self.receivers: list[SyncSearchReceiver] = []
        tc = "".join(m for m in modes if m in "tc")
        if tc:
            self.receivers.append(T1C1Receiver(rate, center, tc))
        if "s" in modes:
            self.receivers.append(S1Receiver(rate, center))
        if not self.receivers:
            raise ValueError(f"no receiver for modes {modes!r}")

    @property
    def stats(self) -> ReceiverStats:
        total = ReceiverStats()
        for receiver in self.receivers:
            total.add(receiver.stats)
        return total

    def process(self, block: np.ndarray) -> list[Frame]:
        return _by_sample([f for r in self.receivers for f in r.process(block)])

    def flush(self) -> list[Frame]:
        return _by_sample([f for r in self.receivers for f in r.flush()])


def _by_sample(frames: list[Frame]) -> list[Frame]:
    return sorted(frames, key=lambda f: f.sample or 0) if len(frames) > 1 else frames
