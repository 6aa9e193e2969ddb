"""Inverse compact profiles (EN 13757-3: VIFE 0x13 on a record with an LVAR data field) unpacked into
one record per element, for drivers that name the elements (``expand_profiles = true``).

The LVAR data is a spacing control byte, a spacing value byte and the elements::

    spacing control: b7..6 increment mode (0: absolute values), b5..4 spacing unit,
                     b3..0 element data type as a DIF data-field code (0x2: 16-bit integer, 0xB: BCD6 ...)
    spacing value:   the distance between elements in that unit (0xFE: one month, 0xFD: half a month)
    elements:        newest first: element k lies k spacings before the record's own date

Element k becomes a record like the profile's own (same quantity, unit and scale, tariff and subunit)
with storage number = the profile's storage + k and the modifier ``synthetic``; elements the meter has
not filled (an invalid BCD, e.g. FFFFFF) give no record. Only absolute values are unpacked: profiles
of increments, and forward compact profiles, give no records.
"""

from __future__ import annotations

from dataclasses import replace

from sdr_wmbus.app.records import DATA_FIELD_LENGTH, Record, _decode_value, _describe_vib

INVERSE_PROFILE = "inverse_compact_profile"
SYNTHETIC = "synthetic"
ABSOLUTE_VALUES = 0


def _vib(header: bytes) -> bytes:
    """The VIF and VIFEs of a record header (after the DIF and its DIFEs)."""
    pos = 1
    while pos < len(header) and header[pos - 1] & 0x80:
        pos += 1
    return header[pos:]


def expand_profile(record: Record) -> list[Record]:
    """The elements of an inverse compact profile record as records of their own (else none)."""
    if INVERSE_PROFILE not in record.modifiers or len(record.data) < 2:
        return []
    control = record.data[0]
    code = control & 0x0F
    size = DATA_FIELD_LENGTH.get(code, 0)
    if control >> 6 != ABSOLUTE_VALUES or size == 0:
        return []
    meaning = _describe_vib(_vib(record.header), b"")
    modifiers = tuple(m for m in record.modifiers if m != INVERSE_PROFILE) + (SYNTHETIC,)
    elements = record.data[2:]
    records = []
    for k, start in enumerate(range(0, len(elements) - size + 1, size), start=1):
        data = elements[start : start + size]
        value = _decode_value(meaning, code, None, data)
        if value is None:
            continue
        records.append(
            replace(record, data=data, value=value, storage=record.storage + k, modifiers=modifiers)
        )
    return records
