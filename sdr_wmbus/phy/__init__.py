"""Physical layer of modes T1 and C1: line codes, sync words and chip streams."""
