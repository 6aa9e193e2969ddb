"""Comparing our values with the ones wmbusmeters prints (six decimals at most)."""

from __future__ import annotations

from sdr_wmbus.drivers.testing import values_equal


def test_a_value_rounded_to_six_decimals_is_equal():
    assert values_equal(0.003611, 13 / 3600)  # 13 s in hours, as wmbusmeters prints it
    assert values_equal(940.016667, 56401 / 60)
    assert values_equal(-0.000706, -0.0007064)


def test_values_that_differ_in_the_printed_digits_are_not_equal():
    assert not values_equal(0.003611, 0.003612)
    assert not values_equal(0.003611, 0.0036125)
    assert not values_equal(1, 2)
    assert not values_equal(0, 0.000001)


def test_relative_tolerance_for_large_numbers_and_exact_text():
    assert values_equal(6735835, 6735835.000001)
    assert not values_equal("OK", "ok")
    assert not values_equal(True, 1)
