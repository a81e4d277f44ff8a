"""The report shows what was measured, per database, and never hides a failed figure."""

from __future__ import annotations

from pathlib import Path

from .report import BEGIN, END, table, write

FIGURES = [
    {"section": "abuse", "name": "5xx", "db": "sqlite", "value": 0, "must_be_zero": True},
    {"section": "fuzzing", "name": "cases", "db": "sqlite", "value": 400, "unit": ""},
    {"section": "fuzzing", "name": "cases", "db": "postgres", "value": 380},
    {"section": "fuzzing", "name": "5xx", "db": "postgres", "value": 2, "must_be_zero": True},
]


def test_sections_in_page_order_with_a_column_per_database() -> None:
    lines = table(FIGURES).splitlines()
    assert lines[0] == "| section | figure | SQLite | PostgreSQL | must be |"
    assert lines[2] == "| fuzzing | cases | 400 | 380 |  |"
    assert lines[3] == "| fuzzing | 5xx | — | 2 **(must be 0)** | 0 |"
    assert lines[4] == "| abuse | 5xx | 0 | — | 0 |"


def test_the_page_keeps_its_text_and_says_when_a_figure_failed(tmp_path: Path) -> None:
    page = tmp_path / "reliability.md"
    page.write_text(f"# head\n\n{BEGIN}\nold\n{END}\n\ntail\n", encoding="utf-8")
    write({"size": "ci", "exitstatus": 1, "figures": FIGURES}, page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# head")
    assert text.endswith("tail\n")
    assert "old" not in text
    assert "1 must-be-0 figures are not 0; pytest exit status 1" in text
