"""Formula function sqrt (apparent energy from active and reactive energy)."""

from __future__ import annotations

from sdr_wmbus.drivers.formula import Formula


def test_sqrt_of_a_sum_of_squares():
    formula = Formula("sqrt(e_kwh * e_kwh + q_kvarh * q_kvarh)")
    assert formula.evaluate({"e_kwh": 3.0, "q_kvarh": 4.0}) == 5.0
    assert formula.evaluate({"e_kwh": 3.0}) is None  # an input missing
    assert Formula("sqrt(x)").evaluate({"x": -1.0}) is None  # no value, never an exception
