"""IQ sample sources and writers: files, stdin pipes and SigMF recordings, read in bounded chunks."""

from sdr_wmbus.sources.errors import SourceError
from sdr_wmbus.sources.files import (
    FORMATS,
    SAMPLE_BYTES,
    IQFileSource,
    IQFileWriter,
    StreamInfo,
    open_iq,
    parse_iq_filename,
    write_iq,
)

__all__ = [
    "FORMATS",
    "SAMPLE_BYTES",
    "IQFileSource",
    "IQFileWriter",
    "SourceError",
    "StreamInfo",
    "open_iq",
    "parse_iq_filename",
    "write_iq",
]
