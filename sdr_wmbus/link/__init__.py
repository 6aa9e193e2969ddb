"""Link layer: DLL frames (format A/B, CRCs, C/M/A fields), ELL (CI 0x8C-0x8F) and AFL (CI 0x90)."""
