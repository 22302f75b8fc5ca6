"""Pure plotly figure builders (query rows in, figure out), the one tier colour registry, and unit formatting.

Plotly renders `<a href>`, `<b>` and `<br>` in text, labels and hover text: every name from telemetry or bills goes
into a figure through plain.label (or plain.labels), so it shows as the characters it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from app.plain import label, labels
from queries.units import format_value
from store.contract import TIERS

TIER_COLORS = {"device": "#8E6BD8", "edge": "#1AA39A", "regional": "#F08A24", "hyperscale": "#3B7DD8",
               "unknown": "#9AA0A6"}
TIER_RANK = {t: i for i, t in enumerate(TIERS)}


def tier_color(tier: str | None) -> str:
    return TIER_COLORS.get(tier or "unknown", TIER_COLORS["unknown"])


def fmt_ms(v: float | None) -> str:
    return format_value(v, "ms")


def fmt_usd(v: float | None) -> str:
    """Money from the registered queries, which are in USD (the semantic model's money carries its own currency)."""
    return format_value(v, "money", "USD")


def fmt_money(amounts: Mapping[str, float]) -> str:
    """Money in one or more currencies, never added across them: '1,234.56 USD + 80.00 CAD'."""
    return " + ".join(format_value(v, "money", c) for c, v in sorted(amounts.items())) or "–"


def _base(fig: go.Figure, height: int, **layout: object) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, **layout)
    if "legend" not in layout and fig.layout.legend.orientation is None:
        fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.2})
    return fig


def tier_map(tiers: pl.DataFrame, hops: pl.DataFrame, cost: Mapping[str, str] | None = None,
             flows: Mapping[tuple[str, str], tuple[float, float]] | None = None) -> go.Figure:
    """The estate left to right (device → hyperscale): per tier requests, p95 and error rate (semantic model
    columns), its cost text; hops as arcs labelled with their overhead and, from `flows` ((from, to) → adjusted calls,
    observed GB: the model's calls and egress_gb_observed), their volume."""
    flows = flows or {}
    shown = [t for t in TIERS if t in set(tiers["tier"])] or list(TIERS)
    xs = {t: float(i) for i, t in enumerate(shown)}
    cost = cost or {}
    fig = go.Figure()
    arcs = [h for h in hops.iter_rows(named=True) if h["from_tier"] in xs and h["to_tier"] in xs
            and h["from_tier"] != h["to_tier"]]
    volume = {(a["from_tier"], a["to_tier"]): flows.get((a["from_tier"], a["to_tier"]), (0.0, 0.0)) for a in arcs}
    most = max((v[0] for v in volume.values()), default=1.0) or 1.0
    level = 0
    for h in sorted(arcs, key=lambda h: (abs(xs[h["to_tier"]] - xs[h["from_tier"]]), xs[h["from_tier"]])):
        x0, x1 = xs[h["from_tier"]], xs[h["to_tier"]]
        skips = abs(x1 - x0) > 1
        if skips:
            level += 1
        lift = 0.15 + 0.42 * level if skips else 0.0  # each tier-skipping arc gets its own height: labels never collide
        pts = [i / 24 for i in range(25)]
        bx = [(1 - t) * x0 + t * x1 for t in pts]
        by = [4 * lift * t * (1 - t) for t in pts]
        fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", hoverinfo="skip", showlegend=False,
                                 line={"color": tier_color(h["from_tier"]),
                                       "width": 1.5 + 4 * volume[(h["from_tier"], h["to_tier"])][0] / most}))
        sep = ": " if skips else "<br>"  # labels between neighbours stay narrow: they sit under the tier-skipping arcs
        note = (f"{label(h['from_tier'])}→{label(h['to_tier'])}{sep}p50 {fmt_ms(h['p50_ms'])} · p95 {fmt_ms(h['p95_ms'])}"
                 f"<br>{format_value(volume[(h['from_tier'], h['to_tier'])][0], 'count')} calls · "
                 f"{format_value(volume[(h['from_tier'], h['to_tier'])][1], 'gb')}")
        fig.add_annotation(x=(x0 + x1) / 2, y=lift if skips else 0.0, yshift=22 if skips else 34, text=note,
                           showarrow=False, font={"size": 11}, bgcolor="rgba(128,128,128,0.18)", borderpad=3)
    rows = {r["tier"]: r for r in tiers.iter_rows(named=True)}
    text = []
    for t in shown:
        r = rows.get(t)
        parts = [f"<b>{label(t)}</b>"]
        if r:
            parts += [f"{format_value(r['requests'], 'count')} req", f"p95 {fmt_ms(r['latency_p95_ms'])}",
                      f"errors {format_value(r['error_rate_pct'], 'pct')}"]
        if t in cost:
            parts.append(f"cost {label(cost[t])}")
        text.append("<br>".join(parts))
    fig.add_trace(go.Scatter(x=[xs[t] for t in shown], y=[0] * len(shown), mode="markers+text", text=text,
                             textposition="bottom center", hoverinfo="text", showlegend=False,
                             marker={"size": 34, "color": [tier_color(t) for t in shown],
                                     "line": {"width": 2, "color": "white"}}))
    fig.update_xaxes(visible=False, range=[-0.6, len(shown) - 0.4])
    fig.update_yaxes(visible=False, range=[-0.75, 0.45 + 0.42 * max(level, 1)])
    return _base(fig, 330 + 70 * level, title="Tiers and the hops between them (hop overhead = network + queue time)")


def tier_latency(tiers: pl.DataFrame) -> go.Figure:
    """p50/p95/p99 per tier, log scale because tiers differ by orders of magnitude."""
    fig = go.Figure()
    for q, opacity in (("p50", 0.45), ("p95", 0.75), ("p99", 1.0)):
        fig.add_trace(go.Bar(x=labels(tiers["tier"]), y=tiers[f"latency_{q}_ms"].to_list(), name=q,
                             marker={"color": [tier_color(t) for t in tiers["tier"]], "opacity": opacity},
                             hovertemplate="%{x} " + q + ": %{y:,.1f} ms<extra></extra>"))
    fig.update_yaxes(type="log", dtick=1, tickformat=",", title_text="latency (ms, log scale)")
    return _base(fig, 330, barmode="group", showlegend=False,
                 title="Latency per tier: p50 (light) / p95 / p99 (solid)")


def heatmap(cells: pl.DataFrame, metric: str = "latency_p95_ms", x: str = "workload",
            x_title: str | None = None, selected: tuple[str, str] | None = None) -> go.Figure:
    """Tier × workload (or site) cells coloured by a latency percentile, each labelled with its value (in ms or s);
    `x` is the column of x values (what a click returns), `x_title` its name on the axis (default `x`); the
    `selected` (tier, x value) cell is outlined."""
    x_title = x_title or x
    name = metric.removeprefix("latency_").removesuffix("_ms")
    ys = [t for t in (*TIERS, "unknown") if t in set(cells["tier"])]
    xs = sorted({v for v in cells[x].to_list() if v is not None})
    z = {(r["tier"], r[x]): r[metric] for r in cells.iter_rows(named=True)}
    grid = [[z.get((t, w)) for w in xs] for t in ys]
    text = [[fmt_ms(v) if v is not None else "" for v in row] for row in grid]
    names = [[label(w) for w in xs] for _ in ys]  # shown instead of the raw values, which a click returns
    logz = [[math.log10(max(v, 0.01)) if v is not None else None for v in row] for row in grid]
    top = max([z for row in logz for z in row if z is not None], default=4.0)
    ticks = list(range(0, 7))
    fig = go.Figure(go.Heatmap(z=logz, x=xs, y=ys, text=text, customdata=names, texttemplate="%{text}",
                               colorscale="YlOrRd",
                               hoverongaps=False, zmin=0, zmax=max(4.0, top),
                               colorbar={"title": {"text": f"{name} (ms)"}, "tickvals": ticks,
                                         "ticktext": [f"{10 ** e:,}" for e in ticks]}, hoverinfo="skip"))
    # Plotly cannot select a heatmap cell (a click sends an empty selection): an invisible marker at each cell's centre
    # takes the click (the nearest one, wherever in the cell) and carries the hover, so the selection names the cell.
    filled = [(t, w, text[i][j], names[i][j]) for i, t in enumerate(ys) for j, w in enumerate(xs)
              if grid[i][j] is not None]
    fig.add_trace(go.Scatter(x=[c[1] for c in filled], y=[c[0] for c in filled], mode="markers", showlegend=False,
                             marker={"size": 40, "symbol": "square", "opacity": 0},
                             selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
                             text=[c[2] for c in filled], customdata=[c[3] for c in filled],
                             hovertemplate="%{y} · %{customdata}<br>" + name + " %{text}<extra></extra>"))
    fig.update_layout(hovermode="closest", hoverdistance=-1)
    if selected and selected[0] in ys and selected[1] in xs:
        i, j = ys.index(selected[0]), xs.index(selected[1])
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5, line={"color": "#1f2a44", "width": 3})
    fig.update_xaxes(tickangle=-30, title_text=x_title, tickmode="array", tickvals=xs, ticktext=labels(xs),
                     range=[-0.5, len(xs) - 0.5])
    fig.update_yaxes(range=[len(ys) - 0.5, -0.5], title_text="tier")
    # at least three rows' height: with one or two tiers (a tier filter) the colour bar's labels would overlap
    return _base(fig, 120 + 60 * max(3, len(ys)), title=f"{name} request latency by tier × {x_title}")


def latency_over_time(rows: pl.DataFrame) -> go.Figure:
    """p95 per tier over time, with errors per bucket below so incidents line up with latency spikes."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    for t in [t for t in (*TIERS, "unknown") if t in set(rows["tier"])]:
        part = rows.filter(pl.col("tier") == t)
        x = part["bucket_start"].to_list()
        fig.add_trace(go.Scatter(x=x, y=part["p95_ms"].to_list(), name=t, mode="lines", legendgroup=t,
                                 line={"color": tier_color(t)}, hovertemplate=t + " p95 %{y:,.1f} ms<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Bar(x=x, y=part["errors"].to_list(), name=t, legendgroup=t, showlegend=False,
                             marker={"color": tier_color(t)}, hovertemplate=t + " %{y} errors<extra></extra>"),
                      row=2, col=1)
    fig.update_yaxes(title_text="p95 (ms, log)", type="log", tickformat=",", row=1, col=1)
    fig.update_yaxes(title_text="errors", row=2, col=1)
    return _base(fig, 420, barmode="stack", title="p95 latency and errors over time")


def hop_breakdown(hops: pl.DataFrame) -> go.Figure:
    """Network + queue overhead per tier pair (p50 and p95), one colour per calling tier."""
    pairs = [f"{label(a)}→<br>{label(b)}" for a, b in zip(hops["from_tier"], hops["to_tier"], strict=True)]
    colors = [tier_color(t) for t in hops["from_tier"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=pairs, y=hops["p50_ms"].to_list(), name="p50", marker={"color": colors, "opacity": 0.5},
                         hovertemplate="%{x} p50 %{y:,.1f} ms<extra></extra>"))
    fig.add_trace(go.Bar(x=pairs, y=hops["p95_ms"].to_list(), name="p95", marker={"color": colors},
                         hovertemplate="%{x} p95 %{y:,.1f} ms<extra></extra>"))
    fig.update_yaxes(title_text="hop overhead (ms)")
    fig.update_xaxes(tickangle=0)
    return _base(fig, 330, barmode="group", showlegend=False,
                 title="Hop overhead per tier pair: p50 (light) / p95 (solid)")


def critical_share(shares: pl.DataFrame) -> go.Figure:
    """Share of end-to-end time per tier's compute and per hop on the critical path, for p50 and p95 traces."""
    fig = go.Figure()
    for comp in shares["component"].unique(maintain_order=True).to_list():
        part = shares.filter(pl.col("component") == comp)
        tier = comp.split("→")[0]
        hop = "→" in comp
        fig.add_trace(go.Bar(y=part["percentile"].to_list(), x=part["share_pct"].to_list(), name=label(comp),
                             orientation="h",
                             marker={"color": tier_color(tier), "pattern": {"shape": "/" if hop else ""}},
                             hovertemplate=label(comp) + ": %{x:.1f} %<extra></extra>"))
    fig.update_xaxes(title_text="share of end-to-end time (%)", range=[0, 100])
    fig.update_yaxes(title_text="traces near", autorange="reversed")
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.35})
    return _base(fig, 300, barmode="stack", title="Critical path: where the time goes (hatched = hop)")


def mark_regressions(fig: go.Figure, regressions: pl.DataFrame) -> go.Figure:
    """Red crosses on a latency-over-time figure where a tier's daily p95 broke its rolling baseline."""
    if regressions.height:
        fig.add_trace(go.Scatter(
            x=regressions["day"].to_list(), y=regressions["p95_ms"].to_list(), mode="markers", name="regression",
            marker={"symbol": "x", "size": 11, "color": "#D62728", "line": {"width": 2}},
            text=[label(f"{w} · {t}") for w, t in zip(regressions["workload"], regressions["tier"], strict=True)],
            hovertemplate="regression %{text}<br>%{x|%Y-%m-%d}: p95 %{y:,.0f} ms<extra></extra>"), row=1, col=1)
    return fig


def gpu_utilization(rows: pl.DataFrame) -> go.Figure:
    """Mean GPU utilization per host over time, one line per host coloured by its tier."""
    fig = go.Figure()
    for host in sorted(set(rows["host_name"].to_list())):
        part = rows.filter(pl.col("host_name") == host)
        tier = str(part["tier"][0])
        fig.add_trace(go.Scatter(x=part["bucket_start"].to_list(), y=part["mean_utilization_ratio"].to_list(),
                                 mode="lines", name=label(f"{host} ({tier})"),
                                 line={"color": tier_color(tier), "width": 1.5},
                                 hovertemplate=label(host) + " %{y:.0%}<extra></extra>"))
    fig.update_yaxes(title_text="mean GPU utilization (%)", range=[0, 1], tickformat=".0%")
    return _base(fig, 340, showlegend=False, title="GPU utilization per host (colour = tier)")


def cache_hits(rows: pl.DataFrame) -> go.Figure:
    """Hit rate per cache, and how much faster a hit answers than a miss (p95)."""
    caches = [f"{label(c or '(unnamed cache)')}<br>{label(t)} · {label(w)}"
              for c, t, w in zip(rows["cache_name"], rows["tier"], rows["workload"], strict=True)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("hit rate (%)", "p95 end to end: hit vs miss (ms)"))
    fig.add_trace(go.Bar(x=caches, y=rows["hit_ratio"].to_list(), name="hit rate", showlegend=False,
                         marker={"color": [tier_color(t) for t in rows["tier"]]},
                         hovertemplate="%{x}: %{y:.1%}<extra></extra>"), row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.add_trace(go.Bar(x=caches, y=rows["hit_e2e_p95_ms"].to_list(), name="hit", marker={"color": "#1AA39A"},
                         hovertemplate="hit p95 %{y:,.1f} ms<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Bar(x=caches, y=rows["miss_e2e_p95_ms"].to_list(), name="miss", marker={"color": "#D62728"},
                         hovertemplate="miss p95 %{y:,.1f} ms<extra></extra>"), row=1, col=2)
    fig.update_yaxes(type="log", tickformat=",", row=1, col=2)
    fig.update_xaxes(tickangle=0, tickfont={"size": 11})  # two-line labels read flat; the legend sits above
    return _base(fig, 400, barmode="group", title="Caches",
                 legend={"orientation": "h", "yanchor": "bottom", "y": 1.08, "xanchor": "left", "x": 0.56})


def slow_path_gap(rows: pl.DataFrame) -> go.Figure:
    """Which tier, hop or operation makes up the gap between p50 and p95 traces (critical-path ms)."""
    part = rows.sort("share_of_gap_pct", descending=True).head(12)
    names = [label(f"{lvl}: {c}") for lvl, c in zip(part["level"], part["component"], strict=True)]
    colors = [tier_color(c.split("→")[0].split(" ")[0].split("/")[0]) for c in part["component"]]
    fig = go.Figure(go.Bar(y=names, x=part["share_of_gap_pct"].to_list(), orientation="h", marker={"color": colors},
                           customdata=list(zip(part["p50_ms"], part["p95_ms"], strict=True)),
                           hovertemplate="%{y}<br>%{x:.1f} % of the p95−p50 gap<br>"
                                         "p50 %{customdata[0]:,.1f} ms → p95 %{customdata[1]:,.1f} ms<extra></extra>"))
    fig.update_xaxes(title_text="% of the p95 − p50 gap")
    fig.update_yaxes(autorange="reversed")
    return _base(fig, 120 + 24 * len(names), title="Slow-path finder: where p95 traces lose time against p50")
