"""Where the compiled radio kernels live, and loading them before the signal flows.

The kernels compiled ahead of time live in ``<cache>/sdr-wmbus/kernels`` (``aot.py``). When numba's JIT
runs them instead: numba caches compiled kernels next to their source by default, i.e. inside the
installed package; pip never removes that folder, and a leftover ``sdr_wmbus/dsp/__pycache__`` from a
non-editable install shadows the package after an editable one. So the cache goes to the user's cache folder
(``$XDG_CACHE_HOME/sdr-wmbus/numba``, else ``~/.cache/sdr-wmbus/numba``; ``NUMBA_CACHE_DIR`` wins when
set). This module must be imported before numba is (``sdr_wmbus/__init__.py`` does it).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger("sdr_wmbus")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/sdr-wmbus``, else ``~/.cache/sdr-wmbus``: numba's cache and the compiled kernels."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sdr-wmbus"


def cache_dir() -> Path:
    """numba's cache folder (``NUMBA_CACHE_DIR`` when set)."""
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return Path(configured)
    return cache_root() / "numba"


def writable(path: Path) -> Path:
    """``path``, created; a folder in the temporary directory instead when it cannot be written to."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK):
            raise PermissionError(str(path))
    except OSError:
        user = os.getuid() if hasattr(os, "getuid") else 0
        path = Path(tempfile.gettempdir()) / f"sdr-wmbus-{path.name}-{user}"
        path.mkdir(parents=True, exist_ok=True)
    return path


def configure_cache() -> None:
    """Point numba's cache at the user's cache folder (a temporary one if that is not writable)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(writable(cache_dir()))


def _cached_kernels() -> int:
    try:
        return sum(1 for _ in cache_dir().rglob("*.nbi"))
    except OSError:
        return 0


def warm_up(rate: float, center: float, modes: str, quiet: bool = False) -> float:
    """Load (or, the first time, compile) the radio kernels; returns the seconds it took.

    Compiling takes tens of seconds on a Raspberry Pi, so the first run says what it is doing, once,
    and how long it took; throughput figures are measured after this, never including it. The kernels
    compiled ahead of time (``aot.py``) are loaded or built here; numba's JIT is what runs them when
    that cannot be done, and then compiles each on its first call, so a burst per mode goes through.
    """

    from .kernels import resolve
    from .phy.combined import CombinedReceiver

    started = time.perf_counter()
    jit = resolve(quiet=quiet) == "jit"
    before = _cached_kernels() if jit else 0
    if jit and before == 0 and not quiet:
        log.warning("compiling the radio kernels (first run only; later runs load them from %s)", cache_dir())
    receiver = CombinedReceiver(rate, center, modes)
    receiver.process(_warm_up_signal(rate, center, modes))  # a burst per mode: every stage runs
    receiver.flush()
    elapsed = time.perf_counter() - started
    if jit and _cached_kernels() > before and not quiet:
        log.warning("radio kernels compiled in %.0f s (once; they are cached now)", elapsed)
    return elapsed


_WARM_UP_BODY = bytes.fromhex("44AE4C9956341268077A360010002F2F0413181E0000023B00002F2F2F")  # a water meter
_WARM_UP_FRAME = bytes([len(_WARM_UP_BODY)]) + _WARM_UP_BODY


def _warm_up_signal(rate: float, center: float, modes: str):  # -> np.ndarray
    """One clean burst of a real telegram per mode (FSK at each mode's carrier), from cu8 samples."""
    import numpy as np

    from .dsp.convert import cu8_to_complex64
    from .phy.encode import c1_chips, s1_chips, t1_chips
    from .tables.phy import CENTER_S1_HZ, CENTER_T1_C1_HZ

    parts = [np.zeros(2000, dtype=np.complex64)]
    for mode, chips, carrier, chip_rate in (
        ("t", t1_chips(_WARM_UP_FRAME), CENTER_T1_C1_HZ, 100e3),
        ("c", c1_chips(_WARM_UP_FRAME), CENTER_T1_C1_HZ, 100e3),
        ("s", s1_chips(_WARM_UP_FRAME), CENTER_S1_HZ, 32.768e3),
    ):
        if mode not in modes:
            continue
        per_chip = rate / chip_rate
        index = np.minimum(
            (np.arange(int(len(chips) * per_chip)) / per_chip).astype(np.int64), len(chips) - 1
        )
        frequency = (carrier - center) + 45e3 * (2.0 * chips[index] - 1.0)
        parts.append(np.exp(2j * np.pi * np.cumsum(frequency) / rate).astype(np.complex64))
        parts.append(np.zeros(2000, dtype=np.complex64))
    signal = np.concatenate(parts)
    cu8 = np.empty(2 * len(signal), dtype=np.uint8)  # through the cu8 path too, as files and dongles are
    cu8[0::2] = np.clip(signal.real * 100 + 127.5, 0, 255)
    cu8[1::2] = np.clip(signal.imag * 100 + 127.5, 0, 255)
    return cu8_to_complex64(cu8)
