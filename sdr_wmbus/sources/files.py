"""IQ recordings: read raw files, stdin pipes and SigMF in bounded chunks; write them back.

A source yields complex64 chunks of at most ``block_samples`` samples, so memory stays flat for a
recording of any length. Rate, centre and format come from (first wins) the caller, SigMF metadata,
then the file name (``rtlsdr_868.950M_1M6.cu8``); a truncated last sample is not an error but is
counted in ``stray_bytes`` for the caller to report.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sdr_wmbus.dsp.convert import (
    complex64_to_cs8,
    complex64_to_cs16,
    complex64_to_cu8,
    cs8_to_complex64,
    cs16_to_complex64,
    cu8_to_complex64,
)
from sdr_wmbus.sources.errors import SourceError

FORMATS = ("cu8", "cs8", "cs16", "cf32")
SAMPLE_BYTES = {"cu8": 2, "cs8": 2, "cs16": 4, "cf32": 8}
MIN_RATE = 0.8e6
MAX_RATE = 3.2e6

# Extensions that name a sample format; .complex16u/.complex16s/.complex are the URH/GNU Radio names.
EXTENSION_FORMATS = {
    ".cu8": "cu8",
    ".cs8": "cs8",
    ".cs16": "cs16",
    ".cf32": "cf32",
    ".complex16u": "cu8",
    ".complex16s": "cs8",
    ".complex": "cf32",
    ".cfile": "cf32",
}
SIGMF_DATATYPES = {"cu8": "cu8", "ci8": "cs8", "ci16_le": "cs16", "cf32_le": "cf32"}
_FORMAT_TO_SIGMF = {fmt: datatype for datatype, fmt in SIGMF_DATATYPES.items()}
_SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data")
SIDECAR_SUFFIX = ".sigmf-meta"  # x.cu8 + x.cu8.sigmf-meta: a raw file with SigMF metadata beside it
_KNOWN_SUFFIXES = (*EXTENSION_FORMATS, *_SIGMF_SUFFIXES, ".raw", ".bin", ".iq", ".dat")

# Raw sample dtype (little-endian on disk) read by each format's conversion kernel.
_RAW_DTYPES = {"cu8": np.dtype(np.uint8), "cs8": np.dtype(np.int8), "cs16": np.dtype("<i2")}
_TO_COMPLEX = {"cu8": cu8_to_complex64, "cs8": cs8_to_complex64, "cs16": cs16_to_complex64}
_FROM_COMPLEX = {"cu8": complex64_to_cu8, "cs8": complex64_to_cs8, "cs16": complex64_to_cs16}


@dataclass
class StreamInfo:
    """What a stream of samples is: its rate and centre in Hz, raw format and where it comes from."""

    rate: float
    center: float | None
    fmt: str
    path: str


class IQFileSource:
    """Reads an IQ file or stdin ('-') in bounded chunks."""

    def __init__(
        self, stream: BinaryIO, info: StreamInfo, total_samples: int | None = None, close_stream: bool = True
    ):
        self.info = info
        self.total_samples = total_samples
        self.samples_read = 0
        self.stray_bytes = 0
        self._stream = stream
        self._close_stream = close_stream

    def blocks(self, block_samples: int = 262144) -> Iterator[np.ndarray]:
        """Yield complex64 chunks of ``block_samples`` (the last may be shorter), each a new array.

        Reads fill a whole chunk before converting it, so the short, odd-sized reads of a pipe
        never split a sample.
        """
        if block_samples < 1:
            raise ValueError(f"block_samples must be at least 1, not {block_samples}")
        fmt = self.info.fmt
        sample_bytes = SAMPLE_BYTES[fmt]
        block_bytes = block_samples * sample_bytes
        while True:
            raw = np.empty(block_bytes, np.uint8)
            filled = self._fill(memoryview(raw))
            whole = filled - filled % sample_bytes
            if whole:
                self.samples_read += whole // sample_bytes
                yield _bytes_to_complex64(raw[:whole], fmt)
            if filled < block_bytes:
                self.stray_bytes = filled - whole
                return

    def _fill(self, buffer: memoryview) -> int:
        """Read until ``buffer`` is full or the stream ends; return the byte count."""
        filled = 0
        while filled < len(buffer):
            count = self._stream.readinto(buffer[filled:])
            if not count:
                break
            filled += count
        return filled

    def close(self) -> None:
        if self._close_stream:
            self._stream.close()

    def __enter__(self) -> IQFileSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _bytes_to_complex64(raw: np.ndarray, fmt: str) -> np.ndarray:
    if fmt == "cf32":
        return raw.view("<c8").astype(np.complex64, copy=False)
    samples = raw.view(_RAW_DTYPES[fmt]).astype(_RAW_DTYPES[fmt].newbyteorder("="), copy=False)
    return _TO_COMPLEX[fmt](samples)


def open_iq(
    path: str, fmt: str | None = None, rate: float | None = None, center: float | None = None
) -> IQFileSource:
    """Open an IQ file, SigMF recording (meta, data or base name) or stdin ('-') for reading.

    Explicit arguments win over SigMF metadata, which wins over what the file name says.
    """
    fmt = _check_format(fmt) if fmt is not None else None
    if path == "-":
        if fmt is None:
            raise SourceError("cannot tell the format of stdin: give --format (cu8, cs8, cs16 or cf32)")
        if rate is None:
            raise SourceError("cannot tell the sample rate of stdin: give --rate")
        info = StreamInfo(
            rate=_check_rate(rate), center=None if center is None else float(center), fmt=fmt, path="-"
        )
        return IQFileSource(sys.stdin.buffer, info, total_samples=None, close_stream=False)

    meta_path = _sigmf_meta_path(path)
    if meta_path is not None:
        meta = _read_sigmf_meta(meta_path)
        data_path = meta_path[: -len(".sigmf-meta")] + ".sigmf-data"
    elif os.path.exists(path + SIDECAR_SUFFIX):  # metadata beside a raw file (synth writes it)
        meta, data_path = _read_sigmf_meta(path + SIDECAR_SUFFIX), path
    else:
        meta, data_path = {}, path
    try:
        stream = open(data_path, "rb")
    except OSError as exc:
        raise SourceError(f"cannot open {data_path}: {exc.strerror}") from None
    try:
        info = _stream_info(path, data_path, meta, fmt, rate, center)
    except SourceError:
        stream.close()
        raise
    status = os.fstat(stream.fileno())
    total = status.st_size // SAMPLE_BYTES[info.fmt] if stat.S_ISREG(status.st_mode) else None
    return IQFileSource(stream, info, total_samples=total)


def _stream_info(
    path: str, data_path: str, meta: dict, fmt: str | None, rate: float | None, center: float | None
) -> StreamInfo:
    """Resolve format, rate and centre: explicit, else SigMF metadata, else the file name."""
    named = parse_iq_filename(data_path)
    fmt = fmt or meta.get("fmt") or named.get("fmt")
    if fmt is None:
        raise SourceError(
            f"cannot tell the format of {path}: give --format (cu8, cs8, cs16 or cf32) "
            "or name the file with its format (.cu8, .cs8, .cs16, .cf32)"
        )
    if rate is None:
        rate = meta.get("rate", named.get("rate"))
    if rate is None:
        raise SourceError(
            f"cannot tell the sample rate of {path}: "
            "give --rate or name the file like rtlsdr_868.950M_1M6.cu8"
        )
    if center is None:
        center = meta.get("center", named.get("center"))
    return StreamInfo(
        rate=_check_rate(rate), center=None if center is None else float(center), fmt=fmt, path=data_path
    )


def _check_format(fmt: str) -> str:
    if fmt.lower() not in FORMATS:
        raise SourceError(f"unknown IQ format {fmt!r} (known: {', '.join(FORMATS)})")
    return fmt.lower()


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise SourceError(f"sample rate {rate:.0f} Hz is outside 0.8-3.2 Msps")
    return rate


def _sigmf_meta_path(path: str) -> str | None:
    """The .sigmf-meta that belongs to ``path``, or None when ``path`` is not a SigMF recording."""
    for suffix in _SIGMF_SUFFIXES:
        if path.lower().endswith(suffix):
            return path[: -len(suffix)] + ".sigmf-meta"
    if not os.path.exists(path) and os.path.exists(path + ".sigmf-meta"):
        return path + ".sigmf-meta"
    return None


def _read_sigmf_meta(meta_path: str) -> dict:
    """Format, rate and centre from SigMF metadata, as far as it gives them."""
    try:
        with open(meta_path, encoding="utf-8") as file:
            meta = json.load(file)
    except OSError as exc:
        raise SourceError(f"cannot open {meta_path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"bad SigMF metadata in {meta_path}: {exc}") from None
    glob = meta.get("global") if isinstance(meta, dict) else None
    if not isinstance(glob, dict):
        raise SourceError(f"bad SigMF metadata in {meta_path}: no 'global' object")
    datatype = glob.get("core:datatype")
    if datatype is None:
        raise SourceError(f"bad SigMF metadata in {meta_path}: no core:datatype")
    if not isinstance(datatype, str) or datatype not in SIGMF_DATATYPES:
        raise SourceError(
            f"unsupported SigMF datatype {datatype!r} in {meta_path} "
            f"(supported: {', '.join(SIGMF_DATATYPES)})"
        )
    found = {"fmt": SIGMF_DATATYPES[datatype]}
    rate = glob.get("core:sample_rate")
    if rate is not None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise SourceError(f"bad SigMF metadata in {meta_path}: core:sample_rate {rate!r} is not a number")
        found["rate"] = float(rate)
    captures = meta.get("captures")
    if isinstance(captures, list) and captures and isinstance(captures[0], dict):
        frequency = captures[0].get("core:frequency")
        if isinstance(frequency, (int, float)) and not isinstance(frequency, bool):
            found["center"] = float(frequency)
    return found


# One name token: "868.95M", "1600k", "2.4Msps", "868625000Hz" or "1M6" (= 1.6M, resistor style).
_VALUE_TOKEN = re.compile(
    r"(?P<int>\d+)(?:\.(?P<frac>\d+))?(?P<mag>[kmg]?)(?P<digits>(?<=[kmg])\d+)?(?P<unit>hz|sps)?",
    re.IGNORECASE,
)
_MAGNITUDES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_CENTER_ABOVE = 10e6  # a value (not marked sps) this large is a tuning frequency, below it a sample rate


def parse_iq_filename(name: str) -> dict:
    """Rate, centre and format that a recording's name tells, e.g. ``rtlsdr_868.950M_1M6_samples2.cu8``
    → ``{'rate': 1.6e6, 'center': 868.95e6, 'fmt': 'cu8'}``; parts the name does not tell are absent.

    A value needs a magnitude (k, M, G) or a unit (Hz, sps); "sps" marks a rate, otherwise values
    below 10 MHz are rates and larger ones centres. The first of each wins.
    """
    base = os.path.basename(name)
    found: dict = {}
    suffix = next((s for s in _KNOWN_SUFFIXES if base.lower().endswith(s)), None)
    if suffix is not None:
        base = base[: -len(suffix)]
        if suffix in EXTENSION_FORMATS:
            found["fmt"] = EXTENSION_FORMATS[suffix]
    for token in re.split(r"[_\s-]+", base):
        match = _VALUE_TOKEN.fullmatch(token)
        if not match:
            continue
        mag, digits, unit = match["mag"].lower(), match["digits"], (match["unit"] or "").lower()
        if digits and match["frac"]:
            continue  # "1.6M6" means nothing
        if not mag and not unit:
            continue  # a bare number: a date, a count, anything
        value = round(float(f"{match['int']}.{match['frac'] or digits or 0}") * _MAGNITUDES[mag], 3)
        if unit == "sps" or value < _CENTER_ABOVE:
            found.setdefault("rate", value)
        else:
            found.setdefault("center", value)
    return found


class IQFileWriter:
    """Writes complex chunks to a raw IQ file (cu8, cs8, cs16, cf32), stdout ('-') or SigMF.

    For ``fmt='sigmf'`` the path may end in .sigmf-meta, .sigmf-data or be the base name; the
    metadata is written on open, so a recording cut short still has it, and the data is cf32_le
    (or ``sigmf_data``, e.g. cu8 for a live RTL-SDR stream written with ``write_raw``).
    """

    def __init__(
        self,
        path: str,
        fmt: str,
        rate: float,
        center: float | None = None,
        description: str | None = None,
        sigmf_data: str = "cf32",
    ):
        fmt = fmt.lower()
        if fmt != "sigmf":
            fmt = _check_format(fmt)
        if not (math.isfinite(rate) and rate > 0):
            raise SourceError(f"sample rate {rate:g} Hz is not a positive number")
        self.fmt = _check_format(sigmf_data) if fmt == "sigmf" else fmt
        self.samples_written = 0
        self.meta_path: str | None = None
        if fmt == "sigmf":
            base = path
            for suffix in _SIGMF_SUFFIXES:
                if base.lower().endswith(suffix):
                    base = base[: -len(suffix)]
            self.meta_path, self.path = base + ".sigmf-meta", base + ".sigmf-data"
            _write_sigmf_meta(self.meta_path, self.fmt, rate, center, description)
        else:
            self.path = path
        if self.path == "-":
            self._stream, self._close_stream = sys.stdout.buffer, False
        else:
            try:
                self._stream, self._close_stream = open(self.path, "wb"), True
            except OSError as exc:
                raise SourceError(f"cannot create {self.path}: {exc.strerror}") from None

    def write(self, iq: np.ndarray) -> None:
        """Append a 1-D chunk of complex samples (rounded and clipped for the integer formats)."""
        iq = np.asarray(iq)
        if iq.ndim != 1:
            raise ValueError(f"IQ chunks must be 1-D, not {iq.ndim}-D")
        if self.fmt == "cf32":
            raw = iq.astype("<c8", copy=False)
        else:
            raw = _FROM_COMPLEX[self.fmt](iq.astype(np.complex64, copy=False))
            if self.fmt == "cs16":
                raw = raw.astype("<i2", copy=False)
        self._stream.write(np.ascontiguousarray(raw).view(np.uint8))
        self.samples_written += iq.size

    def write_raw(self, raw: bytes | np.ndarray) -> None:
        """Append bytes already in this writer's sample format (a live cu8 stream, unconverted)."""
        data = memoryview(np.ascontiguousarray(raw, dtype=np.uint8)).cast("B")
        self._stream.write(data)
        self.samples_written += len(data) // SAMPLE_BYTES[self.fmt]

    def close(self) -> None:
        if self._close_stream:
            self._stream.close()
        else:
            self._stream.flush()

    def __enter__(self) -> IQFileWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _write_sigmf_meta(meta_path: str, fmt: str, rate: float, center: float | None, description: str | None):
    capture: dict = {"core:sample_start": 0}
    if center is not None:
        capture["core:frequency"] = float(center)
    meta = {
        "global": {
            "core:datatype": _FORMAT_TO_SIGMF[fmt],
            "core:sample_rate": float(rate),
            "core:version": "1.0.0",
            "core:description": description or "IQ recording written by sdr_wmbus",
            "core:recorder": "sdr_wmbus",
        },
        "captures": [capture],
        "annotations": [],
    }
    try:
        Path(meta_path).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot create {meta_path}: {exc.strerror}") from None


def write_iq(
    path: str,
    iq: np.ndarray,
    fmt: str,
    rate: float,
    center: float | None = None,
    description: str | None = None,
) -> None:
    """Write ``iq`` as one raw IQ file (cu8, cs8, cs16, cf32) or SigMF recording (``fmt='sigmf'``)."""
    with IQFileWriter(path, fmt, rate, center, description) as writer:
        writer.write(iq)


def write_sidecar_meta(path: str, fmt: str, rate: float, center: float | None, description: str) -> str:
    """SigMF metadata beside a raw IQ file (``path + '.sigmf-meta'``), so that readers find its rate,
    centre and format whatever the file is called; returns the metadata's path."""
    meta_path = path + SIDECAR_SUFFIX
    _write_sigmf_meta(meta_path, fmt, rate, center, description)
    return meta_path
