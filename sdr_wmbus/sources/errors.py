"""The one error type of IQ sources and writers."""

from __future__ import annotations


class SourceError(ValueError):
    """An IQ file, pipe or SigMF recording cannot be used; the message says why in one line."""
