"""Physical-layer constants of EN 13757-4 modes T1, C1 and S1 (meter to other), as data.

Sources: the project's protocol fact sheet (shared/spec/wmbus.md, sections 1.1-1.5).
"""

from __future__ import annotations

CENTER_T1_C1_HZ = 868.95e6
CHIP_RATE_T1 = 100_000.0  # chips/s; 3-of-6 coded: 12 chips per byte
CHIP_RATE_C1 = 100_000.0  # bits/s; NRZ
DEVIATION_T1_HZ = 50_000.0
DEVIATION_C1_HZ = 45_000.0

# 3-out-of-6 code: nibble -> 6-chip word (MSB sent first). All other 6-bit values are invalid.
THREE_OF_SIX: tuple[int, ...] = (
    0x16, 0x0D, 0x0E, 0x0B, 0x1C, 0x19, 0x1A, 0x13,
    0x2C, 0x25, 0x26, 0x23, 0x34, 0x31, 0x32, 0x29,
)  # fmt: skip
THREE_OF_SIX_DECODE: dict[int, int] = {code: nibble for nibble, code in enumerate(THREE_OF_SIX)}

# Preamble tail + sync, as the chips a correlator looks for (MSB first). Both T1 and C1 start so.
SYNC_T1_C1 = 0x543D  # "010101" + "0000111101"
SYNC_BITS = 16
# Mode C: after 0x543D comes 0x54CD (frame A) or 0x543D (frame B); T1 continues with 3-of-6 L field.
SYNC_C_FORMAT_A = 0x54CD
SYNC_C_FORMAT_B = 0x543D

T1_PREAMBLE_PAIRS = 19  # minimum "01" pairs before the T1 sync
C1_PREAMBLE_PAIRS = 16

# Mode S1: 868.3 MHz, 32.768 kcps Manchester (data bit 1 = chips "01", 0 = "10"), frame format A.
CENTER_S1_HZ = 868.3e6
CHIP_RATE_S1 = 32_768.0
DEVIATION_S1_HZ = 50_000.0
SYNC_S = 0x7696  # the 18-chip sync 000111011010010110 (its low 18 bits), after n x "01"
SYNC_S_CHIPS = 18
S1_PREAMBLE_PAIRS = 279  # S1 long preamble (S1-m and S2 use n >= 15)
# Tuning that puts T1/C1 (+325 kHz) and S1 (-325 kHz) in one 1.6 Msps capture (as wmbusmeters does).
CENTER_T1_C1_S1_HZ = 868.625e6
