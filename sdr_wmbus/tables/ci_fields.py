"""CI field meanings (EN 13757-7 table) used for error messages and output."""

from __future__ import annotations

# CI -> (name, TPL header kind: 'none' | 'short' | 'long')
TPL_CI: dict[int, tuple[str, str]] = {
    0x72: ("application data", "long"),
    0x7A: ("application data", "short"),
    0x78: ("application data", "none"),
    0x73: ("compact frame", "long"),
    0x7B: ("compact frame", "short"),
    0x79: ("compact frame", "none"),
    0x6B: ("format frame", "long"),
    0x6A: ("format frame", "short"),
    0x69: ("format frame", "none"),
    0x71: ("alarm", "none"),
    0x74: ("alarm", "short"),
    0x75: ("alarm", "long"),
    0x6E: ("application error", "short"),
    0x6F: ("application error", "long"),
    0x70: ("application error", "none"),
    0x7C: ("DLMS/COSEM", "long"),
    0x7D: ("DLMS/COSEM", "short"),
    0x7E: ("OBIS", "long"),
    0x7F: ("OBIS", "short"),
    0x8A: ("transport layer only", "short"),
    0x8B: ("transport layer only", "long"),
}

ELL_CI = {0x8C: 2, 0x8D: 8, 0x8E: 10, 0x8F: 16}  # CI -> bytes after the CI
AFL_CI = 0x90
MANUFACTURER_CI = range(0xA0, 0xB8)

# The C fields EN 13757-4 defines for wireless M-Bus frames (shared/spec/wmbus.md section 2.4), both
# directions: what a receiver on the air may hear. Meter to other: SND_NR, SND_IR, ACC_NR, ACC_DMD,
# and the responses ACK and RSP_UD with their ACD (bit 5) and DFC (bit 4) flags; other to meter: the
# commands, SND_UD and REQ_UD with their FCB (bit 5). The radio passes only frames whose C field is
# listed (a first block that fits its CRC by chance has a C field no meter sends 9 times in 10), and
# the output names it.
C_FIELDS: dict[int, str] = {
    0x44: "SND_NR",
    0x46: "SND_IR",
    0x47: "ACC_NR",
    0x48: "ACC_DMD",
    0x08: "RSP_UD",
    0x18: "RSP_UD",
    0x28: "RSP_UD",
    0x38: "RSP_UD",
    0x00: "ACK",
    0x10: "ACK",
    0x20: "ACK",
    0x30: "ACK",
    0x01: "NACK",
    0x06: "CNF_IR",
    0x40: "SND_NKE",
    0x53: "SND_UD",
    0x73: "SND_UD",
    0x43: "SND_UD2",
    0x55: "SND_UD3",
    0x5A: "REQ_UD1",
    0x7A: "REQ_UD1",
    0x5B: "REQ_UD2",
    0x7B: "REQ_UD2",
}
