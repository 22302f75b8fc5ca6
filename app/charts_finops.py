"""Plotly figure builders for the FinOps, Executive, Recommendations and Mapping pages: pure functions of query rows.

Names from bills and telemetry (tiers, workloads, services, hosts) enter a figure through plain.label(s): Plotly would
render their `<a>`, `<b>` and `<br>` tags.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import plotly.graph_objects as go
import polars as pl

from app import plain
from app.charts import TIER_RANK, _base, tier_color
from queries.units import format_value

LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.3}  # below the x-axis title, not over it


def _tiers(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["tier"].unique().to_list(), key=lambda t: (TIER_RANK.get(t, 9), t))


def unit_costs(rows: pl.DataFrame, per_requests: str = "usd_per_1k_requests", per_tokens: str = "usd_per_1m_tokens",
               currency: str = "USD") -> go.Figure:
    """Money per 1k requests and per 1M tokens per tier (one currency)."""
    fig = go.Figure()
    tiers = _tiers(rows)
    colors = [tier_color(t) for t in tiers]
    by = {r["tier"]: r for r in rows.iter_rows(named=True)}
    fig.add_bar(x=plain.labels(tiers), y=[by[t][per_requests] for t in tiers], name=f"{currency} per 1k requests",
                marker_color=colors, showlegend=False)
    fig.add_bar(x=plain.labels(tiers), y=[by[t][per_tokens] for t in tiers], name=f"{currency} per 1M tokens",
                marker_color=colors, marker_pattern_shape="/", showlegend=False, xaxis="x2", yaxis="y2")
    return _base(fig, 300, title="Unit cost per tier: per 1k requests (left), per 1M tokens (right, hatched)",
                 xaxis={"domain": [0, 0.45]}, xaxis2={"domain": [0.55, 1], "anchor": "y2"},
                 yaxis={"title": f"{currency} per 1k requests", "rangemode": "tozero"},
                 yaxis2={"title": f"{currency} per 1M tokens", "anchor": "x2", "rangemode": "tozero"})


def egress(rows: pl.DataFrame) -> go.Figure:
    """Billed data-transfer cost per direction, by tier (egress_cost_by_direction)."""
    fig = go.Figure()
    for tier in _tiers(rows):
        part = rows.filter(tier=tier)
        fig.add_bar(x=plain.labels(part["direction"]), y=part["effective_cost_usd"].to_list(), name=plain.label(tier),
                    marker_color=tier_color(tier))
    return _base(fig, 300, barmode="stack", title="Data-transfer cost by direction", legend=LEGEND,
                 yaxis_title="EffectiveCost (USD)", xaxis_title="direction")


def gpu_cost_vs_use(rows: pl.DataFrame) -> go.Figure:
    """Money allocated to each GPU host split into used and idle (gpu_cost_vs_use summed over days)."""
    per = (rows.group_by("tier", "host_name").agg(pl.col("used_usd").sum(), pl.col("idle_usd").sum())
           .sort("idle_usd"))
    fig = go.Figure()
    fig.add_bar(y=plain.labels(per["host_name"]), x=per["used_usd"].to_list(), name="used", orientation="h",
                marker_color=[tier_color(t) for t in per["tier"].to_list()])
    fig.add_bar(y=plain.labels(per["host_name"]), x=per["idle_usd"].to_list(), name="idle", orientation="h",
                marker_color="#D0D3D8")
    return _base(fig, max(260, 24 * per.height + 120), barmode="stack", title="GPU money: used vs idle per host", legend=LEGEND,
                 xaxis_title="allocated cost (USD)")


def anomalies(rows: pl.DataFrame) -> go.Figure:
    """Daily cost per tier with anomalous workload-days marked (cost_anomalies)."""
    daily = rows.group_by("day", "tier").agg(pl.col("cost_usd").sum()).sort("day")
    fig = go.Figure()
    for tier in _tiers(daily):
        part = daily.filter(tier=tier)
        fig.add_scatter(x=part["day"].to_list(), y=part["cost_usd"].to_list(), name=plain.label(tier), mode="lines",
                        line_color=tier_color(tier))
    odd = rows.filter(pl.col("anomalous"))
    if odd.height:
        fig.add_scatter(x=odd["day"].to_list(), y=odd["cost_usd"].to_list(), mode="markers", name="anomaly",
                        marker={"color": "#D62728", "size": 10, "symbol": "x"},
                        text=[plain.label(f"{w} ({t})") for w, t in odd.select("workload", "tier").iter_rows()])
    return _base(fig, 300, title="Daily cost per tier; anomalous workload-days marked", legend=LEGEND,
                 yaxis_title="EffectiveCost per day (USD)", xaxis_title="day (UTC)")


def forecast(rows: pl.DataFrame) -> go.Figure:
    """Month-to-date and month-end forecast per tier with its band (cost_forecast, tiers only)."""
    tiers = _tiers(rows.filter(pl.col("tier") != "all"))
    by = {r["tier"]: r for r in rows.iter_rows(named=True)}
    fig = go.Figure()
    fig.add_bar(x=plain.labels(tiers), y=[by[t]["month_to_date_usd"] for t in tiers], name="month to date",
                marker_color=[tier_color(t) for t in tiers])
    fig.add_scatter(x=plain.labels(tiers), y=[by[t]["forecast_usd"] for t in tiers], mode="markers", name="month-end forecast",
                    marker={"color": "#222", "size": 10, "symbol": "diamond"},
                    error_y={"type": "data", "symmetric": False,
                             "array": [by[t]["forecast_high_usd"] - by[t]["forecast_usd"] for t in tiers],
                             "arrayminus": [by[t]["forecast_usd"] - by[t]["forecast_low_usd"] for t in tiers]})
    return _base(fig, 300, title="Month-end forecast per tier", yaxis_title="EffectiveCost (USD)")


def recommendation_values(recs: pl.DataFrame) -> go.Figure:
    """Each recommendation's value per month, coloured by its target tier (recommend engine rows)."""
    moves = [plain.label(f"{w}: {a} → {b}") for w, a, b in recs.select("workload", "from_tier", "to_tier").iter_rows()]
    fig = go.Figure(go.Bar(y=moves, x=recs["value_usd_month"].to_list(), orientation="h",
                           marker_color=[tier_color(t) for t in recs["to_tier"].to_list()]))
    return _base(fig, max(240, 32 * recs.height + 120), title="Value of each recommendation",
                 xaxis_title="value (USD per month)", yaxis={"autorange": "reversed"})


def scorecard_factors(card: pl.DataFrame, factors: tuple[str, ...], current: str, target: str) -> go.Figure:
    """The five factors of the current placement against the target tier (scorecard rows of one portion)."""
    fig = go.Figure()
    for tier in (current, target):
        row = card.filter(pl.col("option_tier") == tier)
        if row.height:
            fig.add_bar(x=[f.removesuffix("_usd_month") for f in factors], y=[row[f][0] for f in factors],
                        name=plain.label(f"{tier}{' (now)' if tier == current else ' (what-if)'}"), marker_color=tier_color(tier),
                        marker_pattern_shape="" if tier == current else "/")
    return _base(fig, 320, barmode="group", title="Five-factor scorecard: now vs what-if", legend=LEGEND,
                 yaxis_title="USD per month", xaxis_title="factor")


def cost_per_request(rows: pl.DataFrame, x: str = "day", y: str = "usd_per_1k_requests", currency: str = "USD") -> go.Figure:
    """Cost per 1k requests per day, from zero so that a change is read at its true size; weekends are marked
    because traffic, and so the cost per request, follows the week."""
    fig = go.Figure(go.Scatter(x=rows[x].to_list(), y=rows[y].to_list(), mode="lines+markers",
                               line_color="#3B7DD8", name=f"{currency} per 1k requests"))
    for day in rows[x].to_list():
        if hasattr(day, "weekday") and day.weekday() == 5:
            fig.add_vrect(x0=day, x1=day + timedelta(days=2), fillcolor="rgba(128,128,128,0.12)", line_width=0)
    return _base(fig, 280, title=f"Cost per 1k requests per day ({currency}; grey = weekend)",
                 yaxis={"title": f"{currency} per 1k requests", "rangemode": "tozero"}, xaxis_title="day (UTC)",
                 showlegend=False)


def fmt_delta_usd(v: float) -> str:
    """A signed money change in USD (the scorecard's currency): +255.00 USD, −4,990.00 USD."""
    return ("+" if v >= 0 else "−") + format_value(abs(v), "money", "USD")


def cost_by_period(rows: pl.DataFrame, labels: dict[datetime, str], partial: set[datetime], currency: str) -> go.Figure:
    """Effective cost per period stacked by tier (semantic-model rows: time, tier, effective_cost), in one currency;
    a period the bills have not finished is hatched and labelled as such, never drawn as if complete."""
    fig = go.Figure()
    for tier in _tiers(rows):
        part = rows.filter(tier=tier)
        times = part["time"].to_list()
        fig.add_bar(x=[labels[t] for t in times], y=part["effective_cost"].to_list(), name=plain.label(tier),
                    marker={"color": tier_color(tier), "pattern": {"shape": ["/" if t in partial else "" for t in times]}},
                    hovertemplate="%{x} " + plain.label(tier) + ": %{y:,.2f} " + plain.label(currency) + "<extra></extra>")
    order = [labels[t] for t in sorted(labels)]
    return _base(fig, 320, barmode="stack", title=f"Effective cost per month and tier ({currency}; hatched = to date)",
                 legend=LEGEND, yaxis={"title": f"Effective cost ({currency})", "rangemode": "tozero"},
                 xaxis={"type": "category", "categoryorder": "array", "categoryarray": order})


def cost_by_dimension(rows: pl.DataFrame, dim: str, label: str, currency: str) -> go.Figure:
    """Effective cost by one dimension stacked by tier (semantic-model rows: dim, tier, effective_cost)."""
    named = rows.with_columns(pl.col(dim).cast(pl.String).fill_null("(none)"))
    order = named.group_by(dim).agg(pl.col("effective_cost").sum()).sort("effective_cost")[dim].to_list()
    fig = go.Figure()
    for tier in _tiers(named):
        part = named.filter(tier=tier)
        fig.add_bar(y=plain.labels(part[dim]), x=part["effective_cost"].to_list(), name=plain.label(tier), orientation="h",
                    marker_color=tier_color(tier),
                    hovertemplate="%{y} " + plain.label(tier) + ": %{x:,.2f} " + plain.label(currency) + "<extra></extra>")
    return _base(fig, max(260, 26 * len(order) + 120), barmode="stack", title=f"Effective cost by {label.lower()}",
                 legend=LEGEND, xaxis={"title": f"Effective cost ({currency})", "rangemode": "tozero"},
                 yaxis={"categoryorder": "array", "categoryarray": plain.labels(order)})


NO_CURRENCY = "(no currency)"  # mapping_coverage's unit for money whose bill named no currency


def coverage_label(row: dict[str, object]) -> str:
    """What one mapping_coverage row counts: spans, requests, or one currency's money ("USD money")."""
    unit = str(row["unit"])
    if row["kind"] != "money":
        return unit
    return "money with no currency" if unit == NO_CURRENCY else f"{unit} money"


def coverage_number(row: dict[str, object], column: str) -> str:
    """One mapping_coverage row's `mapped` or `total` as text without its unit: a count, or money to the cent."""
    return format_value(row[column], "money" if row["kind"] == "money" else "count")


def coverage_amounts(row: dict[str, object]) -> str:
    """One mapping_coverage row's placed amount of its total, in its unit: "190 of 340 spans", "0.00 of 1.26 CAD"."""
    unit = str(row["unit"])
    return f"{coverage_number(row, 'mapped')} of {coverage_number(row, 'total')} {unit}"


def coverage(rows: pl.DataFrame) -> go.Figure:
    """mapping_coverage as one bar per row (spans, requests, money per currency): the placed share and the rest, each
    bar labelled with the share and the placed amount of the total in its unit."""
    shown = [r for r in rows.iter_rows(named=True) if r["mapped_pct"] is not None]
    names = [plain.label(coverage_label(r)) for r in shown]
    placed = [float(r["mapped_pct"]) for r in shown]
    notes = [plain.label(f"{format_value(p, 'pct')} placed · {coverage_amounts(r)}") for p, r in zip(placed, shown,
                                                                                                  strict=True)]
    fig = go.Figure()
    fig.add_bar(y=names, x=placed, name="placed", orientation="h", marker_color="#7FD1C9", customdata=notes,
                hovertemplate="%{y}: %{customdata}<extra></extra>")
    fig.add_bar(y=names, x=[max(0.0, 100.0 - p) for p in placed], name="not placed", orientation="h",
                marker_color="#E3E5E8", hovertemplate="%{y}: %{x:.1f} % not placed<extra></extra>")
    for name, note in zip(names, notes, strict=True):  # written over the bar, so a 0 % share still reads
        fig.add_annotation(x=1, y=name, text=note, showarrow=False, xanchor="left", font={"color": "#1F2328"})
    return _base(fig, max(200, 44 * len(shown) + 110), barmode="stack", title="Placed share of the whole store",
                 legend={**LEGEND, "traceorder": "normal"}, xaxis={"title": "share (%)", "range": [0, max([100.0, *placed])]},
                 yaxis={"autorange": "reversed"})
