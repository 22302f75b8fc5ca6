"""app.table_text: tables that fit the terminal, cut long cells visibly, never wrap, and keep numbers whole."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import output
from app.table_text import CELLS_NOTE, cut, render_table, width_of

NOTE_START = "(some cells truncated"
LONG = "a very long service name that goes on and on"
HEADERS = ["tier", "service", "requests", "error_rate", "p95_ms"]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "tier": ["device", "edge", None],
        "service": [LONG, "short", "mid length name"],
        "requests": [1_234_567, 12, None],
        "error_rate": [0.00345, 0.5, None],
        "p95_ms": [850.0, 2_500.5, math.nan],
    })


def _split(text: str, rows: int) -> tuple[list[str], str]:
    """(header, rule and row lines; the notes after them rejoined into one line)."""
    lines = text.splitlines()
    return lines[:2 + rows], " ".join(lines[2 + rows:])


def test_wide_terminal_shows_everything_without_a_note() -> None:
    text = render_table(_frame(), 160)
    lines = text.splitlines()
    assert len(lines) == 5 and NOTE_START not in text
    assert LONG in lines[2]
    assert lines[0].split() == HEADERS
    assert set(lines[1].replace("  ", "")) == {"─"}


def test_today_number_formats_without_units() -> None:
    lines = render_table(_frame(), 160).splitlines()
    assert lines[2].split()[-3:] == ["1234567", "0.0034", "850.00"]  # fractions keep four decimals, floats two
    assert lines[3].split()[-3:] == ["12", "0.5000", "2500.50"]
    assert lines[4].split() == ["–", "mid", "length", "name", "–", "–", "–"]  # null and NaN


def test_narrow_terminal_truncates_with_an_ellipsis_and_never_wraps() -> None:
    frame = _frame()
    for width in (80, 60, 45, 30, 12, 3):
        text = render_table(frame, width)
        lines = text.splitlines()
        assert all(width_of(line) <= width for line in lines), (width, lines)
        body, notes = _split(text, frame.height)
        assert "…" in "".join(body) and notes.startswith(NOTE_START[:width - 1])
        whole = {*LONG.split(), *HEADERS, "device", "edge", "short", "mid", "length", "name",
                 "1234567", "12", "0.0034", "0.5000", "850.00", "2500.50", "–"}
        for word in (w for line in [body[0], *body[2:]] for w in line.split()):  # every word whole, or its start and …
            assert word in whole or word == "…" or any(w.startswith(word[:-1]) for w in whole if word.endswith("…")), word


def test_text_columns_give_way_before_numbers() -> None:
    lines = render_table(_frame(), 60).splitlines()
    assert lines[2].split()[-3:] == ["1234567", "0.0034", "850.00"]
    assert "a very" in lines[2] and LONG not in lines[2] and "…" in lines[2]


def test_numbers_align_right_and_text_left() -> None:
    lines = render_table(pl.DataFrame({"name": ["a", "bbbb"], "n": [5, 12_345]}), 80).splitlines()
    assert lines == ["name      n", "────  ─────", "a         5", "bbbb  12345"]


def test_the_note_appears_only_when_something_was_cut() -> None:
    frame = pl.DataFrame({"name": ["x" * 30]})
    assert render_table(frame, 30).splitlines()[-1] == "x" * 30
    cut_text = render_table(frame, 20)
    assert cut_text.splitlines()[2] == "x" * 19 + "…"
    assert CELLS_NOTE.split()[-1] in cut_text.splitlines()[-1]
    assert render_table(frame, 80).endswith(CELLS_NOTE.split("(")[0] + "x" * 30)


def test_labels_and_units() -> None:
    frame = pl.DataFrame({"workload": ["chat", "ocr"], "cost_usd": [1_234.5, None], "currency": ["USD", "EUR"],
                          "p95_ms": [850.0, 2_500.0], "requests": [1_234_567, 3]})
    text = render_table(frame, 160, labels={"cost_usd": "Cost", "p95_ms": "p95"},
                        units={"cost_usd": "money", "p95_ms": "ms", "requests": "count"})
    lines = text.splitlines()
    assert lines[0].split() == ["workload", "Cost", "currency", "p95", "requests"]
    assert lines[2].split() == ["chat", "1,234.50", "USD", "USD", "850", "ms", "1,234,567"]
    assert lines[3].split() == ["ocr", "–", "EUR", "2.50", "s", "3"]
    assert lines[2].endswith("1,234,567") and lines[2].index("850 ms") + len("850 ms") == lines[3].index("2.50 s") + 6


def test_control_characters_and_wide_characters_cannot_break_lines() -> None:
    frame = pl.DataFrame({"attr": ["line one\nline two\x1b[31m", "東京東京東京東京東京"]})
    text = render_table(frame, 12)
    lines = text.splitlines()
    assert "\x1b" not in text and _split(text, 2)[1] == CELLS_NOTE
    assert lines[2].startswith("line one↵") and all(width_of(line) <= 12 for line in lines)
    assert lines[3] == "東京東京東…"


def test_long_frames_show_both_ends() -> None:
    text = render_table(pl.DataFrame({"i": range(250)}), 40, max_rows=10)
    lines = text.splitlines()
    assert [line.strip() for line in lines[2:13]] == ["0", "1", "2", "3", "4", "…", "245", "246", "247", "248", "249"]
    assert "250 rows" in text and NOTE_START not in text


def test_empty_frames() -> None:
    assert render_table(pl.DataFrame(schema={"a": pl.Int64}), 40).splitlines() == ["a", "─", "(no rows)"]
    assert render_table(pl.DataFrame(), 40) == "(no columns)"


def test_print_frame_fits_the_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    output.print_frame(_frame())
    printed = capsys.readouterr().out
    assert all(width_of(line) <= 40 for line in printed.splitlines()) and NOTE_START in printed


def test_cut() -> None:
    assert cut("abcdef", 6) == "abcdef"
    assert cut("abcdef", 4) == "abc…"
    assert cut("abcdef", 1) == "…"
    assert cut("東京", 3) == "東…"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40),
                min_size=1, max_size=6),
       st.integers(min_value=1, max_value=120))
def test_any_text_fits_any_width(cells: list[str], width: int) -> None:
    frame = pl.DataFrame({f"c{i}": [c, None] for i, c in enumerate(cells)})
    text = render_table(frame, width)
    assert all(width_of(line) <= width for line in text.splitlines())
    body, notes = _split(text, frame.height)
    natural = sum(max(2, width_of(c)) for c in cells) + 2 * (len(cells) - 1)
    if natural <= width:
        assert notes == "" and [line.rstrip() for line in body] == body
    elif width >= 11:  # below that even a word of the note is cut
        assert notes == " ".join(CELLS_NOTE.split())
