"""How a metric frame is shown: headers from the measures' labels, units per column, money totals per currency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from queries.semantic import model
from queries.semantic.model import ModelError

TOTAL = "Total"


def labels(columns: Sequence[str]) -> dict[str, str]:
    """Column → header: a measure's or dimension's label (units ride in the cells, not the header)."""
    out = {}
    for c in columns:
        if c == "currency":
            out[c] = "Currency"
            continue
        try:
            out[c] = model.measure(c).label
        except ModelError:
            try:
                out[c] = model.dimension(c).label
            except ModelError:
                out[c] = c
    return out


def units(columns: Sequence[str]) -> dict[str, str]:
    """Column → unit (queries/units.py) for every measure column."""
    out = {}
    for c in columns:
        try:
            out[c] = model.measure(c).unit
        except ModelError:
            continue
    return out


def additive(name: str) -> bool:
    """Whether a measure's rows add up to its total: sums, not ratios or percentiles."""
    m = model.measure(name)
    return m.ratio is None and m.quantile is None and m.unit != "pct"


def with_totals(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """The rows and, when a money measure is present and rows are grouped, one `Total` row per currency that sums
    each additive measure (ratios and percentiles stay empty there: they do not add up)."""
    measures = [c for c in frame.columns if c not in (*keys, "currency")]
    if not keys or not frame.height or "currency" not in frame.columns:
        return frame
    sums = [pl.col(c).sum() if additive(c) else pl.lit(None, dtype=frame.schema[c]).alias(c) for c in measures]
    total = frame.group_by("currency", maintain_order=True).agg(sums)
    label = {k: pl.lit(TOTAL if i == 0 else None, dtype=pl.String).alias(k) for i, k in enumerate(keys)}
    text = frame.with_columns(pl.col(k).cast(pl.String) for k in keys)
    total = total.with_columns(label.values()).select(text.columns)
    return pl.concat([text, total], how="vertical_relaxed")


def period_label(start: date, end_exclusive: date, data_end: date | None) -> str:
    """A period for a heading: 'Nov 1–30 2026', or 'Dec 1–6 2026, month to date' when the data stops inside it."""
    last = end_exclusive - timedelta(days=1)
    partial = data_end is not None and data_end < last
    shown = min(last, data_end) if partial and data_end is not None else last
    if start == shown:
        text = f"{start:%b} {start.day} {start.year}"
    elif (start.year, start.month) == (shown.year, shown.month):
        text = f"{start:%b} {start.day}–{shown.day} {shown.year}"
    else:
        text = f"{start:%b} {start.day} {start.year} – {shown:%b} {shown.day} {shown.year}"
    return text + (", to date" if partial else "")
