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
from .streaming import Acquisition, ReceiverStats, SearchPattern, SyncSearchReceiver

SEARCH_PATTERN_S1 = 0x547696  # "010101" + "000111011010010110"
SEARCH_BITS_S1 = 24
# Accepted forms: as sent, and with a chip slipped between the preamble and the sync word.
SEARCH_S1 = SearchPattern(
    SEARCH_PATTERN_S1, SEARCH_BITS_S1, parts=(6, 6), variants=((1, 1, 1), (-1, 1, 1)), preamble_chips=6
)
# An S-mode receiver must accept +-2 % of chip rate: hypotheses over +-3 % in steps of 1.5 %.
RATE_ERRORS_S1 = (-0.03, -0.015, 0.0, 0.015, 0.03)
TONE_ERRORS_S1 = (0.0,)  # one bin: over the detector's 16 chips 3 % drifts the tone by 1.5 rad only
CLIP_HZ_S1 = 150e3
# An S1 chip spans 12 chip averages, so noise hardly ever looks like a preamble (0.1 % of windows at the
# T1/C1 threshold): a lower one keeps weak S1 preambles, at 2 % of windows in noise.
PREAMBLE_THRESHOLD_S1 = 0.25
SYNC_CHIP_S1 = 6  # where the sync word starts inside the search pattern (reported as the frame's sample)
CHIPS_PER_BYTE = 16


class S1Receiver(SyncSearchReceiver):
    """S1 frames from IQ at the input rate, tuned to ``center`` (the S1 carrier may be anywhere in it)."""

    def __init__(self, rate: float, center: float = CENTER_T1_C1_HZ, offset_hz: float = 0.0) -> None:
        super().__init__(
            rate,
            shift_hz=CENTER_S1_HZ - center + offset_hz,
            offset_hz=offset_hz,
            chip_rate=CHIP_RATE_S1,
            pattern=SEARCH_S1,
            max_chips_after_pattern=CHIPS_PER_BYTE * (MAX_FRAME_BYTES + 2),
            rate_errors=RATE_ERRORS_S1,
            tone_errors=TONE_ERRORS_S1,
            clip_hz=CLIP_HZ_S1,
            manchester=True,
            preamble_threshold=PREAMBLE_THRESHOLD_S1,
        )
        self.stats = ReceiverStats()

    def _demodulate_fit(self, start: int, fit: Acquisition) -> tuple[Frame | None, int]:
        return self._demodulate_format_a(
            start, fit, DEVIATION_S1_HZ, CHIPS_PER_BYTE, _manchester_bytes, "S1", SYNC_CHIP_S1
        )


def _manchester_bytes(soft_chips: np.ndarray) -> SoftBytes:
    return decode_nrz_soft(manchester_soft_bits(soft_chips))


def manchester_soft_bits(soft_chips: np.ndarray) -> np.ndarray:
    """Soft bits from soft chips: a bit is "01" (1) or "10" (0), so its value is chip 2 minus chip 1."""
    pairs = len(soft_chips) // 2
    return soft_chips[1 : 2 * pairs : 2] - soft_chips[0 : 2 * pairs : 2]
