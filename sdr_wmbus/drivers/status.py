"""Status words: the one place that says what the TPL status byte's bits are called and how a meter's
status words are joined (as wmbusmeters prints them, so users keep their automations)."""

from __future__ import annotations

#: Application status (bits 0-1) of the TPL status byte, EN 13757-7.
APPLICATION_STATUS = {0x01: "BUSY", 0x02: "ERROR", 0x03: "ALARM"}
#: Standard single bits of the TPL status byte.
STATUS_BITS = {0x04: "POWER_LOW", 0x08: "PERMANENT_ERROR", 0x10: "TEMPORARY_ERROR"}
MANUFACTURER_BITS = 0xE0
OK = "OK"


def tpl_status_words(status: int | None, manufacturer_words: dict[int, str] | None = None) -> list[str]:
    """Words for a TPL status byte; the manufacturer bits 5-7 use the driver's words when it has them,
    and a driver's word for one of the standard bits 2-4 replaces the standard one (a meter that uses
    the bit for something of its own)."""
    if not status:
        return []
    driver_words = manufacturer_words or {}
    words = []
    if status & 0x03:
        words.append(APPLICATION_STATUS[status & 0x03])
    words += [driver_words.get(bit, word) for bit, word in STATUS_BITS.items() if status & bit]
    vendor = status & MANUFACTURER_BITS
    if vendor:
        if driver_words:
            known = 0
            for bit, word in driver_words.items():
                if vendor & bit:
                    words.append(word)
                    known |= bit
            if vendor & ~known:
                words.append(f"UNKNOWN_{vendor & ~known:02X}")
        else:
            words.append(f"UNKNOWN_{vendor:02X}")
    return words


def join_status(words: list[str]) -> str:
    """One status text: the distinct words other than OK, sorted; OK when there are none."""
    distinct = sorted({word for word in words if word and word != OK})
    return " ".join(distinct) if distinct else OK


def status_text(status: int | None) -> str:
    """The status text of a TPL status byte alone (telegrams without a driver)."""
    return join_status(tpl_status_words(status))
