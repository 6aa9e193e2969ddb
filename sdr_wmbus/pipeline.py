"""Radio to JSON: IQ blocks -> T1/C1 receiver -> telegram stack -> one dict per telegram.

Kept in plain Python: the numba kernels live in dsp/, the per-frame work is small.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from .decoder import TelegramDecoder
from .frame import Frame
from .phy.receiver import T1C1Receiver

DUPLICATE_WINDOW_S = 2.0  # the same bytes again within this time is the same telegram heard twice


class RadioPipeline:
    """Stateful: feed IQ blocks, get decoded telegrams; identical frames close in time are reported once."""

    def __init__(self, rate: float, center: float, modes: str, decoder: TelegramDecoder) -> None:
        self.receiver = T1C1Receiver(rate, center, modes)
        self.decoder = decoder
        self.recent: OrderedDict[bytes, float] = OrderedDict()
        self.duplicates = 0

    def process(self, block: np.ndarray) -> list[dict]:
        return self._decode(self.receiver.process(block))

    def flush(self) -> list[dict]:
        return self._decode(self.receiver.flush())

    def _decode(self, frames: Iterable[Frame]) -> list[dict]:
        out = []
        for frame in frames:
            now = frame.time or 0.0
            while self.recent and next(iter(self.recent.values())) < now - DUPLICATE_WINDOW_S:
                self.recent.popitem(last=False)
            if frame.data in self.recent:
                self.duplicates += 1
                continue
            self.recent[frame.data] = now
            result = self.decoder.decode(frame)
            result["time_s"] = round(now, 6)
            out.append(result)
        return out

    def run(self, blocks: Iterable[np.ndarray]) -> Iterator[dict]:
        for block in blocks:
            yield from self.process(block)
        yield from self.flush()
