"""The generated code of the decode fast paths gives exactly what the general code gives.

A record layout seen again gets a reader of its own (``records._compile_reader``), its ``records``
list a writer of its own (``generic._layout_writer``), and a driver plan used again becomes
straight-line code (``engine._compile_fill``). Each is checked here against the general code on every
built-in driver's test telegrams, with the records' data bytes replaced by random ones (the layout
kept: the bytes the fast paths are made for), so values, invalid codes, signs and rounding all vary.
"""

from __future__ import annotations

import random

import pytest

from sdr_wmbus.app import records as records_module
from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.drivers import builtin_drivers, engine, generic
from sdr_wmbus.drivers.testing import decode_test
from sdr_wmbus.errors import ConfigError, DecodeError
from sdr_wmbus.input_lines import parse_hex
from sdr_wmbus.security.keys import KeyStore, parse_key

DRIVERS = builtin_drivers()
CASES = [(driver, test) for driver in DRIVERS for test in driver.tests if "error" not in test.expected]
VARIANTS = 4  # random data per test telegram


def _telegram(driver, test):
    """The decoded telegram of a driver's test case (None when it has no standard records)."""
    keys = KeyStore()
    if test.key:
        try:
            keys.default_key = parse_key(test.key, "test key")
        except ConfigError:
            return None
    decoder = TelegramDecoder(keys, driver=driver.name if test.forced else None)
    for before in test.preceding:
        decoder.decode(parse_hex(before), already_decrypted=test.already_decrypted, link_crc=test.link_crc)
    _, telegram = decoder.decode_telegram(
        parse_hex(test.telegram), already_decrypted=test.already_decrypted, link_crc=test.link_crc
    )
    if telegram is None or driver.proprietary or telegram.apl is None or not telegram.apl.records:
        return None
    return telegram if telegram.apl_bytes is not None else None  # (a rebuilt APL: not kept as bytes)


def _with_random_data(apl: bytes, rng: random.Random) -> bytes:
    """The APL with every record's data bytes random: the same layout, other values."""
    records_module.forget_layouts()
    records_module.parse_apl(apl)
    (layout,) = [
        known
        for known in records_module._LAYOUTS[records_module._layout_key(apl)]
        if known.structure(apl) == known.expected
    ]
    mixed = bytearray(apl)
    for record in layout.records:
        start, end = record[6], record[7]
        mixed[start:end] = rng.randbytes(end - start)
    return bytes(mixed)


def _interpreted(steps, preset, short=frozenset()):
    return lambda records, values, hidden, from_hook: engine._fill(steps, records, values, hidden, from_hook)


def _apply(driver, telegram, apl) -> object:
    telegram.apl = apl
    telegram.remembered = {}
    try:
        return engine.apply(driver, telegram, None)
    except DecodeError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("driver,test", CASES, ids=[f"{d.name}:{t.line}" for d, t in CASES])
def test_generated_code_gives_what_the_general_code_gives(driver, test, monkeypatch):
    telegram = _telegram(driver, test)
    if telegram is None:
        pytest.skip("no standard records")
    source = telegram.apl_bytes
    rng = random.Random(f"{driver.name}:{test.line}")
    for _ in range(VARIANTS):
        mixed = _with_random_data(source, rng)
        records_module.forget_layouts()
        fresh = records_module.parse_apl(mixed)  # the general walk (and the layout learnt)
        reused = records_module.parse_apl(mixed)  # the layout's generated reader
        assert reused.layout is not None and reused.layout == fresh.layout
        assert reused.records == fresh.records
        assert (reused.error, reused.error_offset, reused.manufacturer_data) == (
            fresh.error,
            fresh.error_offset,
            fresh.manufacturer_data,
        )
        written = generic.records_json(reused)  # the layout's generated writer
        general = [generic._item(record) for record in fresh.records]
        if fresh.manufacturer_data:
            general.append(
                generic.records_json(records_module.Apl(manufacturer_data=fresh.manufacturer_data))[0]
            )
        assert written == general and [type(i["value"]) for i in written] == [
            type(i["value"]) for i in general
        ]

        engine._PLANS.clear()
        for _ in range(3):  # the third use runs the plan's generated code
            compiled = _apply(driver, telegram, reused)
        with monkeypatch.context() as patch:
            patch.setattr(engine, "_compile_fill", _interpreted)
            engine._PLANS.clear()
            for _ in range(3):
                stepwise = _apply(driver, telegram, fresh)
        assert compiled == stepwise
        if isinstance(compiled, dict):
            assert {k: type(v) for k, v in compiled.items()} == {k: type(v) for k, v in stepwise.items()}


def test_cases_cover_the_drivers():
    covered = {driver.name for driver, test in CASES if _telegram(driver, test) is not None}
    assert len(covered) >= 80, sorted(covered)


def test_decode_test_still_reads_every_case():  # the helpers above read the cases as the driver tests do
    driver, test = CASES[0]
    assert "error" not in decode_test(driver, test)
