"""Channel filter design without scipy (sdr_wmbus.dsp.channel.lowpass_taps)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sdr_wmbus.dsp.channel import lowpass_taps


@pytest.mark.parametrize("rate", [1.0e6, 1.6e6, 2.4e6, 3.2e6])
def test_lowpass_taps(rate: float):
    ntaps = 6 * int(rate // 400e3) + 1
    taps = lowpass_taps(ntaps, 150e3, rate)
    np.testing.assert_allclose(taps, taps[::-1], atol=1e-15)  # linear phase
    assert taps.sum() == pytest.approx(1.0)  # unit gain at DC
    response = np.abs(np.exp(-2j * np.pi * 150e3 / rate * np.arange(ntaps)) @ taps)
    assert response == pytest.approx(0.5, abs=0.05)  # -6 dB at the cut-off
    signal = pytest.importorskip("scipy.signal")
    np.testing.assert_allclose(taps, signal.firwin(ntaps, 150e3, fs=rate), atol=1e-15)


def test_the_receiver_does_not_import_scipy_signal():
    """scipy.signal (and the parts of scipy it pulls in) would add some 75 MB to every receiver's memory.
    (numba itself imports scipy's top-level package when scipy is installed, which costs little.)"""
    modules = "sdr_wmbus.cli, sdr_wmbus.phy.combined, sdr_wmbus.synth"
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.startswith('scipy.signal')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
