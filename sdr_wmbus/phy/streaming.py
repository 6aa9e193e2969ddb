"""The streaming part shared by the receivers: channel filter, FM discriminator, preamble detection and
sync-pattern search over chip-rate hypotheses, peak picking and candidate scheduling, and the radio
measurements of a frame found.

Chip-rate acquisition: a meter's chip clock may be off by up to +-10 % (mode T, +-2 % in mode S), far
beyond what a pattern correlated at the nominal rate survives. So the search runs in two stages: a
preamble detector that does not depend on the exact rate (``preamble_power``: the alternating
preamble is a tone at half the chip rate, looked for in a few frequency bins) marks where a preamble
ends; only there is the sync pattern correlated over a grid of chip-rate hypotheses
(``correlate_rates``), in its normal form and with the preamble part inverted (one chip inserted or
missing between preamble and sync word). A candidate's rate and position are then refined on a finer
grid with a longer stretch of preamble, and the frame is demodulated at that rate with a timing loop
that also tracks the rate.

Streaming: ``process(block)`` takes complex samples at the input rate and returns the frames completed
so far; ``flush()`` returns the rest at the end of a stream. Every decision depends only on absolute
sample positions (a candidate is decoded once the longest possible frame after it has arrived; the
stateful kernels do the same arithmetic in the same order whatever the block boundaries), so the frames
do not depend on how the input is cut into blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..dsp.channel import ChannelFilter
from ..dsp.chips import tone_chips
from ..dsp.fm import discriminate
from ..dsp.sync import (
    acquire,
    clipped_chip_average,
    correlate_rates,
    gated_starts,
    preamble_bins,
)
from ..frame import Frame
from ..link.dll import format_a_length, plausible_link_header
from .framing import SoftBytes, assemble_format_a, repair_block

# Correlation coefficient for a candidate: over all rate hypotheses and forms, noise reaches it about 20
# times a second (at 0.72, the threshold of a single nominal-rate pattern, 70 times).
DETECT_THRESHOLD = 0.76
PREAMBLE_WINDOW_CHIPS = 16  # the preamble detector's window (T1 and C1 send at least 38 alternating chips)
# Share of the window's power in the half-chip-rate tone for a preamble (noise: 2 % of T1/C1 windows).
PREAMBLE_THRESHOLD = 0.35
REFINE_CHIPS = 16  # preamble chips before the pattern added for the fine rate/position estimate
REFINE_STEP = 0.0025  # fine chip-rate grid
REFINE_SHIFT = 3  # fine search over +-this many samples around the coarse peak
FIT_ITERATIONS = 3  # least-squares passes over the known transitions
SLIP_BIAS = 0.05  # a slipped form of the pattern must correlate this much better to be the first guess
ALTERNATIVE_MARGIN = 0.15  # other forms/rates within this of the best are tried when it fails
ALTERNATIVE_REACH = 2  # ... at starts within this many chips
ALTERNATIVE_MIN = 0.84  # ... when the best matched this well (noise seldom does: not worth the work)
# Only a candidate whose pattern matched this well is tried again with narrower chip windows (jitter):
# a jittered burst strong enough to be decoded at all matches far better than noise does.
JITTER_MIN_SCORE = 0.85
# The extended pattern's correlation after the fine search, below which a candidate is not demodulated:
# noise candidates reach 0.56 (median), 0.70 (99 %); decoded T1 frames at 7 dB Ec/N0 0.72 at least.
ACQUIRE_THRESHOLD = 0.68
SETTLE_TRANSITIONS = 8  # the chip timing follows its fit once this many transitions are in it
# One burst: the soft chips of a frame, averaged over any BURST_WINDOW_CHIPS, stay above BURST_MIN_LEVEL
# of their average over the frame's first BURST_START_CHIPS (see one_burst). Real frames at the lowest
# Ec/N0 that decodes: 0.50 (S1, 8 dB), 0.58 (T1, 7 dB), 0.64 (C1, 9 dB) at the least; a stretch of noise
# after a strong burst: under 0.1.
BURST_WINDOW_CHIPS = 16
BURST_START_CHIPS = 64
BURST_MIN_LEVEL = 0.25


@dataclass
class ReceiverStats:
    candidates: int = 0
    frames_t1: int = 0
    frames_c1: int = 0
    frames_s1: int = 0
    # A frame whose first block checked, lost to a later block's CRC, or whose CRCs fit but whose
    # signal is not one burst (it fades into noise partway: they fit by chance, see one_burst).
    crc_failures: int = 0
    # Sync-word hits that were no frame: noise. The first block did not fit its CRC, or it did (by
    # chance) but holds an L, C or M field no device sends (see plausible_link_header).
    false_syncs: int = 0
    repaired: int = 0  # frames that needed a repaired decision
    slipped: int = 0  # frames whose sync word came one chip early or late after the preamble

    def add(self, other: ReceiverStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class SearchPattern:
    """The chips searched for (preamble tail + sync, MSB first) and the forms in which they are accepted.

    ``parts``: the first chip of parts 1 and 2 (part 0 starts at chip 0); ``variants``: a sign per part
    for each accepted form (all +1: as sent; the preamble parts inverted: a chip slipped between
    preamble and sync word); ``preamble_chips``: alternating chips at the start of the pattern.
    """

    value: int
    bits: int
    parts: tuple[int, int]
    variants: tuple[tuple[int, int, int], ...]
    preamble_chips: int

    def signs(self) -> np.ndarray:
        return np.array(
            [1.0 if (self.value >> (self.bits - 1 - k)) & 1 else -1.0 for k in range(self.bits)],
            dtype=np.float32,
        )

    def segments(self) -> np.ndarray:
        chips = np.arange(self.bits)
        return ((chips >= self.parts[0]).astype(np.int64) + (chips >= self.parts[1])).astype(np.int64)


@dataclass(frozen=True)
class Acquisition:
    """A candidate's refined timing: pattern start (buffer position of chip 0's peak in the chip average),
    samples per chip, carrier (rad/sample), deviation (rad/sample), the pattern variant that matched
    (0: as sent), and the chips known up to the pattern's end (preamble and pattern, as received) with
    the buffer position where the first of them begins: the chip timing is fitted through them first."""

    start: float
    sps: float
    center: float
    deviation: float
    variant: int
    known: np.ndarray
    known_start: float
    score: float


def rate_offsets(bits: int, sps: float, rate_errors: Sequence[float]) -> np.ndarray:
    """offsets[h, k]: the sample of chip k, counted from chip 0, when the chip rate is
    (1 + rate_errors[h]) x nominal (``sps`` samples per chip at the nominal rate)."""
    return np.array([[round(k * sps / (1.0 + e)) for k in range(bits)] for e in rate_errors], dtype=np.int64)


class SyncSearchReceiver:
    """Stateful block: IQ at the input rate in, CRC-checked link-layer frames out.

    Subclasses give the carrier, chip rate, search pattern, chip-rate hypotheses and the longest frame
    in chips, and implement ``_demodulate(start)``: the frame that begins where the pattern matched at
    ``start`` (absolute decimated sample), and the sample after it, or (None, start).
    """

    stats: ReceiverStats

    def __init__(
        self,
        rate: float,
        shift_hz: float,
        offset_hz: float,
        chip_rate: float,
        pattern: SearchPattern,
        max_chips_after_pattern: int,
        rate_errors: Sequence[float],
        tone_errors: Sequence[float],
        clip_hz: float,
        windows: tuple[float, ...] = (1.0,),
        manchester: bool = False,
        preamble_threshold: float = PREAMBLE_THRESHOLD,
    ) -> None:
        self.rate = float(rate)
        self.offset_hz = offset_hz  # the channel's centre from the nominal carrier (side channels)
        self.repaired = False  # of the last frame demodulated
        self.slipped = False
        self.windows = windows
        self.manchester = manchester
        self.preamble_threshold = preamble_threshold
        self.channel = ChannelFilter(rate, shift_hz=shift_hz)
        self.fs = self.channel.out_rate
        self.chip_rate = chip_rate
        self.sps = self.fs / chip_rate
        self.pattern = pattern
        self.pattern_bits = pattern.bits
        self.rate_errors = np.array(rate_errors, dtype=np.float64)
        self.rate_step = float(np.min(np.diff(self.rate_errors))) if len(self.rate_errors) > 1 else 0.0
        self.slowest_sps = self.sps / (1.0 + float(self.rate_errors.min()))
        self.fastest_sps = self.sps / (1.0 + float(self.rate_errors.max()))
        self.chip_width = max(1, round(self.sps))
        self.clip = 2 * math.pi * clip_hz / self.fs
        self.signs = pattern.signs()
        self.segments = pattern.segments()
        self.variants = np.array(pattern.variants, dtype=np.float32)
        self._signs_cache: dict[tuple[int, int], np.ndarray] = {}
        self.refine_shifts = np.arange(-2 * REFINE_SHIFT, 2 * REFINE_SHIFT + 1) * 0.5
        self.bias = np.array([0.0] + [SLIP_BIAS] * (len(pattern.variants) - 1), dtype=np.float32)
        self.offsets = rate_offsets(pattern.bits, self.sps, self.rate_errors)
        self.span = int(self.offsets.max()) + 1  # chip-average positions one start needs
        # The preamble detector (see preamble_bins): blocks of about two chips, one bin per tone; a
        # window of PREAMBLE_WINDOW_CHIPS ending where the pattern's alternating part ends (wherever
        # that is within the rate range) must hold a preamble. Each bin then only calls for the rate
        # hypotheses near its own rate.
        self.preamble_block = max(4, round(2 * self.sps))
        self.preamble_blocks = max(4, round(PREAMBLE_WINDOW_CHIPS * self.sps / self.preamble_block))
        mixed = 2 * math.pi / self.preamble_block  # the detector's mixer, rad per chip average
        self.tone_offsets = np.array(
            [(math.pi * (1.0 + e) / self.sps - mixed) * self.preamble_block for e in sorted(tone_errors)]
        )
        self.preamble_state = np.zeros(9 + 2 * len(tone_errors), dtype=np.float64)
        self.preamble_state[8] = -1
        self.preamble_history = np.zeros((self.preamble_blocks, 4), dtype=np.float64)
        self.bin_first, self.bin_last = _bin_hypotheses(tone_errors, self.rate_errors, self.rate_step)
        # A decision at position p is that of a window ending 1 to ``block`` values before p.
        ends_lo = max(0, int(math.floor(pattern.preamble_chips * self.fastest_sps - 2 * self.sps)))
        ends_hi = int(math.ceil(pattern.preamble_chips * self.slowest_sps))
        self.gate_lo = ends_lo + 1
        self.gate_hi = ends_hi + self.preamble_block
        self.peak_window = max(1, round(8 * self.sps))  # the preamble repeats every 2 chips
        self.cluster_span = round(pattern.bits * self.sps)
        longest = (pattern.bits + max_chips_after_pattern) * self.slowest_sps * 1.02
        self.lookahead = int(math.ceil(longest)) + 16
        # Before a candidate: the refinement's extra preamble chips and its shift.
        self.margin = int(math.ceil((REFINE_CHIPS + 2) * self.slowest_sps)) + REFINE_SHIFT + 16
        # Buffers of decimated samples; index 0 is absolute sample ``self.base``. ``chips`` (the clipped
        # chip average) and ``preamble`` (the detector's output) are as long as the averages available.
        self.base = 0
        self.iq = np.zeros(0, dtype=np.complex64)
        self.freq = np.zeros(0, dtype=np.float32)
        self.chips = np.zeros(0, dtype=np.float32)
        self.preamble = np.zeros(0, dtype=np.int8)
        self.last_sample = np.complex64(0)
        self.scanned = 0  # absolute index of the next pattern start to look at
        self.corr = np.zeros(0, dtype=np.float32)  # best correlation for absolute starts corr_base ...
        self.corr_rate = np.zeros(0, dtype=np.int16)  # ... its chip-rate hypothesis
        self.corr_variant = np.zeros(0, dtype=np.int8)  # ... and pattern variant
        self.corr_base = 0
        self.pending: list[int] = []  # absolute candidate starts waiting for their lookahead
        self.busy_until = 0  # no new frame may start before this absolute index (duplicate suppression)
        self.peaks_checked = 0  # absolute index up to which peak picking is done

    # ------------------------------------------------------------------ streaming
    def process(self, block: np.ndarray) -> list[Frame]:
        baseband = self.channel.process(block)
        if len(baseband):
            freq = discriminate(baseband, complex(self.last_sample))
            self.last_sample = baseband[-1]
            self.iq = np.concatenate((self.iq, baseband))
            self.freq = np.concatenate((self.freq, freq))
        self._search()
        frames = self._decode_ready(final=False)
        self._trim()
        return frames

    def flush(self) -> list[Frame]:
        """Decode what is left at the end of the stream."""
        self._search(final=True)
        frames = self._decode_ready(final=True)
        return frames

    @property
    def end(self) -> int:
        return self.base + len(self.iq)

    def _search(self, final: bool = False) -> None:
        """Extend the chip averages and the preamble detector, correlate the new starts where a preamble
        ends, and pick peaks above the threshold."""
        done = len(self.chips)
        fresh = clipped_chip_average(self.freq[done:], self.chip_width, self.clip)
        if len(fresh):
            self.chips = np.concatenate((self.chips, fresh))
            bins = preamble_bins(
                fresh,
                self.base + done,
                self.preamble_block,
                self.tone_offsets,
                self.preamble_blocks,
                self.preamble_threshold,
                self.preamble_state,
                self.preamble_history,
            )
            self.preamble = np.concatenate((self.preamble, bins))
        available = self.base + len(self.chips)
        limit = available - max(self.span, self.gate_hi + 1)
        start = self.scanned
        if limit > start:
            self._correlate(start, limit)
            self.scanned = limit
        # Peak picking needs peak_window correlation values after a position.
        limit = self.scanned - (0 if final else self.peak_window)
        n = self.peaks_checked
        if limit <= n:
            return
        rel0 = n - self.corr_base
        window = self.corr[max(0, rel0 - self.peak_window) : limit - self.corr_base + self.peak_window]
        above = np.nonzero(self.corr[rel0 : limit - self.corr_base] >= DETECT_THRESHOLD)[0]
        w0 = max(0, rel0 - self.peak_window)
        for idx in above:
            pos = rel0 + idx
            lo = max(0, pos - self.peak_window) - w0
            hi = pos + self.peak_window + 1 - w0
            value = self.corr[pos]
            local = window[lo:hi]
            # a strict maximum to the left, >= to the right: one peak per plateau
            if value >= local.max() and not (local[: pos - w0 - lo] >= value).any():
                self.pending.append(self.corr_base + pos)
        self.peaks_checked = limit

    def _correlate(self, start: int, limit: int) -> None:
        """Correlation over the rate hypotheses for absolute starts start..limit-1 where the preamble
        detector fired for a window ending where the pattern's preamble part could end."""
        rel = start - self.base
        count = limit - start
        bins = self.preamble[rel + self.gate_lo : rel + count + self.gate_hi]
        starts, first_h, last_h = gated_starts(
            bins, count, 0, self.gate_hi - self.gate_lo, self.bin_first, self.bin_last
        )
        starts += rel
        score = np.zeros(count, dtype=np.float32)
        hyp = np.zeros(count, dtype=np.int16)
        variant = np.zeros(count, dtype=np.int8)
        if len(starts):
            s, h, v = correlate_rates(
                self.chips,
                starts,
                first_h,
                last_h,
                self.offsets,
                self.signs,
                self.segments,
                self.variants,
                self.bias,
            )
            score[starts - rel] = s
            hyp[starts - rel] = h
            variant[starts - rel] = v
        if len(self.corr) == 0:
            self.corr_base = start
            self.corr, self.corr_rate, self.corr_variant = score, hyp, variant
        else:
            self.corr = np.concatenate((self.corr, score))
            self.corr_rate = np.concatenate((self.corr_rate, hyp))
            self.corr_variant = np.concatenate((self.corr_variant, variant))

    def _decode_ready(self, final: bool) -> list[Frame]:
        """Demodulate candidates whose lookahead has arrived.

        Peaks within one search-pattern length of each other see the same preamble and sync (a
        weaker peak a dozen chips early is the pattern matched against the preamble): such a cluster
        is tried strongest first, and a frame found ends it, so the weaker peaks cost nothing. The
        weaker ones are still tried when the strongest fails.
        """
        frames = []
        keep = []
        tried: set[int] = set()
        pending = self.pending
        for index, start in enumerate(pending):
            if start < self.busy_until or start in tried:
                continue
            if not final and start + self.cluster_span + self.lookahead > self.end:
                keep.append(start)
                continue
            cluster = [s for s in pending[index:] if s <= start + self.cluster_span and s not in tried]
            cluster.sort(key=lambda s: (-float(self.corr[s - self.corr_base]), s))
            for candidate in cluster:
                if candidate < self.busy_until:
                    continue
                tried.add(candidate)
                self.stats.candidates += 1
                frame, end = self._demodulate(candidate)
                if frame is not None:
                    frames.append(frame)
                    counter = f"frames_{frame.mode.lower()}"
                    setattr(self.stats, counter, getattr(self.stats, counter) + 1)
                    self.stats.repaired += self.repaired
                    self.stats.slipped += self.slipped
                    self.busy_until = end
                    break
        self.pending = keep
        return frames

    def _trim(self) -> None:
        """Drop samples no pending candidate or future search can need."""
        oldest = min([*self.pending, self.peaks_checked - self.peak_window - 2, self.scanned])
        cut = oldest - self.base - self.margin
        cut = min(cut, len(self.chips))
        if cut > 65536:
            self.iq = self.iq[cut:]
            self.freq = self.freq[cut:]
            self.chips = self.chips[cut:]
            self.preamble = self.preamble[cut:]
            self.base += cut
        ccut = oldest - self.corr_base - self.peak_window - 2
        if ccut > 65536:
            self.corr = self.corr[ccut:]
            self.corr_rate = self.corr_rate[ccut:]
            self.corr_variant = self.corr_variant[ccut:]
            self.corr_base += ccut

    @property
    def settled(self) -> int:
        """Input sample before which every frame this receiver will find has been returned (frames are
        decided once the longest frame after their pattern has arrived)."""
        decided = self.end - self.cluster_span - self.lookahead
        if self.pending:
            decided = min(decided, min(self.pending))
        delay = (len(self.channel.taps) - 1) / 2
        return int(decided * self.channel.decim - delay)

    # ------------------------------------------------------------------ helpers for _demodulate
    def _demodulate(self, start: int) -> tuple[Frame | None, int]:
        """The frame at a peak of the search: the best guess of chip rate and pattern form first, then
        the best of each form near the peak (a chip error in the sync word can make a slipped form
        match as well as the real one, noise can favour a neighbouring rate); the CRCs decide."""
        corr_rel = start - self.corr_base
        best = float(self.corr[corr_rel])
        rate, variant = int(self.corr_rate[corr_rel]), int(self.corr_variant[corr_rel])
        tried = {(start, rate, variant)}
        fit = self._acquire(start, rate, variant)
        if fit is not None:
            frame, end = self._demodulate_fit(start, fit)
            if frame is not None:
                return frame, end
        if best < ALTERNATIVE_MIN:
            return None, start
        for score, at, rate, variant in self._alternatives(start):
            if score < max(DETECT_THRESHOLD, best - ALTERNATIVE_MARGIN) or (at, rate, variant) in tried:
                continue
            tried.add((at, rate, variant))
            fit = self._acquire(at, rate, variant)
            if fit is not None:
                frame, end = self._demodulate_fit(at, fit)
                if frame is not None:
                    return frame, end
        return None, start

    def _demodulate_fit(self, start: int, fit: Acquisition) -> tuple[Frame | None, int]:
        raise NotImplementedError

    def _alternatives(self, start: int) -> list[tuple[float, int, int, int]]:
        """(score, start, rate hypothesis, variant): the best of each pattern form near ``start``,
        best first (no bias: here every form competes on its correlation alone)."""
        reach = int(math.ceil(ALTERNATIVE_REACH * self.sps))
        rel = start - self.base
        lo = max(0, rel - reach)
        hi = min(rel + reach + 1, len(self.chips) - self.span)
        if hi <= lo:
            return []
        starts = np.arange(lo, hi, dtype=np.int64)
        found = []
        for variant in range(len(self.variants)):
            score, rate, _ = correlate_rates(
                self.chips,
                starts,
                np.zeros(len(starts), dtype=np.int64),
                np.full(len(starts), len(self.offsets) - 1, dtype=np.int64),
                self.offsets,
                self.signs,
                self.segments,
                self.variants[variant : variant + 1],
                np.zeros(1, dtype=np.float32),
            )
            i = int(np.argmax(score))
            found.append((float(score[i]), int(starts[i]) + self.base, int(rate[i]), variant))
        return sorted(found, reverse=True)

    def _acquire(self, start: int, rate: int, variant: int) -> Acquisition | None:
        """Refine a candidate: chip rate and position on a fine grid around the coarse hypothesis, with
        REFINE_CHIPS more preamble chips before the pattern (a longer baseline for the rate); then the
        carrier and deviation from the matched chips.

        The carrier offset comes from the balanced pattern: medians of the chip-averaged discriminator
        over its 'one' and 'zero' chips (one discriminator click, a 2*pi jump at low SNR, would move a
        plain mean by a whole chip's worth).
        """
        coarse = float(self.rate_errors[rate])
        rel = start - self.base
        # Extra preamble chips before chip 0 continue its alternation (in the variant's phase), as far
        # back as the buffer goes.
        room = (rel - REFINE_SHIFT - 2) / (self.slowest_sps * 1.1)
        extra = min(REFINE_CHIPS, max(0, int(room)))
        ext_signs = self._extended_signs(variant, extra)
        p0, sps, center, deviation, score = acquire(
            self.chips,
            self.freq,
            rel,
            self.sps,
            coarse,
            max(self.rate_step, 2 * REFINE_STEP),
            REFINE_STEP,
            self.refine_shifts,
            ext_signs,
            extra,
            self.chip_width,
            FIT_ITERATIONS,
        )
        if deviation <= 0 or score < ACQUIRE_THRESHOLD:
            return None
        # A chip average peaks half a sample after its chip begins (the discriminator's delay).
        known = self._extended_chips(variant, extra)
        return Acquisition(p0 + extra * sps, sps, center, deviation, variant, known, p0 - 0.5, score)

    def _extended_signs(self, variant: int, extra: int) -> np.ndarray:
        """+-1 per chip of the pattern in form ``variant``, after ``extra`` preamble chips (cached)."""
        key = (variant, extra)
        signs = self._signs_cache.get(key)
        if signs is None:
            pattern = self.signs * self.variants[variant][self.segments]
            before = pattern[0] * np.array([(-1.0) ** (extra - j) for j in range(extra)], dtype=np.float32)
            signs = self._signs_cache[key] = np.concatenate((before, pattern)).astype(np.float32)
        return signs

    def _extended_chips(self, variant: int, extra: int) -> np.ndarray:
        return (self._extended_signs(variant, extra) > 0).astype(np.uint8)

    def _chips(
        self,
        fit: Acquisition,
        nchips: int,
        deviation_hz: float,
        after: np.ndarray | None = None,
        window: float = 1.0,
        timing: tuple[float, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Tone envelopes of ``nchips`` chips after the pattern (and after the known chips ``after``),
        the position after them and the chip period fitted over them. ``timing``: (position after the
        last chip, chip period) of an earlier pass over the same chips, kept as it is (the narrow
        windows' noisier decisions would only make the fit worse)."""
        known = fit.known if after is None else np.concatenate((fit.known, after.astype(np.uint8)))
        total = len(known) + nchips
        start, sps, settle = fit.known_start, fit.sps, SETTLE_TRANSITIONS
        if timing is not None:
            sps = timing[1]
            start, settle = timing[0] - total * sps, 1 << 30
        dev = 2 * math.pi * deviation_hz / self.fs
        first = max(0, int(start) - 8)
        last = min(len(self.iq), int(math.ceil(start + (total + 2) * sps * 1.03)) + 8)
        phase = np.cumsum(self.freq[first:last], dtype=np.float64)
        env1, env0, t_end, period = tone_chips(
            self.iq[first:last],
            phase,
            start - first,
            sps,
            known,
            nchips,
            fit.center + dev,
            fit.center - dev,
            settle,
            window,
            self.manchester,
        )
        return env1, env0, t_end + first, period

    def _demodulate_format_a(
        self,
        start: int,
        fit: Acquisition,
        deviation_hz: float,
        chips_per_byte: int,
        soft_bytes: Callable[[np.ndarray], SoftBytes],
        mode: str,
        sync_chip: int,
    ) -> tuple[Frame | None, int]:
        """A format-A frame right after the search pattern; ``soft_bytes`` turns soft chips (tone 1
        minus tone 0) into soft bytes for the mode's line code.

        The first block (L C M A + CRC, 12 bytes) decides whether this is a frame at all: cheap
        rejection of false syncs before the whole frame is demodulated. Each chip's tones are measured
        over the whole chip; when that fails, in the modes whose transitions may jitter (``windows``),
        over the middle of each chip only (see tone_chips), each block then taken from whichever
        reading passes its CRC.
        """
        windows = self.windows if fit.score >= JITTER_MIN_SCORE else self.windows[:1]
        env1, env0, t_end, period = self._chips(fit, 12 * chips_per_byte, deviation_hz)
        timing = (t_end, period)
        for window in windows:
            if window != 1.0:
                env1, env0, _, _ = self._chips(
                    fit, 12 * chips_per_byte, deviation_hz, window=window, timing=timing
                )
            first = soft_bytes(env1 - env0)
            checked = repair_block(first[:10], first[10:12])
            if checked is not None and checked[0][0] >= 9 and plausible_link_header(checked[0]):
                length_field = checked[0][0]  # L as the CRC confirmed it (a repair may have changed it)
                break
        else:
            # Not even the first block, or one no device sends (L under 9, or C or M impossible: its
            # CRC fit by chance): a sync-word hit on noise.
            self.stats.false_syncs += 1
            return None, start
        nbytes = format_a_length(length_field)
        nchips = chips_per_byte * nbytes
        env1, env0, t_end, period = self._chips(fit, nchips, deviation_hz)
        readings = [soft_bytes(env1 - env0)]
        result = assemble_format_a(*readings, length_field=length_field)
        for window in windows[1:]:
            if result is not None:
                break
            env1_w, env0_w, _, _ = self._chips(
                fit, nchips, deviation_hz, window=window, timing=(t_end, period)
            )
            readings.append(soft_bytes(env1_w - env0_w))
            result = assemble_format_a(*readings, length_field=length_field)
        if result is None:
            self.stats.crc_failures += 1
            return None, start
        data, repaired = result
        if not plausible_link_header(data):  # the first block read again (other chips) fit otherwise
            self.stats.false_syncs += 1
            return None, start
        if not one_burst(env1, env0):
            self.stats.crc_failures += 1
            return None, start
        self.repaired = bool(repaired)
        frame = self._radio_frame(
            data, mode, "A", sync_chip, fit, t_end - nchips * period, t_end, period, env1, env0, deviation_hz
        )
        return frame, self.base + int(t_end)

    def _radio_frame(
        self,
        data: bytes,
        mode: str,
        frame_format: str,
        sync_chip: int,
        fit: Acquisition,
        t0: float,
        t_end: float,
        period: float,
        env1: np.ndarray,
        env0: np.ndarray,
        deviation_hz: float,
    ) -> Frame:
        """The frame with its radio measurements: RSSI, Ec/N0, carrier offset, chip-rate error (the chip
        period fitted over the whole frame), input sample of the sync."""
        self.slipped = fit.variant != 0
        a = max(0, int(t0))
        b = min(len(self.iq), int(t_end))
        power = float(np.mean(np.abs(self.iq[a:b]) ** 2)) if b > a else 0.0
        # Ec/N0 from the tone energies: the losing tone holds noise plus the part of the signal that
        # leaks into it (tones 2*dev apart are not orthogonal over a chip unless 2*dev = chip rate).
        h = 2 * deviation_hz / self.chip_rate
        leak = (math.sin(math.pi * h) / (math.pi * h)) ** 2
        win = float(np.mean(np.maximum(env1, env0) ** 2))
        lose = float(np.mean(np.minimum(env1, env0) ** 2))
        signal = max((win - lose) / (1 - leak), 1e-12)
        noise = max(lose - leak * signal, 1e-3 * signal)
        snr = 10 * math.log10(signal / noise)
        decim = self.channel.decim
        delay = (len(self.channel.taps) - 1) / 2
        sample = max(0, int(round((self.base + fit.start + sync_chip * fit.sps) * decim - delay)))
        return Frame(
            data=data,
            mode=mode,
            frame_format=frame_format,
            time=sample / self.rate,
            sample=sample,
            rssi_dbfs=10 * math.log10(max(power, 1e-20)),
            snr_db=snr,
            freq_offset_hz=fit.center * self.fs / (2 * math.pi) + self.offset_hz,
            chip_rate_error_ppm=(self.sps / period - 1.0) * 1e6,
        )


def one_burst(env1: np.ndarray, env0: np.ndarray) -> bool:
    """Whether a frame's chips (tone envelopes) are one transmission: no stretch of BURST_WINDOW_CHIPS
    whose soft values average under BURST_MIN_LEVEL of their average over the frame's start.

    A meter's burst keeps its level for the few milliseconds it lasts. A frame read on into silence
    (a burst cut short, then noise, then maybe the next burst) is no frame, and when its CRCs fit
    anyway, they fit by chance among the very many candidates such signals make: the fuzzer found
    such frames, some with a real header that decoded to readings from junk records. The start is
    the reference because the sync search found a signal there; most of a frame may be noise.
    """
    soft = np.abs(env1.astype(np.float64) - env0)
    if len(soft) < BURST_START_CHIPS + BURST_WINDOW_CHIPS:
        return True
    sums = np.cumsum(soft)
    windows = sums[BURST_WINDOW_CHIPS:] - sums[:-BURST_WINDOW_CHIPS]
    start = sums[BURST_START_CHIPS - 1] * BURST_WINDOW_CHIPS / BURST_START_CHIPS
    return bool(windows.min() >= BURST_MIN_LEVEL * start)


def _bin_hypotheses(
    tone_errors: Sequence[float], rate_errors: np.ndarray, rate_step: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each preamble-detector bin, the first and last rate hypothesis it calls for: those nearer
    to its rate than to the next bin's, and half a hypothesis step (and a little) beyond."""
    tones = sorted(tone_errors)
    first = np.zeros(len(tones), dtype=np.int64)
    last = np.zeros(len(tones), dtype=np.int64)
    margin = 0.5 * rate_step + 0.005
    for b, tone in enumerate(tones):
        low = -np.inf if b == 0 else 0.5 * (tones[b - 1] + tone) - margin
        high = np.inf if b == len(tones) - 1 else 0.5 * (tone + tones[b + 1]) + margin
        chosen = np.nonzero((rate_errors >= low) & (rate_errors <= high))[0]
        first[b], last[b] = int(chosen[0]), int(chosen[-1])
    return first, last
