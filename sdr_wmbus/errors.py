"""Error types of the telegram stack.

Every problem with *input* (bytes off the air, hex typed by a user, a wrong key) is raised as a
:class:`DecodeError` subclass so that callers can turn it into a one-line message; anything else
escaping the stack is a bug.
"""

from __future__ import annotations


class DecodeError(ValueError):
    """A telegram (or part of one) could not be decoded; the message says why in one line."""


class CrcError(DecodeError):
    """A link-layer block CRC or an ELL payload CRC did not match."""


class TruncatedError(DecodeError):
    """The data ended before a field that the headers announced."""


class UnknownCIError(DecodeError):
    """The CI field names a layer this decoder does not know."""


class NoKeyError(DecodeError):
    """The payload is encrypted and no key is known for the meter."""


class DecryptionError(DecodeError):
    """Decryption ran but the result failed its check (2F2F marker, CRC or MAC): wrong key."""


class ConfigError(ValueError):
    """A meters file or command-line key is malformed."""
