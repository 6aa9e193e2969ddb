"""The README's tables of supported meters and of differences from wmbusmeters are generated from the
driver files and from the documented differences; they must be current."""

from __future__ import annotations

from readme_tables import README, rendered


def test_readme_tables_are_current():
    text = README.read_text()
    assert "<!-- drivers:begin -->" in text and "<!-- differences:begin -->" in text
    assert text == rendered(text), "run: python3 tests/readme_tables.py --write"
