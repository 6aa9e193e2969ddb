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
DOCUMENTED_DIFFERENCES: dict[tuple[str, str], str] = {
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


def field_figures(cases: list[dict]) -> tuple[float, float, collections.Counter]:
    """(share of records with every expected field right, share of fields right, misses by driver)."""
    full = fields_ok = fields_total = 0
    short: collections.Counter = collections.Counter()
    for case in cases:
        result = decode_case(case)
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
    print(
        f"corpus: {records:.1%} of {len(cases)} records with every expected field, "
        f"{fields:.1%} of fields equal; "
        f"drivers still short: {short.most_common(20)}"
    )
    assert records >= RECORD_GOAL and fields >= FIELD_GOAL
