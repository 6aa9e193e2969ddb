"""The driver-test comparison takes numbers as wmbusmeters prints them (at most six decimals)."""

from sdr_wmbus.drivers.testing import values_equal


def test_a_value_printed_with_six_decimals_equals_the_exact_one():
    assert values_equal(0.016667, 1 / 60)  # one minute in hours, as the reference prints it
    assert values_equal(3741.507306, 13469426300 / 3.6e6)


def test_rounding_does_not_hide_a_real_difference():
    assert not values_equal(0.016667, 0.016668)
    assert not values_equal(0.000001, 0.000003)
    assert not values_equal(1, True)
    assert values_equal("OK", "OK") and not values_equal("OK", "ok")
