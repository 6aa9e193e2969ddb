"""The value type that the radio side hands to the telegram stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)  # not frozen: made for every telegram (frozen inits are slow); read-only
class Frame:
    """One received link-layer frame.

    ``data`` holds the bytes from L to the end with all link-layer CRCs removed and L rewritten as in
    frame format A (number of bytes that follow, CRCs excluded) -- the form rtl_wmbus and wmbusmeters print.
    The radio fields are None for frames that did not come from our receiver (hex typed by a user).
    """

    data: bytes
    mode: str = ""  # "T1", "C1", "S1" or "" when unknown
    frame_format: str = ""  # "A", "B" or ""
    time: float | None = None  # seconds since the start of the stream
    sample: int | None = None  # index of the first sample of the sync word
    rssi_dbfs: float | None = None
    snr_db: float | None = None
    freq_offset_hz: float | None = None
    chip_rate_error_ppm: float | None = None  # the meter's chip clock against the nominal rate

    def radio_fields(self) -> dict[str, object]:
        """Radio metadata for the JSON output; only the fields that are known."""
        fields: dict[str, object] = {}
        if self.mode:
            fields["mode"] = self.mode
        if self.frame_format:
            fields["frame_format"] = self.frame_format
        for name in ("rssi_dbfs", "snr_db", "freq_offset_hz"):
            value = getattr(self, name)
            if value is not None:
                fields[name] = round(float(value), 1)
        if self.chip_rate_error_ppm is not None:
            fields["chip_rate_error_ppm"] = int(round(float(self.chip_rate_error_ppm)))
        if self.sample is not None:
            fields["sample"] = self.sample
        return fields
