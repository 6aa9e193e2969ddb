"""EN 13757-3 application layer: split an APL into data records and give each a scaled value.

The walk has two steps that are kept apart on purpose:

* :func:`read_record_header` / :func:`data_field_length` know only the *structure* (DIF, DIFEs, VIF,
  plain text, VIFEs, data length). The compact-frame code reuses them to rebuild frames.
* :func:`interpret_record` applies the tables of :mod:`sdr_wmbus.app.vif_tables` and the data types of
  :mod:`sdr_wmbus.app.datatypes` to turn the bytes into quantity, unit and value.

Malformed input never raises out of :func:`parse_apl`: the records decoded so far are kept and
``Apl.error`` says where and why the walk stopped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from sdr_wmbus.app import datatypes, vif_tables
from sdr_wmbus.app.datatypes import DATETIME_DECODERS
from sdr_wmbus.app.vif_tables import VifInfo
from sdr_wmbus.errors import DecodeError, TruncatedError

MAX_DIFES = 10
MAX_VIFES = 10

DIF_MANUFACTURER_DATA = 0x0F
DIF_MORE_RECORDS_FOLLOW = 0x1F
DIF_IDLE_FILLER = 0x2F
DIF_GLOBAL_READOUT = 0x7F

DATA_FIELD_LVAR = 0x0D
DATA_FIELD_SPECIAL = 0x0F
DATA_FIELD_REAL = 0x05
DATA_FIELD_SELECTION = 0x08
DATA_FIELD_NONE = 0x00

#: DIF data field (low nibble) -> data length in bytes (LVAR and special functions excluded).
DATA_FIELD_LENGTH: dict[int, int] = {
    0x0: 0, 0x1: 1, 0x2: 2, 0x3: 3, 0x4: 4, 0x5: 4, 0x6: 6, 0x7: 8,
    0x8: 0, 0x9: 1, 0xA: 2, 0xB: 3, 0xC: 4, 0xE: 6,
}  # fmt: skip
BCD_DATA_FIELDS = frozenset({0x9, 0xA, 0xB, 0xC, 0xE})
INTEGER_DATA_FIELDS = frozenset({0x1, 0x2, 0x3, 0x4, 0x6, 0x7})

FUNCTIONS: tuple[str, ...] = ("instantaneous", "maximum", "minimum", "error")


@dataclass(slots=True)  # not frozen: made for every record of every telegram, and never changed
class Record:
    """One decoded data record (treat it as read-only)."""

    header: bytes  # DIF, DIFEs, VIF, VIFEs exactly as received (plain-text VIF text excluded)
    data: bytes  # raw data bytes (for LVAR: without the LVAR length byte)
    value: int | float | str | None  # scaled into `unit`; None when the meter marks it invalid
    unit: str
    quantity: str
    storage: int
    tariff: int
    subunit: int
    function: str  # 'instantaneous' | 'maximum' | 'minimum' | 'error'
    modifiers: tuple[str, ...]  # combinable VIFE meanings
    offset: int  # byte offset of the DIF in the APL

    @property
    def dif(self) -> int:
        """The DIF byte (its low nibble says how the data field is coded)."""
        return self.header[0]


@dataclass
class Apl:
    """All records of one application-layer payload."""

    records: list[Record] = field(default_factory=list)
    manufacturer_data: bytes = b""  # bytes after DIF 0x0F / 0x1F
    more_records_follow: bool = False  # DIF 0x1F seen
    error: str | None = None  # why (and at which offset) the walk stopped early
    error_offset: int | None = None  # where the walk stopped early
    layout: int | None = None  # names the record layout (the same for every APL laid out alike)


@dataclass(frozen=True)
class RecordHeader:
    """Structure of one record's DIB and VIB, as found in a byte string."""

    offset: int  # position of the DIF
    dif: int
    difes: bytes
    vib: bytes  # VIF and VIFEs as received, without the plain-text length and text
    plain_text: bytes  # plain-text VIF characters as received (last character first), else b""
    end: int  # position just after the header (where the data starts)

    @property
    def header(self) -> bytes:
        """DIF, DIFEs, VIF and VIFEs without the plain text (what ``Record.header`` holds)."""
        return bytes((self.dif,)) + self.difes + self.vib


def _take(buf: bytes, pos: int, what: str) -> int:
    if pos >= len(buf):
        raise TruncatedError(f"{what} missing at offset {pos}")
    return buf[pos]


def read_record_header(buf: bytes, pos: int) -> RecordHeader:
    """Read DIF, DIFEs, VIF, optional plain text and VIFEs starting at ``pos``.

    The caller has already dealt with the special-function DIFs (0x0F, 0x1F, 0x2F, ...). The plain text
    of VIF 0x7C/0xFC is read directly after the VIF byte (as wmbusmeters and libmbus do); the fact
    sheet notes that exmbus reads it after the last VIFE instead, which only differs for 0xFC.
    """
    offset = pos
    dif = _take(buf, pos, "DIF")
    pos += 1
    difes = bytearray()
    extends = bool(dif & 0x80)
    while extends:
        if len(difes) == MAX_DIFES:
            raise DecodeError(f"more than {MAX_DIFES} DIFEs")
        dife = _take(buf, pos, "DIFE")
        difes.append(dife)
        pos += 1
        extends = bool(dife & 0x80)

    vif = _take(buf, pos, "VIF")
    pos += 1
    vib = bytearray((vif,))
    plain_text = b""
    if vif & 0x7F == vif_tables.VIF_PLAIN_TEXT:
        length = _take(buf, pos, "plain-text VIF length")
        pos += 1
        if pos + length > len(buf):
            raise TruncatedError(f"plain-text VIF needs {length} bytes at offset {pos}")
        plain_text = bytes(buf[pos : pos + length])
        pos += length

    extends = bool(vif & 0x80)
    while extends:
        if len(vib) - 1 == MAX_VIFES:
            raise DecodeError(f"more than {MAX_VIFES} VIFEs")
        vife = _take(buf, pos, "VIFE")
        vib.append(vife)
        pos += 1
        extends = bool(vife & 0x80)

    return RecordHeader(offset, dif, bytes(difes), bytes(vib), plain_text, pos)


def data_field_length(dif: int, buf: bytes, pos: int) -> tuple[int | None, int]:
    """Return ``(lvar, length)`` of the data field at ``pos``: LVAR byte (or None) and payload length.

    For LVAR fields the payload starts one byte after ``pos``.
    """
    code = dif & 0x0F
    if code == DATA_FIELD_LVAR:
        lvar = _take(buf, pos, "LVAR length byte")
        return lvar, datatypes.lvar_length(lvar)
    if code == DATA_FIELD_SPECIAL:
        raise DecodeError(f"special-function DIF 0x{dif:02X} cannot carry a data field")
    return None, DATA_FIELD_LENGTH[code]


@lru_cache(maxsize=4096)  # a pure function of a few header bytes: meters repeat the same headers
def storage_tariff_subunit(dif: int, difes: bytes) -> tuple[int, int, int]:
    """Accumulate storage number, tariff and subunit over the DIF and all DIFEs (EN 13757-3 §6.3)."""
    storage = (dif >> 6) & 0x01
    tariff = 0
    subunit = 0
    for index, dife in enumerate(difes):
        storage |= (dife & 0x0F) << (1 + 4 * index)
        tariff |= ((dife >> 4) & 0x03) << (2 * index)
        subunit |= ((dife >> 6) & 0x01) << index
    return storage, tariff, subunit


@dataclass(frozen=True)
class _Meaning:
    """What the VIB says about a record, before the data is looked at."""

    quantity: str
    unit: str
    exponent: int
    binary_exponent: int
    kind: str  # "number" | "unsigned" | "bits" | "datetime" | "manufacturer" | "plain_text"
    modifiers: tuple[str, ...]


#: VIF bytes that announce a code from another table in the next byte.
_EXTENSION_LOOKUPS: dict[int, Callable[[int], VifInfo]] = {
    vif_tables.VIF_EXTENSION_FB: vif_tables.lookup_fb,
    vif_tables.VIF_EXTENSION_FD: vif_tables.lookup_fd,
    vif_tables.VIF_EXTENSION_EF: lambda _code: VifInfo("reserved"),  # third table: not defined yet
}


@lru_cache(maxsize=4096)  # pure, and every telegram of a meter carries the same VIBs
def _describe_vib(vib: bytes, plain_text: bytes) -> _Meaning:
    """Look the VIF and its VIFEs up in the tables."""
    vif = vib[0]
    code = vif & 0x7F
    rest = 1
    if code == vif_tables.VIF_MANUFACTURER:
        # Every VIFE after a manufacturer-specific VIF is manufacturer-defined too.
        return _Meaning("manufacturer_specific", "", 0, 0, "manufacturer", ())
    if vif in _EXTENSION_LOOKUPS:
        # The E bit of these markers is set, so read_record_header guaranteed a second byte.
        info = _EXTENSION_LOOKUPS[vif](vib[1])
        rest = 2
    elif code == vif_tables.VIF_PLAIN_TEXT:
        info = VifInfo("plain_text", datatypes.decode_text(plain_text), 0, "plain_text")
    elif code in (vif_tables.VIF_EXTENSION_FB & 0x7F, vif_tables.VIF_EXTENSION_FD & 0x7F):
        info = VifInfo("reserved")  # an extension marker without its E bit announces nothing
    else:
        info = vif_tables.lookup_primary(code)

    unit = info.unit
    exponent = info.exponent
    kind = info.kind
    modifiers: list[str] = []
    vifes = vib[rest:]
    index = 0
    while index < len(vifes):
        vife = vifes[index]
        index += 1
        vife_code = vife & 0x7F
        if vife_code == vif_tables.VIFE_MANUFACTURER_SPECIFIC:
            modifiers.append("manufacturer_specific_vife")
            break  # the remaining VIFEs are manufacturer-defined
        if vife_code == vif_tables.VIFE_COMBINABLE_EXTENSION and vife & 0x80 and index < len(vifes):
            modifiers.append(vif_tables.lookup_combinable_extension(vifes[index]))
            index += 1
            continue
        meaning = vif_tables.lookup_combinable(vife_code)
        modifiers.append(meaning.modifier)
        exponent += meaning.exponent
        if meaning.unit is not None:
            unit = meaning.unit
            exponent = 0
        if meaning.kind is not None:
            kind = meaning.kind
    if kind == "datetime":
        unit = ""
    return _Meaning(info.quantity, unit, exponent, info.binary_exponent, kind, tuple(modifiers))


def _scale(value: int | float, exponent: int, binary_exponent: int) -> int | float:
    """Multiply by 10**exponent (exactly for integers, correctly rounded for the division)."""
    if exponent > 0:
        value = value * 10**exponent
    elif exponent < 0:
        value = value / 10**-exponent
    if binary_exponent:
        value = value * 2.0**binary_exponent
    return value


#: VIFE meanings whose LVAR data is a structured profile (fact sheet §7.2), handed on as hex.
COMPACT_PROFILE_MODIFIERS = frozenset(
    {"compact_profile", "compact_profile_with_registers", "inverse_compact_profile"}
)


def _is_raw_lvar(meaning: _Meaning, lvar: int) -> bool:
    """LVAR data that has no text/number reading of its own and is returned as a hex string."""
    if COMPACT_PROFILE_MODIFIERS.intersection(meaning.modifiers):
        return True
    return meaning.kind == "manufacturer" and datatypes.lvar_kind(lvar) == "binary"


def _manufacturer_text(data: bytes) -> str:
    """Text of a manufacturer-specific LVAR record in the order sent (the text-reversal rule of standard
    records is not applied to them, as other decoders do) when it is printable, else hex: such records
    often carry binary blocks behind a text-length byte."""
    if data and all(32 <= b < 127 for b in data):
        return data.decode("ascii")
    return data.hex().upper()


def _decode_value(meaning: _Meaning, dif: int, lvar: int | None, data: bytes) -> int | float | str | None:
    code = dif & 0x0F
    if code in (DATA_FIELD_NONE, DATA_FIELD_SELECTION):
        return None
    kind = meaning.kind
    if code in INTEGER_DATA_FIELDS:
        if kind == "datetime" and len(data) in datatypes.DATETIME_DECODERS:
            return datatypes.decode_datetime(data)
        signed = kind in ("number", "plain_text")
        raw: int | float | str | None = datatypes.decode_int(data, signed=signed)
    elif code in BCD_DATA_FIELDS:
        try:
            raw = datatypes.decode_bcd(data)
        except DecodeError:
            return None  # e.g. all-F: the meter has no valid value
    elif code == DATA_FIELD_REAL:
        raw = datatypes.decode_real(data)
    elif lvar is not None:
        if _is_raw_lvar(meaning, lvar):
            return data.hex().upper()
        if meaning.kind == "manufacturer" and datatypes.lvar_kind(lvar) == "text":
            return _manufacturer_text(data)
        try:
            raw = datatypes.decode_lvar(lvar, data)
        except DecodeError:
            return None
    else:  # LVAR data field without its length byte: nothing to decode
        return None
    if raw is None or isinstance(raw, str) or kind in ("manufacturer", "datetime"):
        return raw
    return _scale(raw, meaning.exponent, meaning.binary_exponent)


# Data fields whose numbers stay below 10**12: integers of up to 4 bytes, BCD of up to 12 digits.
_SHORT_DATA_FIELDS = frozenset({0x1, 0x2, 0x3, 0x4, 0x9, 0xA, 0xB, 0xC, 0xE})


@lru_cache(maxsize=4096)
def short_decimal(header: bytes) -> bool:
    """Whether every number a record with this header holds is an integer of fewer than 13 digits
    times a power of ten: as a float it then has at most 12 significant digits, so rounding it to 12
    digits (what the outputs do against binary noise) leaves it as it is.
    """
    if not header or header[0] & 0x0F not in _SHORT_DATA_FIELDS:
        return False
    pos = 1
    while pos < len(header) and header[pos - 1] & 0x80:  # past the DIFEs
        pos += 1
    if pos >= len(header):
        return False
    try:
        meaning = _describe_vib(header[pos:], b"")
    except (DecodeError, IndexError):
        return False
    return meaning.binary_exponent == 0 and meaning.kind != "datetime"


def interpret_record(header: RecordHeader, lvar: int | None, data: bytes) -> Record:
    """Turn the bytes of one record into a :class:`Record` with quantity, unit and scaled value."""
    meaning = _describe_vib(header.vib, header.plain_text)
    storage, tariff, subunit = storage_tariff_subunit(header.dif, header.difes)
    return Record(
        header=header.header,
        data=data,
        value=_decode_value(meaning, header.dif, lvar, data),
        unit=meaning.unit,
        quantity=meaning.quantity,
        storage=storage,
        tariff=tariff,
        subunit=subunit,
        function=FUNCTIONS[(header.dif >> 4) & 0x03],
        modifiers=meaning.modifiers,
        offset=header.offset,
    )


def read_record(buf: bytes, pos: int) -> tuple[Record, int]:
    """Decode the (ordinary, non-special) record at ``pos``; return it and the position after it."""
    header = read_record_header(buf, pos)
    lvar, length = data_field_length(header.dif, buf, header.end)
    start = header.end + (1 if lvar is not None else 0)
    if start + length > len(buf):
        raise TruncatedError(f"data field needs {length} bytes at offset {start}, {len(buf) - start} left")
    return interpret_record(header, lvar, bytes(buf[start : start + length])), start + length


def is_reserved_special_dif(dif: int) -> bool:
    """True for special-function DIFs this decoder cannot step over (0x3F-0x6F and 0x8F-0xFF)."""
    return dif & 0x0F == DATA_FIELD_SPECIAL and dif not in (
        DIF_MANUFACTURER_DATA,
        DIF_MORE_RECORDS_FOLLOW,
        DIF_IDLE_FILLER,
        DIF_GLOBAL_READOUT,
    )


# How a record of a known layout gets its value inline: (BCD?, signed, multiplier, divisor, binary
# factor) for an integer or BCD data field with a number in it (the common cases), None for the rest.
_NumberReader = tuple[bool, bool, int, int, float] | None


def _number_reader(meaning: _Meaning, dif: int, length: int) -> _NumberReader:
    """The inline reading of a number record, exactly as :func:`_decode_value` would read it."""
    code = dif & 0x0F
    if not length or meaning.kind == "datetime":
        return None  # dates have their own decoders
    if code not in INTEGER_DATA_FIELDS and code not in BCD_DATA_FIELDS:
        return None
    if meaning.kind == "manufacturer":
        return code in BCD_DATA_FIELDS, False, 1, 1, 0.0  # the number as sent: unsigned, not scaled
    exponent = meaning.exponent
    return (
        code in BCD_DATA_FIELDS,
        meaning.kind in ("number", "plain_text"),
        10**exponent if exponent > 0 else 1,
        10**-exponent if exponent < 0 else 1,
        2.0**meaning.binary_exponent if meaning.binary_exponent else 0.0,
    )


@dataclass(slots=True)
class _Layout:
    """Where the records of one APL layout are: meters send the same layout in every telegram.

    ``positions``/``expected`` hold every byte the walk looked at to find the records (DIF/DIFE/VIF/VIFE/
    plain-text bytes, LVAR bytes, fillers, the end marker); an APL of the same length with the same
    bytes there has the same records at the same places, whatever its data.
    """

    structure: Callable[[bytes], object]  # picks the structural bytes out of an APL (one C call)
    expected: object  # what they are in this layout
    end: int | None  # offset of DIF 0x0F/0x1F, or None
    more_records_follow: bool
    # per record, what its header says (worked out once): header bytes, meaning, addressing, function,
    # where its data is, its DIF and LVAR byte, and how to read an integer value inline
    records: tuple[
        tuple[bytes, _Meaning, int, int, int, str, int, int, int, int | None, int, _NumberReader], ...
    ]
    serial: int  # names this layout for the plans built on it (drivers' field matching)
    # where and why the walk stopped early (then every byte from there on is structural)
    error: str | None = None
    error_offset: int | None = None
    read: Callable[[bytes], list[Record]] | None = None  # its own reader, made when it is seen again


# Layouts seen, by APL length and first record's DIF and VIF (after the 2F 2F a decrypted APL starts
# with): structure in all but odd cases, where a miss only costs a fresh walk. Meters of one model share
# a layout; a receiver in a town hears a few hundred models.
_LAYOUTS: dict[tuple[int, bytes], list[_Layout]] = {}
_MAX_LAYOUTS_PER_KEY = 16
_MAX_LAYOUTS = 2048  # in all (about 5 kB each): then they are learnt again, so memory stays bounded
_layout_count = 0
_LAYOUT_SERIALS = itertools.count(1)


def forget_layouts() -> None:
    """Forget every layout learnt (for tests, and to compare with a fresh walk)."""
    global _layout_count
    _LAYOUTS.clear()
    _layout_count = 0


def _layout_key(buf: bytes) -> tuple[int, bytes]:
    return len(buf), buf[:4] if buf[:2] == b"\x2f\x2f" else buf[:2]


def _apl_from_layout(buf: bytes) -> Apl | None:
    for layout in _LAYOUTS.get(_layout_key(buf), ()):
        if layout.structure(buf) != layout.expected:
            continue
        read = layout.read
        if read is None:  # seen again: worth a reader of its own
            read = layout.read = _compile_reader(layout.records)
        apl = Apl(read(buf), layout=layout.serial)
        if layout.error is not None:
            apl.error, apl.error_offset = layout.error, layout.error_offset
        elif layout.end is not None:
            apl.more_records_follow = layout.more_records_follow
            apl.manufacturer_data = buf[layout.end + 1 :]
        return apl
    return None


def _compile_reader(records: tuple) -> Callable[[bytes], list[Record]]:
    """A function that reads the records of one layout from an APL, with every record's place, meaning
    and number reading written into its code: the general walk's work, done once per layout.

    It gives exactly what :func:`_decode_value` gives (the property tests of test_app_records compare
    both); values without an inline reading, and BCD with a sign or non-digits, go through it.
    """
    lines = ["def read(buf):"]
    names: dict[str, object] = {"Record": Record, "decode_value": _decode_value, "from_bytes": int.from_bytes}
    items = []
    for number, (
        header,
        meaning,
        storage,
        tariff,
        subunit,
        function,
        start,
        end,
        dif,
        lvar,
        offset,
        reader,
    ) in enumerate(records):
        names[f"meaning{number}"] = meaning
        data, value = f"d{number}", f"v{number}"
        lines.append(f"    {data} = buf[{start}:{end}]")
        general = f"decode_value(meaning{number}, {dif}, {lvar!r}, {data})"
        length = end - start
        if meaning.kind == "datetime" and dif & 0x0F in INTEGER_DATA_FIELDS and length in DATETIME_DECODERS:
            names[f"date{number}"] = DATETIME_DECODERS[length]  # what decode_value would pick
            lines.append(f"    {value} = date{number}({data})")
        elif reader is None:
            lines.append(f"    {value} = {general}")
        else:
            bcd, signed, multiplier, divisor, binary = reader
            scaled = "{}"
            if multiplier != 1:
                scaled = f"{{}} * {multiplier}"
            elif divisor != 1:
                scaled = f"{{}} / {divisor}"
            if binary:
                scaled = f"({scaled}) * {binary!r}"
            if bcd:
                lines.append(f"    t{number} = {data}[::-1].hex()")
                number_value = scaled.format(f"int(t{number})")
                lines.append(f"    {value} = {number_value} if t{number}.isdigit() else {general}")
            else:
                number_value = scaled.format(f"from_bytes({data}, 'little', signed={signed})")
                lines.append(f"    {value} = {number_value}")
        items.append(
            f"Record({header!r}, {data}, {value}, {meaning.unit!r}, {meaning.quantity!r}, {storage}, "
            f"{tariff}, {subunit}, {function!r}, {meaning.modifiers!r}, {offset})"
        )
    lines.append("    return [" + ", ".join(items) + "]")
    exec("\n".join(lines), names)  # noqa: S102 - our own code, built from numbers and reprs above
    return names["read"]  # type: ignore[return-value]


def _nothing(apl: bytes) -> tuple[()]:
    return ()


def _remember_layout(
    buf: bytes,
    headers: list[tuple[RecordHeader, int | None, int, int]],
    marker: int | None,
    more: bool,
    error: str | None = None,
    error_offset: int | None = None,
) -> int:
    """Keep a walked layout: every byte outside the records' data, up to the end marker. A walk that
    stopped early depends on every byte from where it stopped: those are all kept as structure."""
    walk_end = marker + 1 if marker is not None else len(buf)
    positions: list[int] = []
    covered = 0
    for _, _, start, length in headers:
        positions.extend(range(covered, start))  # fillers, DIF/VIF bytes, LVAR byte
        covered = start + length
    positions.extend(range(covered, walk_end))  # trailing fillers and the end marker
    structure = itemgetter(*positions) if positions else _nothing

    global _layout_count
    layouts = _LAYOUTS.setdefault(_layout_key(buf), [])
    if len(layouts) >= _MAX_LAYOUTS_PER_KEY:
        layouts.pop(0)
        _layout_count -= 1
    records = tuple(
        (
            header.header,
            meaning,
            *storage_tariff_subunit(header.dif, header.difes),
            FUNCTIONS[(header.dif >> 4) & 0x03],
            start,
            start + length,
            header.dif,
            lvar,
            header.offset,
            _number_reader(meaning, header.dif, length),
        )
        for header, lvar, start, length in headers
        for meaning in (_describe_vib(header.vib, header.plain_text),)
    )
    layout = _Layout(
        structure, structure(buf), marker, more, records, next(_LAYOUT_SERIALS), error, error_offset
    )
    layouts.append(layout)
    _layout_count += 1
    return layout.serial


def parse_apl(data: bytes) -> Apl:
    """Decode all data records of an application-layer payload (the bytes after the TPL header).

    Idle fillers (0x2F) are skipped wherever a DIF is expected; DIF 0x0F/0x1F end the records and the
    rest becomes ``manufacturer_data``. On malformed or truncated data the records decoded so far are
    returned and ``error`` names the offset where decoding stopped. A layout seen before is not walked
    again (the same structural bytes at the same places give the same records).
    """
    global _layout_count
    buf = bytes(data)
    if _layout_count > _MAX_LAYOUTS:
        _LAYOUTS.clear()
        _layout_count = 0
    try:
        known = _apl_from_layout(buf)
    except DecodeError:
        known = None
    if known is not None:
        return known
    apl = Apl()
    headers: list[tuple[RecordHeader, int | None, int, int]] = []
    marker: int | None = None
    pos = 0
    while pos < len(buf):
        dif = buf[pos]
        if dif in (DIF_IDLE_FILLER, DIF_GLOBAL_READOUT):
            pos += 1
            continue
        if dif in (DIF_MANUFACTURER_DATA, DIF_MORE_RECORDS_FOLLOW):
            apl.more_records_follow = dif == DIF_MORE_RECORDS_FOLLOW
            apl.manufacturer_data = buf[pos + 1 :]
            marker = pos
            break
        if is_reserved_special_dif(dif):
            apl.error = f"reserved special-function DIF 0x{dif:02X} at offset {pos}"
            apl.error_offset = pos
            break
        try:
            header = read_record_header(buf, pos)
            lvar, length = data_field_length(header.dif, buf, header.end)
            start = header.end + (1 if lvar is not None else 0)
            if start + length > len(buf):
                left = len(buf) - start
                raise TruncatedError(f"data field needs {length} bytes at offset {start}, {left} left")
            record = interpret_record(header, lvar, buf[start : start + length])
        except DecodeError as exc:
            apl.error = f"record at offset {pos}: {exc}"
            apl.error_offset = pos
            break
        headers.append((header, lvar, start, length))
        pos = start + length
        apl.records.append(record)
    apl.layout = _remember_layout(buf, headers, marker, apl.more_records_follow, apl.error, apl.error_offset)
    return apl
