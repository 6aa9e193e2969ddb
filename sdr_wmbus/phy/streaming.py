"""The streaming part shared by the receivers: channel filter, FM discriminator, sync-pattern search,
peak picking and candidate scheduling, and the radio measurements of a frame found.

Streaming: ``process(block)`` takes complex samples at the input rate and returns the frames completed
so far; ``flush()`` returns the rest at the end of a stream. Every decision depends only on absolute
sample positions (a candidate is decoded once the longest possible frame after it has arrived), so the
frames do not depend on how the input is cut into blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..dsp.channel import ChannelFilter
from ..dsp.chips import tone_chips
from ..dsp.fm import discriminate
from ..dsp.sync import chip_average, correlate_sync, pattern_taps
from ..frame import Frame
from ..link.dll import format_a_length
from .framing import SoftBytes, assemble_format_a, repair_block

DETECT_THRESHOLD = 0.72
TIMING_LOOP_GAIN = 0.1


@dataclass
class ReceiverStats:
    candidates: int = 0
    frames_t1: int = 0
    frames_c1: int = 0
    frames_s1: int = 0
    crc_failures: int = 0  # sync found and mode recognised, but a block CRC could not be matched
    repaired: int = 0  # frames that needed a repaired decision

    def add(self, other: ReceiverStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class SyncSearchReceiver:
    """Stateful block: IQ at the input rate in, CRC-checked link-layer frames out.

    Subclasses give the carrier, chip rate, search pattern and the longest frame in chips, and
    implement ``_demodulate(start)``: the frame that begins where the pattern matched at ``start``
    (absolute decimated sample), and the sample after it, or (None, start).
    """

    stats: ReceiverStats

    def __init__(
        self,
        rate: float,
        shift_hz: float,
        chip_rate: float,
        pattern: int,
        pattern_bits: int,
        max_chips_after_pattern: int,
    ) -> None:
        self.rate = float(rate)
        self.channel = ChannelFilter(rate, shift_hz=shift_hz)
        self.fs = self.channel.out_rate
        self.chip_rate = chip_rate
        self.sps = self.fs / chip_rate
        self.pattern_bits = pattern_bits
        self.chip_width = max(1, round(self.sps))
        self.offsets, self.signs = pattern_taps(pattern, pattern_bits, self.sps)
        self.peak_window = max(1, round(8 * self.sps))  # the preamble repeats every 2 chips
        self.cluster_span = round(pattern_bits * self.sps)
        self.lookahead = int(math.ceil((pattern_bits + max_chips_after_pattern) * self.sps)) + 16
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

    # ------------------------------------------------------------------ helpers for _demodulate
    def _demodulate(self, start: int) -> tuple[Frame | None, int]:
        raise NotImplementedError

    def _pattern_fit(self, start: int) -> tuple[float, float, float] | None:
        """(fractional peak position, carrier, deviation) in rad/sample from the matched pattern.

        The carrier offset comes from the balanced search pattern: medians of the chip-averaged
        discriminator over its 'one' and 'zero' chips (one discriminator click, a 2*pi jump at low SNR,
        would move a plain mean by a whole chip's worth).
        """
        rel = start - self.base
        corr_rel = start - self.corr_base
        frac = 0.0
        if 0 < corr_rel < len(self.corr) - 1:
            a, b, c = self.corr[corr_rel - 1], self.corr[corr_rel], self.corr[corr_rel + 1]
            denom = a - 2 * b + c
            if denom < 0:
                frac = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
        ma = chip_average(self.freq[rel : rel + int(self.offsets[-1]) + self.chip_width], self.chip_width)
        chip_values = ma[self.offsets]
        high = _median(chip_values[self.signs > 0])
        low = _median(chip_values[self.signs < 0])
        if high <= low:
            return None
        return frac, 0.5 * (high + low), 0.5 * (high - low)

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

    def _demodulate_format_a(
        self,
        start: int,
        t0: float,
        center: float,
        deviation_hz: float,
        chips_per_byte: int,
        soft_bytes: Callable[[np.ndarray], SoftBytes],
        mode: str,
        sync_chip: int,
    ) -> tuple[Frame | None, int]:
        """A format-A frame whose chips start at buffer position ``t0``; ``soft_bytes`` turns soft
        chips (tone 1 minus tone 0) into soft bytes for the mode's line code.

        The first block (L C M A + CRC, 12 bytes) decides whether this is a frame at all: cheap
        rejection of false syncs before the whole frame is demodulated.
        """
        env1, env0, _ = self._chips(t0, 12 * chips_per_byte, center, deviation_hz)
        first = soft_bytes(env1 - env0)
        length_field = int(first.values[0])
        if length_field < 9 or repair_block(first[:10], first[10:12]) is None:
            self.stats.crc_failures += 1
            return None, start
        nbytes = format_a_length(length_field)
        env1, env0, t_end = self._chips(t0, chips_per_byte * nbytes, center, deviation_hz)
        result = assemble_format_a(soft_bytes(env1 - env0))
        if result is None:
            self.stats.crc_failures += 1
            return None, start
        data, repaired = result
        counter = f"frames_{mode.lower()}"
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        self.stats.repaired += bool(repaired)
        frame = self._radio_frame(
            data, mode, "A", start, sync_chip, t0, t_end, center, env1, env0, deviation_hz
        )
        return frame, self.base + int(t_end)

    def _radio_frame(
        self,
        data: bytes,
        mode: str,
        frame_format: str,
        start: int,
        sync_chip: int,
        t0: float,
        t_end: float,
        center: float,
        env1: np.ndarray,
        env0: np.ndarray,
        deviation_hz: float,
    ) -> Frame:
        """The frame with its radio measurements: RSSI, Ec/N0, carrier offset, input sample of the sync."""
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


def _median(values: np.ndarray) -> float:
    """Median of a dozen values (np.median's generality costs more than the sort)."""
    ordered = np.sort(values)
    half = len(ordered) // 2
    return float(ordered[half]) if len(ordered) % 2 else 0.5 * float(ordered[half - 1] + ordered[half])
