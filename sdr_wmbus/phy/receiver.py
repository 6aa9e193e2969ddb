"""Mode T1 and mode C1 (frame A and B) receiver: one 100 kcps 2-FSK demodulator for both modes.

T1 and C1 share carrier (868.95 MHz), chip rate and preamble tail + sync (0x543D), so one search finds
both; the chips after the sync tell them apart: a T1 frame continues with the 3-of-6 coded L field,
a C1 frame with 0x54CD (format A) or 0x543D (format B) and NRZ bytes.

Streaming: ``process(block)`` takes complex samples at the input rate and returns the frames completed
so far; ``flush()`` returns the rest at the end of a stream. Every decision depends only on absolute
sample positions (a candidate is decoded once the longest possible frame after it has arrived), so the
frames do not depend on how the input is cut into blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..dsp.channel import ChannelFilter
from ..dsp.chips import tone_chips
from ..dsp.fm import discriminate
from ..dsp.sync import chip_average, correlate_sync, pattern_taps
from ..frame import Frame
from ..link.dll import format_a_length
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

SEARCH_PATTERN = 0x55543D  # 8 more preamble chips + 0x543D: sharper peak, still balanced
SEARCH_BITS = 24
# Where the sync word starts inside the search pattern (reported as the frame's sample):
SYNC_CHIP_T1 = 14  # 0000111101 after 8 + 6 preamble chips
SYNC_CHIP_C1 = 8  # the first 0x543D after 8 preamble chips
DETECT_THRESHOLD = 0.72
MAX_FRAME_BYTES = 290  # format A, L=255, on air
TIMING_LOOP_GAIN = 0.1
_C_SYNC_SIGNS = {
    "A": np.array([1.0 if (SYNC_C_FORMAT_A >> (15 - i)) & 1 else -1.0 for i in range(16)], dtype=np.float32),
    "B": np.array([1.0 if (SYNC_C_FORMAT_B >> (15 - i)) & 1 else -1.0 for i in range(16)], dtype=np.float32),
}
_T_CODES = np.array(
    [[1.0 if (c >> (5 - i)) & 1 else -1.0 for i in range(6)] for c in THREE_OF_SIX], dtype=np.float32
)
_ALTERNATING = np.array([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0], dtype=np.float32)  # "010101"


def _median(values: np.ndarray) -> float:
    """Median of a dozen values (np.median's generality costs more than the sort)."""
    ordered = np.sort(values)
    half = len(ordered) // 2
    return float(ordered[half]) if len(ordered) % 2 else 0.5 * float(ordered[half - 1] + ordered[half])


@dataclass
class ReceiverStats:
    candidates: int = 0
    frames_t1: int = 0
    frames_c1: int = 0
    crc_failures: int = 0  # sync found and mode recognised, but a block CRC could not be matched
    repaired: int = 0  # frames that needed a repaired decision


class T1C1Receiver:
    """Stateful block: IQ at the input rate in, CRC-checked link-layer frames out."""

    def __init__(self, rate: float, center: float = CENTER_T1_C1_HZ, modes: str = "tc") -> None:
        self.rate = float(rate)
        self.modes = modes
        self.channel = ChannelFilter(rate, shift_hz=CENTER_T1_C1_HZ - center)
        self.fs = self.channel.out_rate
        self.sps = self.fs / CHIP_RATE_T1
        self.chip_width = max(1, round(self.sps))
        self.offsets, self.signs = pattern_taps(SEARCH_PATTERN, SEARCH_BITS, self.sps)
        self.peak_window = max(1, round(8 * self.sps))  # the preamble repeats every 2 chips
        self.cluster_span = round(SEARCH_BITS * self.sps)
        self.lookahead = int(math.ceil((SEARCH_BITS + 12 * (MAX_FRAME_BYTES + 2)) * self.sps)) + 16
        self.stats = ReceiverStats()
        # Buffers of decimated samples; index 0 is absolute sample ``self.base``.
        self.base = 0
        self.iq = np.zeros(0, dtype=np.complex64)
        self.freq = np.zeros(0, dtype=np.float32)
        self.last_sample = np.complex64(0)
        self.scanned = 0  # absolute index of the next correlation start to compute
        self.corr = np.zeros(0, dtype=np.float32)  # correlation for absolute starts corr_base ...
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
        """Correlate new positions and pick peaks above the threshold."""
        span = int(self.offsets[-1]) + self.chip_width
        start = self.scanned
        rel = start - self.base
        segment = self.freq[rel:]
        if len(segment) >= span:
            ma = chip_average(segment, self.chip_width)
            rho = correlate_sync(ma, self.offsets, self.signs)
            self.corr = self._append_corr(start, rho)
            self.scanned = start + len(rho)
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

    def _append_corr(self, start: int, rho: np.ndarray) -> np.ndarray:
        if len(self.corr) == 0:
            self.corr_base = start
            return rho
        return np.concatenate((self.corr, rho))

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
                    self.busy_until = end
                    break
        self.pending = keep
        return frames

    def _trim(self) -> None:
        """Drop samples no pending candidate or future search can need."""
        oldest = min([*self.pending, self.peaks_checked - self.peak_window - 2, self.scanned])
        cut = oldest - self.base - 64
        if cut > 65536:
            self.iq = self.iq[cut:]
            self.freq = self.freq[cut:]
            self.base += cut
        ccut = oldest - self.corr_base - self.peak_window - 2
        if ccut > 65536:
            self.corr = self.corr[ccut:]
            self.corr_base += ccut

    # ------------------------------------------------------------------ one candidate
    def _demodulate(self, start: int) -> tuple[Frame | None, int]:
        rel = start - self.base
        corr_rel = start - self.corr_base
        frac = 0.0
        if 0 < corr_rel < len(self.corr) - 1:
            a, b, c = self.corr[corr_rel - 1], self.corr[corr_rel], self.corr[corr_rel + 1]
            denom = a - 2 * b + c
            if denom < 0:
                frac = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
        # Carrier offset from the balanced search pattern: mean of the chip-averaged discriminator.
        ma = chip_average(self.freq[rel : rel + int(self.offsets[-1]) + self.chip_width], self.chip_width)
        chip_values = ma[self.offsets]
        # Medians of the 'one' and 'zero' chips: one discriminator click (a 2*pi jump at low SNR) in a
        # chip would move a plain mean by 1/24 of a chip rate.
        high = _median(chip_values[self.signs > 0])
        low = _median(chip_values[self.signs < 0])
        center = 0.5 * (high + low)
        deviation = 0.5 * (high - low)
        if deviation <= 0:
            return None, start
        t0 = rel + frac + SEARCH_BITS * self.sps - 0.5
        head1, head0, _ = self._chips(t0, 16, center, DEVIATION_T1_HZ)
        head = head1 - head0
        c_score = float(np.dot(head[:6], _ALTERNATING))
        t_score = float(np.max(_T_CODES @ head[:6]))
        if c_score > t_score:
            if "c" not in self.modes:
                return None, start
            return self._demodulate_c(start, t0, center, head)
        if "t" not in self.modes:
            return None, start
        return self._demodulate_t(start, t0, center)

    def _chips(self, t0: float, nchips: int, center: float, deviation_hz: float):
        """Tone envelopes of ``nchips`` chips from buffer position ``t0`` (and the position after them)."""
        dev = 2 * math.pi * deviation_hz / self.fs
        first = max(0, int(t0) - 8)
        last = min(len(self.iq), int(math.ceil(t0 + (nchips + 2) * self.sps * 1.001)) + 8)
        phase = np.cumsum(self.freq[first:last], dtype=np.float64)
        env1, env0, t_end = tone_chips(
            self.iq[first:last],
            phase,
            t0 - first,
            self.sps,
            nchips,
            center + dev,
            center - dev,
            TIMING_LOOP_GAIN,
        )
        return env1, env0, t_end + first

    def _demodulate_t(self, start: int, t0: float, center: float) -> tuple[Frame | None, int]:
        # The first block (L C M A + CRC, 12 bytes) decides whether this is a frame at all: cheap
        # rejection of false syncs before the whole frame is demodulated.
        env1, env0, _ = self._chips(t0, 12 * 12, center, DEVIATION_T1_HZ)
        first = decode_3of6_soft(env1 - env0)
        if first.values[0] < 9 or repair_block(first[:10], first[10:12]) is None:
            self.stats.crc_failures += 1
            return None, start
        nbytes = format_a_length(int(first.values[0]))
        env1, env0, t_end = self._chips(t0, 12 * nbytes, center, DEVIATION_T1_HZ)
        result = assemble_format_a(decode_3of6_soft(env1 - env0))
        if result is None:
            self.stats.crc_failures += 1
            return None, start
        self.stats.frames_t1 += 1
        return self._frame(result, "T1", "A", start, t0, t_end, center, env1, env0), self.base + int(t_end)

    def _demodulate_c(
        self, start: int, t0: float, center: float, head: np.ndarray
    ) -> tuple[Frame | None, int]:
        scores = {fmt: float(np.dot(head, signs)) for fmt, signs in _C_SYNC_SIGNS.items()}
        frame_format = max(scores, key=scores.get)
        if scores[frame_format] < 0.5 * float(np.sum(np.abs(head))):
            return None, start
        data_t0 = t0 + 16 * self.sps
        env1, env0, _ = self._chips(data_t0, 8 * 12, center, DEVIATION_C1_HZ)
        first = decode_nrz_soft(env1 - env0)
        length_field = int(first.values[0])
        if length_field < 9 or (frame_format == "A" and repair_block(first[:10], first[10:12]) is None):
            self.stats.crc_failures += 1
            return None, start
        nbytes = format_a_length(length_field) if frame_format == "A" else length_field + 1
        env1, env0, t_end = self._chips(data_t0, 8 * nbytes, center, DEVIATION_C1_HZ)
        decoded = decode_nrz_soft(env1 - env0)
        result = assemble_format_a(decoded) if frame_format == "A" else assemble_format_b(decoded)
        if result is None:
            self.stats.crc_failures += 1
            return None, start
        self.stats.frames_c1 += 1
        return (
            self._frame(result, "C1", frame_format, start, t0, t_end, center, env1, env0),
            self.base + int(t_end),
        )

    def _frame(self, result, mode, frame_format, start, t0, t_end, center, env1, env0) -> Frame:
        data, repaired = result
        if repaired:
            self.stats.repaired += 1
        a = max(0, int(t0))
        b = min(len(self.iq), int(t_end))
        power = float(np.mean(np.abs(self.iq[a:b]) ** 2)) if b > a else 0.0
        # Ec/N0 from the tone energies: the losing tone holds noise plus the part of the signal that
        # leaks into it (tones 2*dev apart are not orthogonal over a chip unless 2*dev = chip rate).
        h = 2 * (DEVIATION_T1_HZ if mode == "T1" else DEVIATION_C1_HZ) / CHIP_RATE_T1
        leak = (math.sin(math.pi * h) / (math.pi * h)) ** 2
        win = float(np.mean(np.maximum(env1, env0) ** 2))
        lose = float(np.mean(np.minimum(env1, env0) ** 2))
        signal = max((win - lose) / (1 - leak), 1e-12)
        noise = max(lose - leak * signal, 1e-3 * signal)
        snr = 10 * math.log10(signal / noise)
        decim = self.channel.decim
        delay = (len(self.channel.taps) - 1) / 2
        sync_chip = SYNC_CHIP_T1 if mode == "T1" else SYNC_CHIP_C1
        sample = max(0, int(round((start + sync_chip * self.sps) * decim - delay)))
        return Frame(
            data=data,
            mode=mode,
            frame_format=frame_format,
            time=sample / self.rate,
            sample=sample,
            rssi_dbfs=10 * math.log10(max(power, 1e-20)),
            snr_db=snr,
            freq_offset_hz=center * self.fs / (2 * math.pi),
        )
