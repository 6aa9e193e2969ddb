"""Application layer (EN 13757-3 data records, compact frames)."""

from sdr_wmbus.app.compact import expand_compact, format_signature, full_frame_crc, record_headers
from sdr_wmbus.app.records import Apl, Record, parse_apl

__all__ = [
    "Apl",
    "Record",
    "expand_compact",
    "format_signature",
    "full_frame_crc",
    "parse_apl",
    "record_headers",
]
