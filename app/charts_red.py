"""Figures of the SRE search and RED pages (rows in, figure out): the found traces' durations over time, and request
rate, error rate and latency percentiles per tier over time. Names from telemetry go through plain.label."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts import fmt_ms, tier_color
from app.plain import label
from queries.units import format_value

PERCENTILES = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_DASH = {"latency_p50_ms": "dot", "latency_p95_ms": "solid", "latency_p99_ms": "dash"}


def _layout(fig: go.Figure, height: int, title: str, y_title: str) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, title=f"{title} (UTC)",
                      yaxis_title=y_title, hovermode="closest",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.24})
    return fig


def percentile_name(measure: str) -> str:
    """'latency_p95_ms' → 'p95'."""
    return measure.removeprefix("latency_").removesuffix("_ms")


def trace_scatter(found: pl.DataFrame) -> go.Figure:
    """Each found trace at its start time and duration, red when a span failed (the Jaeger search habit)."""
    fig = go.Figure()
    for failed, colour, name in ((False, "#3B7DD8", "no error"), (True, "#D93025", "with errors")):
        part = found.filter((pl.col("error_count") > 0) == failed)
        if part.height == 0:
            continue
        hover = [f"{label(t)}<br>{label(s or '–')} · {label(o or '–')}<br>{fmt_ms(d)} · {n} spans"
                 for t, s, o, d, n in part.select("trace_id", "root_service", "root_operation", "duration_ms",
                                                  "span_count").iter_rows()]
        fig.add_trace(go.Scatter(x=part["start"].dt.replace_time_zone(None).to_list(), y=part["duration_ms"].to_list(),
                                 mode="markers", name=name, marker={"color": colour, "size": 9, "opacity": 0.8},
                                 hovertext=hover, hoverinfo="text"))
    return _layout(fig, 260, "Found traces: duration by start time", "duration (ms)")


def _series(rows: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    tiers = rows["tier"].unique(maintain_order=True).to_list() if "tier" in rows.columns else [None]
    return [(t or "unknown", rows.filter(pl.col("tier") == t) if t is not None else rows) for t in tiers]


def rate_chart(rows: pl.DataFrame) -> go.Figure:
    """Requests per second per tier over time (rows: time, tier, request_rate_per_s)."""
    fig = go.Figure()
    for tier, part in _series(rows):
        fig.add_trace(go.Scatter(x=part["time"].to_list(), y=part["request_rate_per_s"].to_list(), mode="lines+markers",
                                 name=label(tier), line={"color": tier_color(tier)},
                                 hovertext=[f"{label(tier)}: {format_value(v, 'per_s')}"
                                            for v in part["request_rate_per_s"].to_list()], hoverinfo="x+text"))
    return _layout(fig, 280, "Request rate", "requests per second")


def error_chart(rows: pl.DataFrame) -> go.Figure:
    """Error rate % per tier over time (rows: time, tier, error_rate_pct)."""
    fig = go.Figure()
    for tier, part in _series(rows):
        fig.add_trace(go.Scatter(x=part["time"].to_list(), y=part["error_rate_pct"].to_list(), mode="lines+markers",
                                 name=label(tier), line={"color": tier_color(tier)},
                                 hovertext=[f"{label(tier)}: {format_value(v, 'pct')}"
                                            for v in part["error_rate_pct"].to_list()], hoverinfo="x+text"))
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, 280, "Error rate", "% of requests")


def latency_chart(rows: pl.DataFrame) -> go.Figure:
    """p50, p95 and p99 per tier over time; each point carries (tier, percentile, bucket start in Unix seconds: a
    browser's numbers hold no nanoseconds) for a click."""
    fig = go.Figure()
    for tier, part in _series(rows):
        bucket_s = part["time"].dt.epoch("s").to_list()
        for measure in PERCENTILES:
            name = percentile_name(measure)
            values = part[measure].to_list()
            fig.add_trace(go.Scatter(
                x=part["time"].to_list(), y=values, mode="lines+markers", name=f"{label(tier)} {name}",
                line={"color": tier_color(tier), "dash": _DASH[measure]}, marker={"size": 6},
                customdata=[[tier, name, b] for b in bucket_s],
                hovertext=[f"{label(tier)} {name}: {fmt_ms(v)} (click for its traces)" for v in values],
                hoverinfo="x+text"))
    return _layout(fig, 340, "Latency percentiles (click a point for the traces behind it)", "latency (ms)")
