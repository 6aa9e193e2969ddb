"""RTL-SDR stick on this machine, through pyrtlsdr (librtlsdr): cu8 blocks from an async USB read.

librtlsdr calls us back with a block every ~80 ms (256 kB at 1.6 Msps) from its own USB loop and
overwrites the buffer afterwards: the callback only copies the block into ``LiveSource``'s bounded
queue and returns, so a slow demodulator costs counted, reported drops, never stalled USB transfers.

Install: ``pip install pyrtlsdr pyrtlsdrlib`` (pyrtlsdrlib bundles a current librtlsdr, x86_64/aarch64).
Debian's librtlsdr 0.6 is too old for pyrtlsdr >= 0.3 (no rtlsdr_set_dithering): use librtlsdr >= 2.0.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from .errors import SourceError
from .live import DEFAULT_QUEUE_BLOCKS, LiveSource

log = logging.getLogger("sdr_wmbus.source")

DEFAULT_BLOCK_BYTES = 262144
USB_BLOCK_MULTIPLE = 512  # librtlsdr's async buffers are whole USB bulk packets

# libusb error codes that pyrtlsdr's LibUSBError carries in .errno
LIBUSB_ERROR_ACCESS = -3
LIBUSB_ERROR_BUSY = -6

INSTALL_HINT = "run 'pip install pyrtlsdrlib' (x86_64/aarch64), or install librtlsdr >= 2.0 (rtl-sdr-blog)"
KERNEL_HINT = "is it plugged in, and not claimed by the dvb_usb_rtl28xxu kernel driver? see README"


def load_rtlsdr() -> Any:
    """Import pyrtlsdr's ``RtlSdr`` class; a function so that tests (and nothing else) can replace it."""
    from rtlsdr import RtlSdr

    return RtlSdr


def _import_error_message(exc: BaseException) -> str:
    """One line telling what to install, for whatever importing pyrtlsdr raised."""
    text = _one_line(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name == "rtlsdr":
        return "pyrtlsdr is not installed: run 'pip install pyrtlsdr pyrtlsdrlib'"
    # "undefined symbol: X" from Linux's loader, "function 'X' not found" from Windows'
    symbol = re.search(r"undefined symbol: (\w+)", text) or re.search(r"function '(\w+)' not found", text)
    if isinstance(exc, AttributeError) and symbol:
        return (
            f"the installed librtlsdr is too old for pyrtlsdr (undefined symbol: {symbol.group(1)}): "
            f"{INSTALL_HINT} and 'pip install pyrtlsdr'"
        )
    if isinstance(exc, ModuleNotFoundError):  # a dependency of pyrtlsdr itself
        return f"cannot import pyrtlsdr ({text}): reinstall it with 'pip install pyrtlsdr pyrtlsdrlib'"
    return f"cannot load librtlsdr for pyrtlsdr ({text}): {INSTALL_HINT} and 'pip install pyrtlsdr'"


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def _parse_device(device: str | int | None) -> tuple[int | None, str | None]:
    """(index, serial): '0'..'999' without leading zeros is an index, anything else a serial number.

    Serial numbers are often digits with leading zeros ('00000001', the factory default), which is
    why those are not read as an index; 'serial:NNN' forces a serial number.
    """
    if device is None or device == "":
        return 0, None
    if isinstance(device, int):
        if device < 0:
            raise SourceError(f"RTL-SDR device index {device} is negative")
        return device, None
    text = str(device).strip()
    if text.lower().startswith("serial:"):
        serial = text[len("serial:") :].strip()
        if not serial:
            raise SourceError(f"RTL-SDR device {device!r}: no serial number after 'serial:'")
        return None, serial
    if text.isdigit() and len(text) <= 3 and (text == "0" or not text.startswith("0")):
        return int(text), None
    return None, text


def _parse_gain(gain: str | float) -> float | None:
    """None for automatic gain (AGC), else the requested gain in dB."""
    if isinstance(gain, str):
        if gain.strip().lower() == "auto":
            return None
        try:
            return float(gain)
        except ValueError:
            raise SourceError(f"invalid gain {gain!r}: use 'auto' or a number of dB") from None
    return float(gain)


class RtlSdrSource(LiveSource):
    """cu8 blocks from a local RTL-SDR stick (pyrtlsdr's async read in the reader thread)."""

    kind = "rtlsdr"

    def __init__(
        self,
        rate: float,
        center: float,
        device: str | int | None = None,
        gain: str | float = "auto",
        ppm: int = 0,
        bias_tee: bool = False,
        queue_blocks: int = DEFAULT_QUEUE_BLOCKS,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        device_factory: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(rate, center, queue_blocks)
        if block_bytes <= 0 or block_bytes % USB_BLOCK_MULTIPLE:
            raise SourceError(
                f"RTL-SDR block size {block_bytes} bytes: must be a positive multiple of {USB_BLOCK_MULTIPLE}"
            )
        self.index, self.serial = _parse_device(device)
        self.gain_db = _parse_gain(gain)  # None: automatic
        self.gain = "auto" if self.gain_db is None else self.gain_db  # what the device was given
        self.ppm = int(ppm)
        self.bias_tee = bool(bias_tee)
        self.block_bytes = int(block_bytes)
        self._factory = device_factory
        self._sdr: Any = None
        self._closed = False
        self._ctl_lock = threading.Lock()  # settings from the consumer thread vs. open/close
        # Cancelling is only safe while librtlsdr's async loop runs: before, librtlsdr refuses and
        # pyrtlsdr closes the device under the reader; after, the same. RLock: stop() may come from
        # a signal handler that interrupted the main thread inside _interrupt().
        self._cancel_lock = threading.RLock()
        self._streaming = False  # a callback arrived in the current read: the async loop is running
        self._cancelled = False
        self._callback_error: str | None = None

    def describe(self) -> str:
        where = f"#{self.index}" if self.index is not None else ""
        serial = f"(serial {self.serial})" if self.serial else ""
        return " ".join(part for part in ("RTL-SDR", where, serial) if part)

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        factory = self._factory if self._factory is not None else self._load_class()
        self._find_device(factory)
        try:
            sdr = factory(self.index) if self.index is not None else factory(serial_number=self.serial)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._open_error(exc)) from None
        with self._ctl_lock:
            self._sdr = sdr
            self._closed = False
        try:
            self._apply_settings(sdr)
        except BaseException:
            self._close_device()
            raise
        log.info(
            "%s: %.0f Hz, %.6f MHz, gain %s, %+d ppm%s",
            self.describe(),
            self.rate,
            self.center / 1e6,
            "auto" if self.gain_db is None else f"{self.gain} dB",
            self.ppm,
            ", bias tee on" if self.bias_tee else "",
        )

    @staticmethod
    def _load_class() -> Any:
        try:
            cls = load_rtlsdr()
        except (ImportError, OSError, AttributeError) as exc:
            raise SourceError(_import_error_message(exc)) from None
        if cls is None:  # RTLSDR_CLIENT_MODE set: pyrtlsdr leaves RtlSdr None
            raise SourceError(
                "pyrtlsdr is in client-only mode: unset RTLSDR_CLIENT_MODE to use a local RTL-SDR"
            )
        return cls

    def _find_device(self, factory: Any) -> None:
        """Resolve a serial number to an index (or an index to its serial, for the logs)."""
        if self.serial is not None:
            lookup = getattr(factory, "get_device_index_by_serial", None)
            if lookup is None:
                return  # the factory takes serial_number= itself
            try:
                self.index = int(lookup(self.serial))
            except Exception:
                raise SourceError(
                    f"no RTL-SDR with serial number {self.serial!r} found "
                    "(is it plugged in? 'rtl_test' lists the sticks and their serial numbers)"
                ) from None
            return
        serials = getattr(factory, "get_device_serial_addresses", None)
        if serials is None:
            return
        try:  # only for describe(): enumerating needs no open device, and may fail harmlessly
            found = list(serials())
            if self.index is not None and self.index < len(found) and found[self.index]:
                self.serial = str(found[self.index])
        except Exception:
            pass

    def _open_error(self, exc: BaseException) -> str:
        where = f"index {self.index}" if self.index is not None else f"serial number {self.serial!r}"
        code = getattr(exc, "errno", None)
        if code == LIBUSB_ERROR_ACCESS:
            return (
                f"RTL-SDR at {where}: USB access denied (install the rtl-sdr udev rules, or add "
                "yourself to the plugdev group; see README)"
            )
        if code == LIBUSB_ERROR_BUSY:
            return (
                f"RTL-SDR at {where} is busy (claimed by the dvb_usb_rtl28xxu kernel driver or another "
                "program such as rtl_tcp; see README)"
            )
        return f"no RTL-SDR found at {where} ({KERNEL_HINT})"

    def _apply_settings(self, sdr: Any) -> None:
        """Rate, centre, ppm, gain and bias tee, each failure a one-line SourceError naming it."""
        rate, center = int(round(self.rate)), int(round(self.center))
        self._set(sdr, "sample_rate", rate, f"sample rate {rate} Hz")
        self._set(sdr, "center_freq", center, f"centre frequency {center} Hz")
        if self.ppm:  # librtlsdr rejects setting the value it already has (0 after opening)
            self._set(sdr, "freq_correction", self.ppm, f"frequency correction {self.ppm:+d} ppm")
        if self.gain_db is None:
            self._set(sdr, "gain", "auto", "automatic gain")
            self.gain = "auto"
        else:
            chosen = self._nearest_gain(sdr, self.gain_db)
            self._set(sdr, "gain", chosen, f"gain {chosen} dB")
            self.gain = chosen
            if chosen != self.gain_db:
                log.info(
                    "%s: gain %s dB (the nearest the tuner offers to %s dB)",
                    self.describe(),
                    chosen,
                    self.gain_db,
                )
        if self.bias_tee:
            set_bias_tee = getattr(sdr, "set_bias_tee", None)
            if set_bias_tee is None:
                raise SourceError(f"{self.describe()}: this pyrtlsdr cannot switch the bias tee on")
            try:
                set_bias_tee(True)
            except Exception as exc:
                reason = _one_line(exc)
                raise SourceError(f"{self.describe()}: cannot switch the bias tee on: {reason}") from None

    def _set(self, sdr: Any, name: str, value: Any, what: str) -> None:
        try:
            setattr(sdr, name, value)
        except Exception as exc:
            raise SourceError(f"{self.describe()}: cannot set {what}: {_one_line(exc)}") from None

    @staticmethod
    def _nearest_gain(sdr: Any, wanted: float) -> float:
        try:
            gains = [float(g) for g in (getattr(sdr, "valid_gains_db", None) or [])]
        except (TypeError, ValueError):
            gains = []
        if not gains:
            return wanted
        return min(gains, key=lambda g: (abs(g - wanted), g))

    # ------------------------------------------------------------------ settings while running
    def set_ppm(self, ppm: int) -> None:
        """Retune the frequency correction (from the consumer thread); failures are logged, not raised."""
        ppm = int(ppm)
        with self._ctl_lock:
            if ppm == self.ppm:
                return
            sdr = self._sdr
            if sdr is None or self._closed:
                self.ppm = ppm  # applied when the device opens
                return
            try:
                sdr.freq_correction = ppm
            except Exception as exc:
                log.warning(
                    "%s: cannot set the frequency correction to %+d ppm: %s",
                    self.describe(),
                    ppm,
                    _one_line(exc),
                )
                return
            self.ppm = ppm
        log.info("%s: frequency correction set to %+d ppm", self.describe(), ppm)

    # ------------------------------------------------------------------ reader thread
    def _run(self) -> None:
        sdr = self._sdr
        if sdr is None:
            raise SourceError(f"{self.describe()} is not open")
        with self._cancel_lock:
            if self.stopping:
                return
            self._streaming = False
            self._cancelled = False
        try:
            sdr.read_bytes_async(self._on_block, num_bytes=self.block_bytes)
        except Exception as exc:
            if self.stopping:
                return
            raise SourceError(f"RTL-SDR read failed: {_one_line(exc)} (unplugged?)") from None
        finally:
            with self._cancel_lock:
                self._streaming = False
        if self._callback_error is not None:
            raise SourceError(f"RTL-SDR reader failed: {self._callback_error}")
        if not self.stopping:
            raise SourceError("RTL-SDR stopped delivering samples (unplugged?)")

    def _on_block(self, buffer: Any, context: Any = None) -> None:
        """librtlsdr's callback: copy the block into the queue and return at once (never blocks)."""
        self._streaming = True
        if self.stopping:
            self._cancel()
            return
        try:
            self._emit(buffer)  # copies: librtlsdr reuses the buffer once we return
        except Exception as exc:  # ctypes would print and swallow it: end the read and report it
            self._callback_error = _one_line(exc)
            self._cancel()

    def _interrupt(self) -> None:
        # Before the first block the async loop may not run yet: the callback then cancels on arrival.
        if self._streaming:
            self._cancel()

    def _cancel(self) -> None:
        """cancel_read_async() at most once per read, and only while the read is running."""
        with self._cancel_lock:
            if self._cancelled or not self._streaming or self._sdr is None:
                return
            self._cancelled = True
            try:
                self._sdr.cancel_read_async()
            except Exception as exc:
                log.debug("%s: cancel_read_async: %s", self.describe(), _one_line(exc))

    # ------------------------------------------------------------------ closing
    def _close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            # Closing the device under a read that is still running would free memory librtlsdr uses.
            log.warning("%s: the reader did not finish; leaving the device open", self.describe())
            return
        self._close_device()

    def _close_device(self) -> None:
        with self._ctl_lock:
            sdr, closed = self._sdr, self._closed
            self._closed = True
        if sdr is None or closed:
            return
        try:
            sdr.close()
        except Exception as exc:
            log.debug("%s: close: %s", self.describe(), _one_line(exc))
