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
    return m.ratio is None and m.quantile is None and m.per_second is None and m.unit != "pct"


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


_UNITS = {"ms": "ms", "s": "s", "ns": "ns", "bytes": "bytes", "gb": "GB", "gib": "GiB", "mib": "MiB", "kwh": "kWh",
          "ratio": "%", "pct": "%", "usd": "USD", "count": "", "per": ""}
_WORDS = {"gpu": "GPU", "id": "ID", "ttft": "TTFT", "cdn": "CDN", "sla": "SLA", "p50": "p50", "p95": "p95", "p99": "p99",
          "ids": "IDs", "url": "URL", "api": "API", "1k": "1k", "ok": "OK", "kwh": "kWh"}


def header(column: str, currency_column: bool = False) -> str:
    """A readable header for a column of a registered query: the model's label when it names one, else the words of
    its name with the unit its suffix declares ("p95_delta_ms" → "p95 delta (ms)", "hit_ratio" → "Hit ratio (%)").

    `_usd` columns sit beside a `currency` column in queries that carry money in its own currency; there the header
    names no currency (the cells' column does).
    """
    known = labels([column])[column]
    if known != column:
        return known
    words = column.split("_")
    unit = ""
    if words[-2:] == ["usd", "month"]:
        words, unit = words[:-2], "" if currency_column else "USD per month"
    elif len(words) > 1 and words[-1] in _UNITS:
        unit = "" if words[-1] == "usd" and currency_column else _UNITS[words[-1]]
        words = words if words[-1] == "ratio" else words[:-1]
    elif column == "error_rate":
        unit = "%"
    text = " ".join(_WORDS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:] if text[:3] not in ("p50", "p95", "p99") else text
    return f"{text} ({unit})" if unit else text


def percent_columns(columns: Sequence[str]) -> list[str]:
    """Columns holding fractions that are read as percentages (`_ratio` and `error_rate` hold 0–1)."""
    return [c for c in columns if c.endswith("_ratio") or c == "error_rate"]


def pct_columns(columns: Sequence[str]) -> list[str]:
    """Columns already in percent (`_pct` holds 0–100, as the semantic model's `pct` unit does)."""
    return [c for c in columns if c.endswith("_pct")]
