"""A small budget of the fuzzer (benchmarks/fuzz.py) in every test run: mutated real telegrams through
the stack, and damaged bursts through the radio, must give no exception, no slow input, no invalid
JSON and no reading from a refused frame. The long runs (with the 50 ms bound per input) are recorded in
benchmarks/RESULTS.md; here the bound is loose, because a busy test machine is no measure of speed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fuzz  # noqa: E402


def test_stack_fuzz_small_budget():
    result = fuzz.stack_worker((7, 3000, 60.0, 0.5))
    assert result["stats"]["inputs"] == 3000
    assert result["stats"]["crc_checks"] > 0 and result["stats"]["mac_checks"] > 0
    assert not result["failures"], result["failures"][:3]


def test_phy_fuzz_small_budget():
    result = fuzz.phy_worker((7, 60, 60.0, 0.5))
    assert result["stats"]["inputs"] == 60
    assert result["stats"]["invented_readings"] == 0 and result["stats"]["invented_refused"] == 0
    assert not result["failures"], result["failures"][:3]
