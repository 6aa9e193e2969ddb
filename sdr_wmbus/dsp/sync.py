"""Sync-word search on the FM-discriminator output, and a candidate's acquisition.

The pattern (preamble tail + sync, +-1 per chip) has as many ones as zeros, so the correlation ignores
the DC level that a carrier offset puts on the discriminator; normalising by the window's spread makes
the score a correlation coefficient in [-1, 1] whatever the signal level.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import kernel

_TILE = 1024  # positions per pass: the accumulators stay in L1 while every tap is added
# Value-safe fast-math flags only (no reassociation, no approximate division or sqrt): they let LLVM
# vectorise across positions, and every position still gets bit-identical arithmetic, so the
# correlation does not depend on where a block starts.
_VECTOR_FLAGS = {"nnan", "ninf", "nsz"}


# --------------------------------------------------------------------------- chip-rate acquisition
#
# A meter's chip clock may be off by up to +-10 % (mode T): a pattern correlated at the nominal chip
# rate smears beyond recognition after a few chips. The search therefore runs in two stages: a cheap
# preamble detector that does not care about the exact rate (the alternating preamble is a tone at half
# the chip rate in the discriminator output, measured in a few frequency bins), then, only where it sees
# a preamble, the sync-pattern correlation over a grid of chip-rate hypotheses.


@kernel("float32[::1], int64, float64", fastmath=_VECTOR_FLAGS)
def clipped_chip_average(freq: np.ndarray, width: int, clip: float) -> np.ndarray:
    """out[n] = mean(clip(freq[n : n + width])), each output summed afresh (no running sum), so every
    value is the same wherever a block starts.

    Clipping at the largest frequency a wanted signal can have takes the sting out of discriminator
    clicks (2*pi jumps at low SNR) that would otherwise dominate a chip's average.
    """
    count = freq.shape[0] - width + 1
    if count <= 0:
        return np.empty(0, dtype=np.float32)
    low = np.float32(-clip)
    high = np.float32(clip)
    clipped = np.empty(freq.shape[0], dtype=np.float32)
    for n in range(freq.shape[0]):
        clipped[n] = min(max(freq[n], low), high)
    out = clipped[:count].copy()
    for k in range(1, width):  # tap by tap over contiguous slices (SIMD), in the same order everywhere
        tap = clipped[k : k + count]
        for n in range(count):
            out[n] += tap[n]
    scale = np.float32(1.0 / width)
    for n in range(count):
        out[n] *= scale
    return out


@kernel("float32[::1], int64, int64, float64[::1], int64, float64, float64[::1], float64[:, ::1]")
def preamble_bins(
    values: np.ndarray,
    first_index: int,
    block: int,
    offsets: np.ndarray,
    blocks: int,
    threshold: float,
    state: np.ndarray,
    history: np.ndarray,
) -> np.ndarray:
    """Preamble detector: for each input, the frequency bin in which the last ``blocks`` blocks of
    ``block`` values before the input's own block hold at least ``threshold`` of their power, or -1.

    An alternating preamble is a tone at half the chip rate in the chip-averaged discriminator, whatever
    the carrier offset (a DC level). Each block (``block`` values, aligned on absolute indices
    multiple of ``block``, ``first_index`` being the first input's) is mixed down by exp(-2 pi j n /
    block), one period of the mixer per block: the DC sums to zero and a preamble near the nominal
    chip rate to a slowly turning phasor. The bins are sliding sums over the blocks of these phasors
    turned back by ``offsets[b]`` radians per block (chip-rate errors move the tone by that much), so
    a few bins cover the whole rate range and the per-value work is one multiply-add. The share of the
    power is the bin's energy over the window's variance (mean removed).

    ``state`` ([re, im, sum, sum of squares of the current block, its count, window sum, window sum of
    squares, ring index, last decision, then re/im per bin]) and ``history`` (per block in the window:
    re, im, sum, sum of squares) carry over between calls: the same arithmetic in the same order
    whatever the block boundaries of the stream, so the output does not depend on them.
    """
    nbins = offsets.shape[0]
    window = blocks * block
    out = np.empty(values.shape[0], dtype=np.int8)
    mix_re = np.empty(block)
    mix_im = np.empty(block)
    for k in range(block):
        mix_re[k] = math.cos(2.0 * math.pi * k / block)
        mix_im[k] = -math.sin(2.0 * math.pi * k / block)
    rot_re = np.cos(offsets)
    rot_im = np.sin(offsets)
    tail_re = np.cos(offsets * blocks)
    tail_im = np.sin(offsets * blocks)
    z_re = state[0]
    z_im = state[1]
    part_sum = state[2]
    part_squares = state[3]
    filled = int(state[4])
    total = state[5]
    squares = state[6]
    ring = int(state[7])
    decision = int(state[8])
    bins_re = state[9 : 9 + nbins].copy()
    bins_im = state[9 + nbins : 9 + 2 * nbins].copy()
    scale = 0.5 * window * threshold
    count = values.shape[0]
    n = 0
    k = first_index % block  # position in the current block of the next value
    while n < count:
        # Accumulate the rest of the current block (a whole block in one go when it fits: SIMD).
        take = min(block - k, count - n)
        for i in range(take):
            x = float(values[n + i])
            z_re += x * mix_re[k + i]
            z_im += x * mix_im[k + i]
            part_sum += x
            part_squares += x * x
            out[n + i] = decision
        filled += take
        n += take
        k += take
        if k < block:
            break  # the block continues in the next call
        k = 0
        if filled == block:  # a whole block (the stream may have begun inside the first one)
            old_re = history[ring, 0]
            old_im = history[ring, 1]
            total += part_sum - history[ring, 2]
            squares += part_squares - history[ring, 3]
            history[ring, 0] = z_re
            history[ring, 1] = z_im
            history[ring, 2] = part_sum
            history[ring, 3] = part_squares
            ring = ring + 1 if ring + 1 < blocks else 0
            best = 0.0
            best_bin = -1
            for b in range(nbins):
                re = bins_re[b]
                im = bins_im[b]
                new_re = rot_re[b] * re - rot_im[b] * im + z_re - (tail_re[b] * old_re - tail_im[b] * old_im)
                new_im = rot_re[b] * im + rot_im[b] * re + z_im - (tail_re[b] * old_im + tail_im[b] * old_re)
                bins_re[b] = new_re
                bins_im[b] = new_im
                power = new_re * new_re + new_im * new_im
                if power > best:
                    best = power
                    best_bin = b
            spread = squares - total * total / window
            ok = spread > 1e-6 * squares + 1e-20 and best >= scale * spread
            decision = best_bin if ok else -1
        z_re = 0.0
        z_im = 0.0
        part_sum = 0.0
        part_squares = 0.0
        filled = 0
    state[0] = z_re
    state[1] = z_im
    state[2] = part_sum
    state[3] = part_squares
    state[4] = filled
    state[5] = total
    state[6] = squares
    state[7] = ring
    state[8] = decision
    state[9 : 9 + nbins] = bins_re
    state[9 + nbins : 9 + 2 * nbins] = bins_im
    return out


@kernel("int8[::1], int64, int64, int64, int64[::1], int64[::1]")
def gated_starts(
    bins: np.ndarray, count: int, reach_lo: int, reach_hi: int, bin_lo: np.ndarray, bin_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The starts 0..count-1 worth correlating, with the range of rate hypotheses for each.

    ``bins[p]`` is the preamble detector's bin for the window ending at p (-1: none); start s is
    gated when a window end in [s + reach_lo, s + reach_hi] has a bin. Overlapping stretches of gated
    starts merge, and each stretch tries the hypotheses bin_lo[b]..bin_hi[b] of all its bins b.
    Returns (starts, first hypothesis, last hypothesis).
    """
    starts = np.empty(count, dtype=np.int64)
    first_h = np.empty(count, dtype=np.int64)
    last_h = np.empty(count, dtype=np.int64)
    n = 0
    run_a = 0
    run_b = -1
    run_lo = 0
    run_hi = 0
    for p in range(min(bins.shape[0], count + reach_hi)):
        b = bins[p]
        if b < 0:
            continue
        a = max(0, p - reach_hi)
        e = min(count - 1, p - reach_lo)
        if a > e:
            continue
        if run_b >= 0 and a <= run_b + 1:
            run_b = max(run_b, e)
            run_lo = min(run_lo, bin_lo[b])
            run_hi = max(run_hi, bin_hi[b])
            continue
        for s in range(run_a, run_b + 1):
            starts[n] = s
            first_h[n] = run_lo
            last_h[n] = run_hi
            n += 1
        run_a, run_b, run_lo, run_hi = a, e, bin_lo[b], bin_hi[b]
    for s in range(run_a, run_b + 1):
        starts[n] = s
        first_h[n] = run_lo
        last_h[n] = run_hi
        n += 1
    return starts[:n], first_h[:n], last_h[:n]


@kernel(
    "float32[::1], int64[::1], int64[::1], int64[::1], int64[:, ::1], float32[::1], int64[::1], "
    "float32[:, ::1], float32[::1]",
    fastmath=_VECTOR_FLAGS,
)
def correlate_rates(
    chips: np.ndarray,
    starts: np.ndarray,
    first_h: np.ndarray,
    last_h: np.ndarray,
    offsets: np.ndarray,
    signs: np.ndarray,
    segments: np.ndarray,
    variants: np.ndarray,
    bias: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best correlation coefficient of the pattern at each start, over chip-rate hypotheses and variants.

    ``chips``: chip-averaged discriminator; ``starts``: increasing positions in it to evaluate, each
    with its hypotheses first_h..last_h; ``offsets[h, k]``: where chip k lies under rate hypothesis h;
    ``signs[k]``: +-1; ``segments[k]``: which part of the pattern chip k belongs to (0-2);
    ``variants[v, part]``: +-1 per part, the forms of the pattern accepted (e.g. the preamble part
    inverted: one chip slipped before the sync word), ``bias[v]`` taken off variant v's score (rarer
    forms must match better to win). Returns (score, hypothesis, variant) per start. Each hypothesis
    goes over runs of consecutive starts tap by tap over contiguous slices (SIMD).
    """
    count = starts.shape[0]
    score = np.zeros(count, dtype=np.float32)
    best_h = np.zeros(count, dtype=np.int16)
    best_v = np.zeros(count, dtype=np.int8)
    npat = offsets.shape[1]
    nhyp = offsets.shape[0]
    nvar = variants.shape[0]
    part_a = np.empty(_TILE, dtype=np.float32)
    part_b = np.empty(_TILE, dtype=np.float32)
    part_c = np.empty(_TILE, dtype=np.float32)
    total = np.empty(_TILE, dtype=np.float32)
    energy = np.empty(_TILE, dtype=np.float32)
    norm = np.empty(_TILE, dtype=np.float32)
    tile_best = np.empty(_TILE, dtype=np.float32)
    tile_variant = np.empty(_TILE, dtype=np.float32)  # float: selects on one type vectorise
    limit = chips.shape[0]
    for h in range(nhyp):
        reach = offsets[h, npat - 1]
        i0 = 0
        while i0 < count:
            if first_h[i0] > h or last_h[i0] < h:
                i0 += 1
                continue
            # a run of consecutive starts that try this hypothesis, at most one tile long
            i1 = i0 + 1
            while (
                i1 < count
                and i1 - i0 < _TILE
                and starts[i1] == starts[i1 - 1] + 1
                and first_h[i1] <= h <= last_h[i1]
            ):
                i1 += 1
            m = i1 - i0
            base = starts[i0]
            if base + reach + m > limit:
                i0 = i1
                continue  # not enough signal yet for this hypothesis (the caller waits for it)
            for i in range(m):
                part_a[i] = 0.0
                part_b[i] = 0.0
                part_c[i] = 0.0
                total[i] = 0.0
                energy[i] = 0.0
            for k in range(npat):
                at = base + offsets[h, k]
                tap = chips[at : at + m]  # a slice: numba then skips negative-index wrapping (SIMD)
                sign = signs[k]
                segment = segments[k]
                if segment == 0:
                    for i in range(m):
                        v = tap[i]
                        part_a[i] += sign * v
                        total[i] += v
                        energy[i] += v * v
                elif segment == 1:
                    for i in range(m):
                        v = tap[i]
                        part_b[i] += sign * v
                        total[i] += v
                        energy[i] += v * v
                else:
                    for i in range(m):
                        v = tap[i]
                        part_c[i] += sign * v
                        total[i] += v
                        energy[i] += v * v
            # Branch-free from here (selects), so that these loops vectorise too.
            for i in range(m):
                var = npat * energy[i] - total[i] * total[i]
                keep = np.float32(1.0) if var > 1e-5 * npat * energy[i] + 1e-20 else np.float32(0.0)
                norm[i] = keep / math.sqrt(max(var, np.float32(1e-30)))
                tile_best[i] = 0.0
                tile_variant[i] = 0.0
            for v in range(nvar):
                ca = variants[v, 0]
                cb = variants[v, 1]
                cc = variants[v, 2]
                bv = bias[v]
                fv = np.float32(v)
                for i in range(m):
                    value = (ca * part_a[i] + cb * part_b[i] + cc * part_c[i]) * norm[i] - bv
                    better = value > tile_best[i]
                    tile_variant[i] = fv if better else tile_variant[i]
                    tile_best[i] = max(value, tile_best[i])
            run_score = score[i0 : i0 + m]
            run_h = best_h[i0 : i0 + m]
            run_v = best_v[i0 : i0 + m]
            hh = np.int16(h)
            for i in range(m):
                better = tile_best[i] > run_score[i]
                run_h[i] = hh if better else run_h[i]
                run_v[i] = np.int8(tile_variant[i]) if better else run_v[i]
                run_score[i] = max(tile_best[i], run_score[i])
            i0 = i1
    return score, best_h, best_v


@kernel()
def pattern_fit_grid(
    chips: np.ndarray,
    start: float,
    shifts: np.ndarray,
    samples_per_chip: np.ndarray,
    signs: np.ndarray,
    first: int,
) -> np.ndarray:
    """Correlation coefficient of the pattern, chip k at ``start + shift + (k - first) * sps``
    (fractional, linearly interpolated), for every (sps, shift) pair: out[r, s]. The fine estimate of
    a candidate's chip rate and position, without the whole-sample rounding of the search's taps
    (which would hide rate differences of less than half a sample over the pattern); ``first`` chips
    of the pattern come before the point ``start`` that the rate stretches from."""
    npat = signs.shape[0]
    last = chips.shape[0] - 1
    out = np.zeros((samples_per_chip.shape[0], shifts.shape[0]), dtype=np.float32)
    for r in range(samples_per_chip.shape[0]):
        sps = samples_per_chip[r]
        for s in range(shifts.shape[0]):
            origin = start + shifts[s] - first * sps
            corr = 0.0
            total = 0.0
            energy = 0.0
            inside = True
            for k in range(npat):
                x = origin + k * sps
                n = int(math.floor(x))
                if n < 0 or n >= last:
                    inside = False
                    break
                frac = x - n
                v = chips[n] + frac * (chips[n + 1] - chips[n])
                corr += signs[k] * v
                total += v
                energy += v * v
            var = npat * energy - total * total
            if inside and var > 1e-5 * npat * energy + 1e-20:
                out[r, s] = corr / math.sqrt(var)
    return out


@kernel()
def fit_transitions(
    chips: np.ndarray,
    start: float,
    samples_per_chip: float,
    signs: np.ndarray,
    center: float,
    amplitude: float,
    iterations: int,
) -> tuple[float, float]:
    """Least-squares chip timing from the transitions of a known chip sequence: (start, samples per chip).

    ``chips`` is the chip-averaged discriminator, where a transition between two chips is a ramp of
    slope 2 * amplitude per chip through ``center`` half a chip before the next chip's peak. The value
    found there, relative to the carrier, says how far the real transition lies from the assumed one
    (linear, with its sign, where a pattern correlation only loses a little of its peak either way);
    a straight line through all the transitions' positions gives the chip-0 peak and the chip period.
    Each transition's offset is limited to +-0.4 chip, so one discriminator click does not decide.
    """
    npat = signs.shape[0]
    last = chips.shape[0] - 1
    for _ in range(iterations):
        count = 0
        sum_k = 0.0
        sum_kk = 0.0
        sum_b = 0.0
        sum_kb = 0.0
        slope = 2.0 * amplitude / samples_per_chip
        if slope <= 0:
            break
        for k in range(1, npat):
            if signs[k] == signs[k - 1]:
                continue
            assumed = start + (k - 0.5) * samples_per_chip
            n = int(math.floor(assumed))
            if n < 0 or n >= last:
                continue
            frac = assumed - n
            value = chips[n] + frac * (chips[n + 1] - chips[n]) - center
            shift = -value * signs[k] / slope
            limit = 0.4 * samples_per_chip
            shift = min(max(shift, -limit), limit)
            position = assumed + shift
            x = k - 0.5
            count += 1
            sum_k += x
            sum_kk += x * x
            sum_b += position
            sum_kb += x * position
        if count < 4:
            break
        denom = count * sum_kk - sum_k * sum_k
        if denom <= 0:
            break
        samples_per_chip = (count * sum_kb - sum_k * sum_b) / denom
        start = (sum_b - samples_per_chip * sum_k) / count
    return start, samples_per_chip


@kernel()
def _median_of(values: np.ndarray) -> float:
    ordered = np.sort(values)
    half = ordered.shape[0] // 2
    if ordered.shape[0] % 2:
        return float(ordered[half])
    return 0.5 * float(ordered[half - 1] + ordered[half])


@kernel()
def carrier_estimate(
    freq: np.ndarray, start: float, samples_per_chip: float, signs: np.ndarray, width: int
) -> tuple[float, float]:
    """(carrier, deviation) in rad/sample from known chips: the chip averages of ``freq`` (not clipped)
    at chip k's peak ``start + k * sps``; medians over the 'one' and over the 'zero' chips, half their
    sum and half their difference (one discriminator click, a 2*pi jump at low SNR, would move a plain
    mean by a whole chip's worth). (0, 0) when the chips are not all in ``freq``."""
    npat = signs.shape[0]
    ones = 0
    for k in range(npat):
        if signs[k] > 0:
            ones += 1
    high = np.empty(ones, dtype=np.float64)
    low = np.empty(npat - ones, dtype=np.float64)
    i1 = 0
    i0 = 0
    for k in range(npat):
        n = int(round(start + k * samples_per_chip))
        if n < 0 or n + width > freq.shape[0]:
            return 0.0, 0.0
        acc = 0.0
        for j in range(width):
            acc += freq[n + j]
        if signs[k] > 0:
            high[i1] = acc / width
            i1 += 1
        else:
            low[i0] = acc / width
            i0 += 1
    if ones == 0 or ones == npat:
        return 0.0, 0.0
    a = _median_of(high)
    b = _median_of(low)
    return 0.5 * (a + b), 0.5 * (a - b)


@kernel(
    "float32[::1], float32[::1], int64, float64, float64, float64, float64, float64[::1], float32[::1], "
    "int64, int64, int64"
)
def acquire(
    chips: np.ndarray,
    freq: np.ndarray,
    start: int,
    nominal_sps: float,
    coarse: float,
    half_span: float,
    step: float,
    shifts: np.ndarray,
    signs: np.ndarray,
    first: int,
    width: int,
    iterations: int,
) -> tuple[float, float, float, float, float]:
    """A candidate's fine timing and carrier, in one call: (start of chip ``first``, samples per chip,
    carrier, deviation, correlation); deviation 0 when there is nothing to acquire.

    The pattern (``first`` extra preamble chips, then the searched pattern starting at ``start``) is
    correlated on a grid of chip rates (``coarse`` +- ``half_span`` in ``step``s, as rate errors) and
    sub-sample shifts; the best point, refined by parabolas through its neighbours, seeds the carrier
    estimate and then the least-squares fit of the chip timing through the known transitions.
    """
    steps = int(round(half_span / step))
    count = 2 * steps + 1
    rates = np.empty(count)
    for r in range(count):
        rates[r] = nominal_sps / (1.0 + coarse + (r - steps) * step)
    grid = pattern_fit_grid(chips, float(start), shifts, rates, signs, first)
    best = 0.0
    h = 0
    s = 0
    for r in range(count):
        for j in range(shifts.shape[0]):
            if grid[r, j] > best:
                best = grid[r, j]
                h = r
                s = j
    if best <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    frac = 0.0
    if 0 < s < shifts.shape[0] - 1:
        a, b, c = grid[h, s - 1], grid[h, s], grid[h, s + 1]
        denom = a - 2 * b + c
        if denom < 0:
            frac = min(max(0.5 * (a - c) / denom, -0.5), 0.5)
    rate_frac = 0.0
    if 0 < h < count - 1:
        a, b, c = grid[h - 1, s], grid[h, s], grid[h + 1, s]
        denom = a - 2 * b + c
        if denom < 0:
            rate_frac = min(max(0.5 * (a - c) / denom, -0.5), 0.5)
    sps = nominal_sps / (1.0 + coarse + (h - steps + rate_frac) * step)
    spacing = shifts[1] - shifts[0] if shifts.shape[0] > 1 else 1.0
    p0 = start + shifts[s] + frac * spacing - first * sps
    center, deviation = carrier_estimate(freq, p0, sps, signs, width)
    if deviation <= 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    p0, sps = fit_transitions(chips, p0, sps, signs, center, deviation, iterations)
    center, deviation = carrier_estimate(freq, p0, sps, signs, width)
    if deviation <= 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    return p0, sps, center, deviation, best
