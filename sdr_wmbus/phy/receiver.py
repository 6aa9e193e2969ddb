"""Mode T1 and mode C1 (frame A and B) receiver: one 100 kcps 2-FSK demodulator for both modes.

T1 and C1 share carrier (868.95 MHz), chip rate and preamble tail + sync (0x543D), so one search finds
both; the chips after the sync tell them apart: a T1 frame continues with the 3-of-6 coded L field,
a C1 frame with 0x54CD (format A) or 0x543D (format B) and NRZ bytes.

The streaming machinery (channel filter, discriminator, sync search, candidate scheduling) is shared
with the S1 receiver, in streaming.py.
"""

from __future__ import annotations

import numpy as np

from ..frame import Frame
from ..link.dll import format_a_length, plausible_link_header
from ..tables.phy import (
    CENTER_T1_C1_HZ,
    CHIP_RATE_T1,
    DEVIATION_C1_HZ,
    DEVIATION_T1_HZ,
    SYNC_C_FORMAT_A,
    SYNC_C_FORMAT_B,
    THREE_OF_SIX,
)
from .framing import assemble_format_a, assemble_format_b, decode_3of6_soft, decode_nrz_soft, repair_block
from .streaming import Acquisition, ReceiverStats, SearchPattern, SyncSearchReceiver, one_burst

SEARCH_PATTERN = 0x55543D  # 8 more preamble chips + 0x543D: sharper peak, still balanced
SEARCH_BITS = 24
# Accepted forms: as sent; a chip slipped between the preamble and the T1 sync word 0000111101 (chips
# 0-13 inverted); a chip slipped before the C1 sync word 0x543D (chips 0-7 inverted).
SEARCH = SearchPattern(
    SEARCH_PATTERN,
    SEARCH_BITS,
    parts=(8, 14),
    variants=((1, 1, 1), (-1, -1, 1), (-1, 1, 1)),
    preamble_chips=14,
)
# Chip-rate hypotheses: +-12.5 % in steps of 2.5 % (mode T allows +-10 %, C +-100 ppm, but C1 is
# received at any rate T1 is); the refinement then searches +-2.5 % around the best in 0.25 % steps.
RATE_ERRORS = tuple(0.025 * k for k in range(-5, 6))
TONE_ERRORS = (-0.09, -0.03, 0.03, 0.09)  # preamble detector bins: within 3 % of any rate in +-12 %
CLIP_HZ = 150e3  # the largest instantaneous frequency a wanted T1/C1 signal has in the channel
# Mode T transitions may each move by 3 us, a third of a chip at +10 %: a chip squeezed from both sides
# is then outweighed by its neighbours over a whole-chip window. A T1 frame that fails is tried again
# with the tones measured over the middle half of each chip, where the jitter seldom reaches, then
# over its middle third.
JITTER_WINDOWS = (0.5, 0.3)
# Where the sync word starts inside the search pattern (reported as the frame's sample):
SYNC_CHIP_T1 = 14  # 0000111101 after 8 + 6 preamble chips
SYNC_CHIP_C1 = 8  # the first 0x543D after 8 preamble chips
MAX_FRAME_BYTES = 290  # format A, L=255, on air
_C_SYNC_SIGNS = {
    "A": np.array([1.0 if (SYNC_C_FORMAT_A >> (15 - i)) & 1 else -1.0 for i in range(16)], dtype=np.float32),
    "B": np.array([1.0 if (SYNC_C_FORMAT_B >> (15 - i)) & 1 else -1.0 for i in range(16)], dtype=np.float32),
}
_C_SYNC_CHIPS = {fmt: (signs > 0).astype(np.uint8) for fmt, signs in _C_SYNC_SIGNS.items()}
_T_CODES = np.array(
    [[1.0 if (c >> (5 - i)) & 1 else -1.0 for i in range(6)] for c in THREE_OF_SIX], dtype=np.float32
)
_ALTERNATING = np.array([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0], dtype=np.float32)  # "010101"


class T1C1Receiver(SyncSearchReceiver):
    """T1 and C1 frames from IQ at the input rate (see SyncSearchReceiver for the streaming)."""

    def __init__(
        self, rate: float, center: float = CENTER_T1_C1_HZ, modes: str = "tc", offset_hz: float = 0.0
    ) -> None:
        """``offset_hz``: where this receiver's channel lies from the nominal carrier (a side channel
        for carriers far off, see CombinedReceiver); offsets are still reported from the nominal."""
        super().__init__(
            rate,
            shift_hz=CENTER_T1_C1_HZ - center + offset_hz,
            offset_hz=offset_hz,
            chip_rate=CHIP_RATE_T1,
            pattern=SEARCH,
            max_chips_after_pattern=12 * (MAX_FRAME_BYTES + 2),
            rate_errors=RATE_ERRORS,
            tone_errors=TONE_ERRORS,
            clip_hz=CLIP_HZ,
            windows=(1.0, *JITTER_WINDOWS),
        )
        self.modes = modes
        self.stats = ReceiverStats()

    # ------------------------------------------------------------------ one candidate
    def _demodulate_fit(self, start: int, fit: Acquisition) -> tuple[Frame | None, int]:
        head1, head0, _, _ = self._chips(fit, 16, DEVIATION_T1_HZ)
        head = head1 - head0
        c_score = float(np.dot(head[:6], _ALTERNATING))
        t_score = float(np.max(_T_CODES @ head[:6]))
        if c_score > t_score:
            if "c" not in self.modes:
                return None, start
            return self._demodulate_c(start, fit, head)
        if "t" not in self.modes:
            return None, start
        return self._demodulate_format_a(
            start, fit, DEVIATION_T1_HZ, 12, decode_3of6_soft, "T1", SYNC_CHIP_T1
        )

    def _demodulate_c(self, start: int, fit: Acquisition, head: np.ndarray) -> tuple[Frame | None, int]:
        scores = {fmt: float(np.dot(head, signs)) for fmt, signs in _C_SYNC_SIGNS.items()}
        frame_format = max(scores, key=scores.get)
        if scores[frame_format] < 0.5 * float(np.sum(np.abs(head))):
            return None, start
        second = _C_SYNC_CHIPS[frame_format]
        env1, env0, _, _ = self._chips(fit, 8 * 12, DEVIATION_C1_HZ, second)
        first = decode_nrz_soft(env1 - env0)
        length_field = int(first.values[0])
        if frame_format == "A":
            checked = repair_block(first[:10], first[10:12])
            # L as the first block's CRC confirmed it (a repair may have changed it); a block that
            # fits its CRC but holds no device's header matched by chance
            plausible = checked is not None and plausible_link_header(checked[0])
            length_field = checked[0][0] if plausible else 0
        if length_field < 9:
            self.stats.false_syncs += 1
            return None, start
        nbytes = format_a_length(length_field) if frame_format == "A" else length_field + 1
        env1, env0, t_end, period = self._chips(fit, 8 * nbytes, DEVIATION_C1_HZ, second)
        decoded = decode_nrz_soft(env1 - env0)
        if frame_format == "A":
            result = assemble_format_a(decoded, length_field=length_field)
        else:
            result = assemble_format_b(decoded)
        if result is None:
            self.stats.crc_failures += 1
            return None, start
        data, repaired = result
        if not plausible_link_header(data):  # junk that fit its CRC by chance (format B: all of block 1)
            self.stats.false_syncs += 1
            return None, start
        if not one_burst(env1, env0):
            self.stats.crc_failures += 1
            return None, start
        self.repaired = bool(repaired)
        frame = self._radio_frame(
            data, "C1", frame_format, SYNC_CHIP_C1, fit, t_end - 8 * nbytes * period, t_end, period, env1,
            env0, DEVIATION_C1_HZ,
        )  # fmt: skip
        return frame, self.base + int(t_end)
