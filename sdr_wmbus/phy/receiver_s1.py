"""Mode S1 receiver: 868.3 MHz, 32.768 kcps 2-FSK, Manchester coded, frame format A.

An S1 burst is a long "01" preamble (279 pairs), the 18-chip sync 000111011010010110 and the frame
with its block CRCs, each bit sent as two chips ("01" for 1, "10" for 0). The search pattern is the
last 6 preamble chips and the sync (0x547696, balanced: as many ones as zeros). Each bit's soft value
is the difference of its two chips' tone decisions, so a Manchester pair is decided as a whole (3 dB
better than deciding each chip), and weak bits are repaired against the block CRCs as in C1.

The streaming (channel filter, discriminator, sync search, scheduling) is SyncSearchReceiver's.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame
from ..tables.phy import CENTER_S1_HZ, CENTER_T1_C1_HZ, CHIP_RATE_S1, DEVIATION_S1_HZ
from .framing import SoftBytes, decode_nrz_soft
from .receiver import MAX_FRAME_BYTES
from .streaming import ReceiverStats, SyncSearchReceiver

SEARCH_PATTERN_S1 = 0x547696  # "010101" + "000111011010010110"
SEARCH_BITS_S1 = 24
SYNC_CHIP_S1 = 6  # where the sync word starts inside the search pattern (reported as the frame's sample)
CHIPS_PER_BYTE = 16


class S1Receiver(SyncSearchReceiver):
    """S1 frames from IQ at the input rate, tuned to ``center`` (the S1 carrier may be anywhere in it)."""

    def __init__(self, rate: float, center: float = CENTER_T1_C1_HZ) -> None:
        super().__init__(
            rate,
            shift_hz=CENTER_S1_HZ - center,
            chip_rate=CHIP_RATE_S1,
            pattern=SEARCH_PATTERN_S1,
            pattern_bits=SEARCH_BITS_S1,
            max_chips_after_pattern=CHIPS_PER_BYTE * (MAX_FRAME_BYTES + 2),
        )
        self.stats = ReceiverStats()

    def _demodulate(self, start: int) -> tuple[Frame | None, int]:
        fit = self._pattern_fit(start)
        if fit is None:
            return None, start
        frac, center, _ = fit
        t0 = start - self.base + frac + SEARCH_BITS_S1 * self.sps - 0.5
        return self._demodulate_format_a(
            start, t0, center, DEVIATION_S1_HZ, CHIPS_PER_BYTE, _manchester_bytes, "S1", SYNC_CHIP_S1
        )


def _manchester_bytes(soft_chips: np.ndarray) -> SoftBytes:
    return decode_nrz_soft(manchester_soft_bits(soft_chips))


def manchester_soft_bits(soft_chips: np.ndarray) -> np.ndarray:
    """Soft bits from soft chips: a bit is "01" (1) or "10" (0), so its value is chip 2 minus chip 1."""
    pairs = len(soft_chips) // 2
    return soft_chips[1 : 2 * pairs : 2] - soft_chips[0 : 2 * pairs : 2]
