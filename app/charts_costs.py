"""Figures and text for the cost explorer and the month so far: pure functions of semantic-model rows.

Names from bills (services, accounts, tags) enter a figure through plain.label(s): Plotly would render their tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

import plotly.graph_objects as go
import polars as pl

from app import plain
from app.charts import _base, tier_color
from queries.units import format_value

LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.25}
PALETTE = ("#3B7DD8", "#F08A24", "#1AA39A", "#8E6BD8", "#D62728", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
           "#17BECF", "#393B79", "#637939", "#8C6D31", "#843C39", "#7B4173")
NONE = "(none)"  # a group the ledger leaves empty (no site, no tag)


def compact(amount: float | None, currency: str) -> str:
    """Money short enough for a KPI on a laptop: 812.40 USD, 259.8k USD, 1.26M USD (the exact value goes in its
    help)."""
    if amount is None:
        return format_value(None, "money", currency)
    size = abs(amount)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{'−' if amount < 0 else ''}{size / limit:,.1f}{suffix} {currency}"
    return format_value(amount, "money", currency)


def compact_money(amounts: Mapping[str, float]) -> str:
    """compact() per currency, never added across them: '259.8k USD + 1.2k EUR'; '–' for none."""
    return " + ".join(compact(v, c) for c, v in sorted(amounts.items())) or "–"


def exact_money(amounts: Mapping[str, float]) -> str:
    return " + ".join(format_value(v, "money", c) for c, v in sorted(amounts.items())) or "–"


def group_label(value: object) -> str:
    return NONE if value is None else str(value)


def period_label(t: datetime | date, grain: str) -> str:
    if grain == "month":
        return f"{t:%b %Y}"
    if grain == "week":
        return f"wk of {t:%Y-%m-%d}"
    return f"{t:%Y-%m-%d}"


def tick_label(t: datetime | date, grain: str) -> str:
    """A short bucket name for a chart's axis (the table's headers keep the full date)."""
    if grain == "month":
        return f"{t:%b %Y}"
    return f"{'wk ' if grain == 'week' else ''}{t:%b} {t.day}"


def colors(groups: Sequence[str], by: str) -> dict[str, str]:
    if by == "tier":
        return {g: tier_color(g) for g in groups}
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}


def explorer(rows: pl.DataFrame, by: str, label: str, grain: str, currency: str, partial: set[datetime],
             order: Sequence[str]) -> go.Figure:
    """Effective cost per time bucket stacked by the group-by dimension, one currency (rows: time, <by>, currency,
    effective_cost); buckets the range or the ledger cuts are hatched."""
    fig = go.Figure()
    named = rows.with_columns(pl.col(by).cast(pl.String).fill_null(NONE).alias("_group"))
    palette = colors(list(order), by)
    for group in order:
        part = named.filter(pl.col("_group") == group).sort("time")
        if not part.height:
            continue
        times = part["time"].to_list()
        fig.add_bar(x=[tick_label(t, grain) for t in times], y=part["effective_cost"].to_list(),
                    name=plain.label(group), marker={"color": palette[group],
                                                     "pattern": {"shape": ["/" if t in partial else "" for t in times]}},
                    hovertemplate="%{x} " + plain.label(group) + ": %{y:,.2f} " + plain.label(currency)
                    + "<extra></extra>")
    buckets = sorted(set(named["time"].to_list()))
    hatched = f"; hatched = part of the {grain}" if partial else ""
    return _base(fig, 400, barmode="stack", legend=LEGEND,
                 title=f"Effective cost per {grain} by {label.lower()} ({currency}{hatched})",
                 yaxis={"title": f"Effective cost ({currency})", "rangemode": "tozero"},
                 xaxis={"type": "category", "categoryorder": "array",
                        "categoryarray": [tick_label(t, grain) for t in buckets], "automargin": True})


def month_so_far(bars: Sequence[tuple[str, float, str]], currency: str, title: str) -> go.Figure:
    """(label, amount, kind) bars: kind `previous` (grey), `current` (solid) or `forecast` (a dashed outline), each
    labelled with its amount; a newline in a label breaks its axis text."""
    fig = go.Figure()
    style = {"previous": {"color": "#B8BDC4"}, "current": {"color": "#3B7DD8"},
             "forecast": {"color": "rgba(59,125,216,0.10)", "line": {"width": 0}}}
    for label, amount, kind in bars:
        name = "<br>".join(plain.label(line) for line in label.split("\n"))
        fig.add_bar(x=[name], y=[amount], name=name, marker=style[kind],
                    text=[format_value(amount, "money", currency)], textposition="outside", cliponaxis=False,
                    hovertemplate=name + ": %{y:,.2f} " + plain.label(currency) + "<extra></extra>",
                    showlegend=False)
    top = max([a for _, a, _ in bars] + [0.0])
    fig = _base(fig, 320, title=title, bargap=0.35,
                yaxis={"title": f"Effective cost ({currency})", "rangemode": "tozero", "range": [0, top * 1.18 or 1]},
                xaxis={"type": "category", "tickangle": 0})
    for i, (_, amount, kind) in enumerate(bars):
        if kind == "forecast":  # bar outlines cannot be dashed: draw the outline as a dashed rectangle over it
            fig.add_shape(type="rect", xref="x", yref="y", x0=i - 0.32, x1=i + 0.32, y0=0, y1=amount,
                          line={"color": "#3B7DD8", "width": 2, "dash": "dash"}, fillcolor="rgba(0,0,0,0)")
    return fig
