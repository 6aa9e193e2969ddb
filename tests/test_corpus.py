"""Real telegrams through the whole stack, measured against the values wmbusmeters gives for them.

``fixtures/telegrams.jsonl`` holds copies of corpus cases covering every security mode, CI chain and
driver of the corpus; the full corpus in ../shared is used when present (skipped cleanly otherwise).
The measure: the share of the reference's non-zero numeric values that appear among our decoded values
of the same telegram, with the right scaling (field names differ per driver, values must not).
"""

from __future__ import annotations

import collections

import pytest
from corpus import FIXTURES, SHARED_CORPUS, decode_case, expected_values, load_cases, match_case

from sdr_wmbus.drivers.testing import NOT_COMPARED, values_equal

SHARE_GOAL = 0.85
# Radio converters whose meter id wmbusmeters takes from an enhanced-identification record, not a header.
ID_FROM_RECORDS = {"qheat"}
FIXTURE_CASES = load_cases(FIXTURES)


def share(cases: list[dict]) -> tuple[float, collections.Counter]:
    hit = total = 0
    misses: collections.Counter = collections.Counter()
    for case in cases:
        matched, missed = match_case(case, decode_case(case))
        hit += len(matched)
        total += len(matched) + len(missed)
        misses[case["driver"]] += len(missed)
    return hit / total, misses


def test_fixtures_cover_every_security_mode_and_ci_chain():
    assert len(FIXTURE_CASES) >= 60
    modes = {c["security_mode"] for c in FIXTURE_CASES}
    assert {0, 5, 7, None} <= modes
    chains = {tuple(c["ci"]) for c in FIXTURE_CASES}
    assert {
        ("7A",),
        ("72",),
        ("78",),
        ("73",),
        ("8C", "7A"),
        ("8C", "72"),
        ("8C", "90", "7A"),
        ("8C", "90", "72"),
        ("8D", "78"),
        ("8D", "79"),
        ("A0",),
        ("A1",),
        ("A2",),
    } <= chains
    assert any(c["kind"] == "mbus" for c in FIXTURE_CASES)
    assert any(c.get("preceding_telegrams") for c in FIXTURE_CASES)


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c["case"] for c in FIXTURE_CASES])
def test_fixture_header_fields(case):
    """Every fixture decodes to the right meter id, and never crashes."""
    result = decode_case(case)
    if case["kind"] == "wmbus" and "id" in result:
        assert result["id"].lower() == case["expected"]["id"].lower() or case["driver"] in ID_FROM_RECORDS


def test_fixture_share_of_expected_values():
    value, misses = share(FIXTURE_CASES)
    print(f"fixtures: {value:.1%} of expected values reproduced; misses by driver: {misses.most_common(8)}")
    assert value >= SHARE_GOAL


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared corpus not present")
def test_shared_corpus_share_of_expected_values():
    cases = load_cases(SHARED_CORPUS)
    assert sum(len(expected_values(c)) for c in cases) > 1000
    value, misses = share(cases)
    print(f"corpus: {value:.1%} of expected values reproduced; misses by driver: {misses.most_common(8)}")
    assert value >= SHARE_GOAL


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared corpus not present")
def test_shared_corpus_never_crashes_and_names_the_meter():
    for case in load_cases(SHARED_CORPUS):
        result = decode_case(case)
        assert isinstance(result, dict)
        if "error" not in result and case["kind"] == "wmbus" and case["driver"] not in ID_FROM_RECORDS:
            assert result["id"].lower() == case["expected"]["id"].lower(), case["case"]


# Fields the reference prints that describe its own run, not the meter (the receiver it used).
RECEIVER_FIELDS = {"device", "rssi_dbm"}
# Where wmbusmeters prints a value we consider wrong, we print the right one; each difference is
# listed here (driver, field) with the reason, and in the README's table.
_IV_DATETIME = "a date-time whose invalid bit (IV) is set is null; wmbusmeters prints it"
_EM24_REACTIVE = (
    "reactive energy (VIF FB 82, VIFE 75: x 0.1 kvarh) is scaled; wmbusmeters prints the raw count, "
    "ten times too large, and computes apparent energy from it"
)
DOCUMENTED_DIFFERENCES: dict[tuple[str, str], str] = {
    ("emerlin868", "target_date"): "a date of 0 means no date: null, not the impossible 2000-00-00",
    ("emerlin868", "target_m3"): "0x80000000 means no value: null, not -2147483.648 m3",
    ("lansenrp", "media"): "device type 0x32 is a unidirectional repeater (EN 13757-7), not reserved",
    ("kaden", "target_date"): "date E1F1 has year 127, which a two-digit year cannot be: no date (null), "
    "wmbusmeters prints 2127-01-01",
    ("istaheat", "last_year_date"): "date 0000 (day and month 0) is no date (null), "
    "wmbusmeters prints 1999-11-30",
    ("relhca", "meter_datetime"): "the date-time's IV bit says the time is invalid (null), "
    "wmbusmeters ignores the bit",
    ("hydrodigit", "June_total_m3"): "register FFFFFF (no value: before the radio module was fitted); "
    "wmbusmeters prints 0 m3, we print null",
    ("hydrodigit", "July_total_m3"): "register FFFFFF (no value: before the radio module was fitted); "
    "wmbusmeters prints 0 m3, we print null",
    ("kamheat", "target_date"): "a date record of 0000 (day 0, month 0: no date) is null; wmbusmeters "
    "normalises it to 1999-11-30",
    ("iem3000", "meter_datetime"): _IV_DATETIME,
    ("iem3000", "last_partial_energy_reset_datetime"): _IV_DATETIME,
    ("iem3000", "last_input_metering_reset_datetime"): _IV_DATETIME,
    ("iem3000", "last_alarm_datetime"): _IV_DATETIME,
    ("ebzwmbe", "current_power_consumption_kw"): "the total power the meter sends is printed; wmbusmeters "
    "prints null when the phase powers it would add up are missing",
    ("em24", "total_reactive_energy_consumption_kvarh"): _EM24_REACTIVE,
    ("em24", "total_reactive_energy_production_kvarh"): _EM24_REACTIVE,
    ("em24", "total_apparent_energy_consumption_kvah"): _EM24_REACTIVE,
    ("em24", "total_apparent_energy_production_kvah"): _EM24_REACTIVE,
    ("aptmbusna", "status"): "error flag 0x800 is P_DETECTOR_ERROR; wmbusmeters calls it P_LEAK "
    "(its leak bit 0x80 is mistyped 0x0000800)",
    # Qundis: record 02BB56 is the duration (h) of the last period the flow stayed below its lower limit
    # (VIFE 0x56), not a flow; we print it as low_flow_duration_h.
    ("qwater", "volume_flow_m3h"): "a duration printed as a flow: low_flow_duration_h",
    ("qwaterv2", "volume_flow_m3h"): "a duration printed as a flow: low_flow_duration_h",
    # qheat reads walk-by values as 100 Wh whatever unit the block gives (here 100 kJ).
    ("qheat", "total_energy_consumption_kwh"): "walk-by block in 100 kJ printed as 100 Wh",
    ("qheat", "last_month_energy_consumption_kwh"): "walk-by block in 100 kJ printed as 100 Wh",
    ("qheat", "last_year_energy_consumption_kwh"): "walk-by block in 100 kJ printed as 100 Wh",
    # 0x8000 marks a month without a value in the walk-by block: null, not -32768 units.
    ("qwaterv2", "volume_delta_2_m3"): "0x8000 (no value) printed as -32.768",
    **{("qheatv2", f"energy_delta_{n}_kwh"): "0x8000 (no value) printed as -910.222222" for n in range(2, 8)},
    # Axioma Q400 sends -100.00 °C when it measures no temperature (with TPL status temporary error).
    ("q400", "flow_temperature_c"): "-100 (no measurement) printed as a temperature",
    ("waterstarm", "meter_datetime"): "the meter flags its date-time invalid (IV bit), wmbusmeters prints it",
    **{
        ("waterstarm", f"history_{n}_date"): "counted back from a date-time the meter flags invalid (IV bit)"
        for n in range(1, 16)
    },
    **{
        ("waterstarm", f"consumption_at_history_{n}_m3"): "an unfilled history register (FF FF FF FF) "
        "is no value, wmbusmeters prints it as -0.001 m3"
        for n in range(1, 16)
    },
    ("hcae2", "meter_datetime_at_error"): "an all-zero date-time (no error yet) is no value, "
    "wmbusmeters prints 2000-00-00 00:00",
    ("sontex868", "set_date"): "a date whose year field is all ones (127: not set) is no value, "
    "wmbusmeters prints the year 2127",
    ("supercal", "target_date"): "a date whose year field is all ones (127: not set) is no value, "
    "wmbusmeters prints the year 2127",
    ("minomess", "target_m3"): "an unfilled billing register (BCD 80000000) is no value, "
    "wmbusmeters prints 80000 m3",
    **{
        ("c5isf", f"prev_{n}_month_kwh"): "an unfilled month register (0x80000000) is no value, "
        "wmbusmeters prints -2147483648 kWh"
        for n in range(1, 15)
    },
}
RECORD_GOAL = 0.95
FIELD_GOAL = 0.99


def field_figures(cases: list[dict], detect: bool = False) -> tuple[float, float, collections.Counter]:
    """(share of records with every expected field right, share of fields right, misses by driver)."""
    full = fields_ok = fields_total = 0
    short: collections.Counter = collections.Counter()
    for case in cases:
        result = decode_case(case, detect=detect)
        complete = True
        for name, value in case["expected"].items():
            if name in NOT_COMPARED or name in RECEIVER_FIELDS:
                continue
            if (case["driver"], name) in DOCUMENTED_DIFFERENCES:
                continue
            fields_total += 1
            if name in result and values_equal(value, result[name]):
                fields_ok += 1
            else:
                complete = False
        full += complete
        if not complete:
            short[case["driver"]] += 1
    return full / len(cases), fields_ok / fields_total, short


@pytest.mark.skipif(not SHARED_CORPUS.exists(), reason="../shared corpus not present")
def test_shared_corpus_fields_as_wmbusmeters_prints_them():
    cases = load_cases(SHARED_CORPUS)
    records, fields, short = field_figures(cases)
    detected, detected_fields, _ = field_figures(cases, detect=True)
    print(
        f"corpus: {records:.1%} of {len(cases)} records with every expected field, "
        f"{fields:.1%} of fields equal (each meter's driver found by detection alone: {detected:.1%} and "
        f"{detected_fields:.1%}); drivers still short: {short.most_common(20)}"
    )
    assert records >= RECORD_GOAL and fields >= FIELD_GOAL
