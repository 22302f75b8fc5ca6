"""The CLI's text tables: one line per row at any terminal width, long cells cut visibly instead of wrapped."""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from queries.units import MISSING, format_frame

ELLIPSIS = "…"
GAP = "  "
MAX_ROWS = 100
TEXT_FLOOR = 4  # a text column is cut no narrower than this ("ab…" still hints at the value) before numbers are cut
CELLS_NOTE = "(some cells truncated; --format json or csv gives every value)"
# Characters that would move the cursor or restyle the terminal; trace attributes can carry any of them.
_CONTROL = {**{c: "\ufffd" for c in (*range(32), *range(127, 160))}, ord("\n"): "↵", ord("\r"): "", ord("\t"): " "}


@dataclass(frozen=True)
class _Column:
    """One column ready to lay out: header text, cell texts, and whether it holds numbers (right-aligned, cut last)."""

    header: str
    cells: tuple[str, ...]
    numeric: bool

    @property
    def natural(self) -> int:
        return max(map(width_of, (self.header, *self.cells)))

    @property
    def floor(self) -> int:
        """The narrowest it gets while anything else can still give: numbers keep every digit, headers may be cut."""
        values = max(map(width_of, self.cells), default=1)
        return max(1, values) if self.numeric else min(self.natural, TEXT_FLOOR)


def width_of(text: str) -> int:
    """Terminal columns `text` takes: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal columns; when it does not fit, its start and "…"."""
    if width_of(text) <= width:
        return text
    if width < 1:
        return ""
    kept, used = [], 0
    for ch in text:
        w = width_of(ch)
        if used + w > width - 1:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + ELLIPSIS


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - width_of(text))
    return fill + text if right else text + fill


def _plain(value: object, fraction: bool) -> str:
    """A cell of a column without a unit: floats with two decimals (four for fractions), null and NaN as "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        text = f"{value:.{4 if fraction else 2}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.") else text
    return str(value).translate(_CONTROL)


def _columns(frame: pl.DataFrame, labels: Mapping[str, str], units: Mapping[str, str]) -> list[_Column]:
    with_units = [c for c in frame.columns if c in units]
    keep = [*with_units, "currency"] if "currency" in frame.columns and "currency" not in with_units else with_units
    formatted = format_frame(frame.select(keep), units) if with_units else None
    out = []
    for name, dtype in frame.schema.items():
        if formatted is not None and name in with_units:
            cells = tuple(formatted[name].to_list())
            numeric = True
        else:
            fraction = dtype.is_float() and name.endswith(("_rate", "_share"))
            cells = tuple(_plain(v, fraction) for v in frame[name].to_list())
            numeric = dtype.is_numeric()
        out.append(_Column(labels.get(name, name).translate(_CONTROL), cells, numeric))
    return out


def _fit(columns: Sequence[_Column], width: int) -> list[int]:
    """Column widths whose sum with the gaps fits `width`: the widest columns give first, down to their floors (text
    to a few characters, numbers to their values' width); only then are numbers cut, the widest first."""
    widths = [c.natural for c in columns]
    room = width - len(GAP) * (len(columns) - 1)
    floors = [c.floor for c in columns]
    for limits in (floors, [1] * len(columns)):
        if sum(widths) <= room:
            break
        widths = _level(widths, limits, room)
    return widths


def _level(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Lower the widest of `widths` (never below `floors`) until they sum to `room` or all stand at their floors."""
    def capped(cap: int) -> list[int]:
        return [min(w, max(f, cap)) for w, f in zip(widths, floors, strict=True)]

    low, high = 0, max(widths)
    while low < high:  # the largest cap that fits
        mid = (low + high + 1) // 2
        if sum(capped(mid)) <= room:
            low = mid
        else:
            high = mid - 1
    out = capped(low)
    spare = room - sum(out)
    for i in sorted(range(len(out)), key=lambda i: -widths[i]):  # hand the rounding remainder to the widest ones
        if spare <= 0:
            break
        if out[i] < widths[i] and out[i] == low >= floors[i]:
            out[i] += 1
            spare -= 1
    return out


def _line(texts: Sequence[str], widths: Sequence[int], columns: Sequence[_Column]) -> str:
    parts = [_pad(t, w, c.numeric) for t, w, c in zip(texts, widths, columns, strict=True)]
    return GAP.join(parts).rstrip()


def _note(text: str, width: int) -> list[str]:
    """A note wrapped between words to `width` (a word longer than the line is cut, never split over two lines)."""
    return [cut(line, width) for line in textwrap.wrap(text, max(width, 1), break_long_words=False, break_on_hyphens=False)]


def render_table(frame: pl.DataFrame, width: int, labels: Mapping[str, str] | None = None,
                 units: Mapping[str, str] | None = None, *, max_rows: int = MAX_ROWS) -> str:
    """`frame` as text lines of at most `width` terminal columns: a header (`labels` renames columns), a rule and one
    line per row. Columns in `units` read as queries.units formats them (money in the row's `currency`); the others
    show floats with two decimals, or four for fractions (`*_rate`, `*_share`), so 0.3 % does not read 0.00. Numbers
    align right; null reads "–". A cell wider than its column is cut with "…" and a closing note says so. Beyond
    `max_rows` rows the first and last halves show around a "…" line."""
    if not frame.columns:
        return "(no columns)"
    shown = frame if frame.height <= max_rows else pl.concat([frame.head(max_rows // 2), frame.tail(max_rows - max_rows // 2)])
    columns = _columns(shown, labels or {}, units or {})
    widths = _fit(columns, width)
    cells = [[cut(text, w) for text in (c.header, *c.cells)] for c, w in zip(columns, widths, strict=True)]
    truncated = any(text != original for col, c in zip(cells, columns, strict=True)
                    for text, original in zip(col, (c.header, *c.cells), strict=True))
    rows = [list(r) for r in zip(*cells, strict=True)]
    lines = [_line(rows[0], widths, columns), GAP.join("─" * w for w in widths)]
    body = [_line(r, widths, columns) for r in rows[1:]]
    if frame.height > max_rows:
        body.insert(max_rows // 2, ELLIPSIS)
    lines += body or ["(no rows)"]
    over = [cut(line, width) for line in lines]  # only when even one character per column does not fit
    truncated = truncated or over != lines
    notes = []
    if frame.height > max_rows:
        notes.append(f"({frame.height:,} rows, {max_rows} shown; --format json or csv gives every row)")
    if truncated:
        notes.append(CELLS_NOTE)
    return "\n".join(over + [line for note in notes for line in _note(note, width)])
