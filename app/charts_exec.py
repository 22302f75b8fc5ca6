"""Charts of the Executive page: where the money goes and realised against projected savings, bars from zero."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app import plain
from app.charts import _base, tier_color

SAVINGS_COLORS = {"realised": "#2E7D32", "projected, open": "#3B7DD8", "dismissed": "#B0B0B0"}


def spend_bars(rows: pl.DataFrame, by: str, currency: str, title: str) -> go.Figure:
    """Effective cost per `by` value (semantic-model rows: by, currency, effective_cost), largest on top, from zero."""
    rows = rows.sort("effective_cost", descending=True)
    names = [plain.label(str(v) if v is not None else "unallocated") for v in rows[by].to_list()]
    colors = [tier_color(str(v)) for v in rows[by].to_list()] if by == "tier" else "#3B7DD8"
    fig = go.Figure(go.Bar(y=names, x=rows["effective_cost"].to_list(), orientation="h", marker_color=colors,
                           hovertemplate="%{y}: %{x:,.2f} " + plain.label(currency) + "<extra></extra>"))
    return _base(fig, max(220, 34 * rows.height + 110), title=title, showlegend=False,
                 xaxis={"title": f"effective cost ({currency})", "rangemode": "tozero"},
                 yaxis={"autorange": "reversed", "automargin": True})


def savings_bars(realised: float, open_: float, dismissed: float) -> go.Figure:
    """Money per month of the recommended moves that lower cost: realised (accepted), projected but still open, and
    dismissed (left out of projected), from zero."""
    parts = {"realised": realised, "projected, open": open_, "dismissed": dismissed}
    fig = go.Figure(go.Bar(y=list(parts), x=list(parts.values()), orientation="h",
                           marker_color=[SAVINGS_COLORS[k] for k in parts],
                           text=[f"{v:,.2f} USD" for v in parts.values()], textposition="auto",
                           hovertemplate="%{y}: %{x:,.2f} USD per month<extra></extra>"))
    return _base(fig, 220, title="Savings per month: realised, still open, dismissed (money only)", showlegend=False,
                 xaxis={"title": "USD per month", "rangemode": "tozero"}, yaxis={"autorange": "reversed"})
