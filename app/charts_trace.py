"""The trace view's figures (rows of queries/trace_view.py in, figure out): the waterfall that explains one trace, and
its critical path's share per tier and hop.

Every name from telemetry goes into a figure through plain.label, so it shows as the characters it is.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import polars as pl

from app.charts import tier_color
from app.plain import label
from store.contract import TIERS

ERROR_RED = "#D62728"
PATH_INK = "#111111"
_WRAP = 48  # characters per line of a row's name: long names wrap, never cut


def pretty_json(raw: str | None) -> object:
    """Attributes/events JSON text as a value for st.json (empty when absent)."""
    return json.loads(raw) if raw else {}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _wrapped(text: str) -> str:
    """`text` escaped for Plotly and broken into lines of about _WRAP characters at its ' · ' or spaces."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > _WRAP:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(label(x) for x in lines)


def row_names(rows: pl.DataFrame) -> list[str]:
    """The waterfall's row names: number, tier, service and operation; an error span's in red with its status
    message on a line below (✖), ⚠ before a span outside its parent on the reported clocks."""
    out = []
    for r in rows.iter_rows(named=True):
        name = _wrapped(f"{r['row']}. {'⚠ ' if r['skewed'] else ''}{r['tier']} · {r['service_name'] or '?'} · "
                        f"{r['name']}")
        if r["error"]:
            why = _wrapped(f"✖ {r['status_message'] or 'error, no status message'}")
            name = f"<span style='color:{ERROR_RED}'>{name}<br>{why}</span>"
        out.append(name)
    return out


def _segments_line(segs: pl.DataFrame, y_of: dict[str, str], t0: int) -> tuple[list[float | None], list[str | None]]:
    xs: list[float | None] = []
    ys: list[str | None] = []
    for span_id, start, end in segs.select("span_id", "start_ns", "end_ns").iter_rows():
        if span_id in y_of and end > start:
            xs += [(start - t0) / 1e6, (end - t0) / 1e6, None]
            ys += [y_of[span_id], y_of[span_id], None]
    return xs, ys


def waterfall(rows: pl.DataFrame, own: pl.DataFrame, path: pl.DataFrame, events: pl.DataFrame,
              start_text: str) -> go.Figure:
    """One trace, parent before child, on the drawn (skew-repaired) times.

    `rows`: queries/trace_view.timeline; `own`: its self_segments; `path`: its critical-path segments; `events`: its
    events. A light bar is a span's whole duration, the solid part of it its self time (no child running); a black
    line runs where the span itself holds the critical path; spans off the path are faded; errors are red, their
    status message under their name; ◆ marks an event (✕ an exception); a dotted outline shows where a skewed span's
    own clock put it.
    """
    names = row_names(rows)
    y_of = dict(zip(rows["span_id"], names, strict=True))
    t0 = int(rows["trace_start_ns"][0]) if rows.height else 0
    t_end = int(rows.select(pl.col("end_ns").max()).item()) if rows.height else t0
    total_ms = max(t_end - t0, 1) / 1e6
    fig = go.Figure()
    by = {r["span_id"]: r for r in rows.iter_rows(named=True)}
    hops = {r["parent_span_id"] for r in by.values() if r["kind"] == "server" and r["parent_span_id"] in by
            and by[r["parent_span_id"]]["kind"] == "client"
            and (by[r["parent_span_id"]]["tier"], by[r["parent_span_id"]]["site"]) != (r["tier"], r["site"])}
    _skew_ghosts(fig, rows, y_of, total_ms)
    for tier in [t for t in (*TIERS, "unknown") if t in set(rows["tier"])]:
        part = rows.filter(pl.col("tier") == tier)
        colour = tier_color(tier)
        fill = [_rgba(ERROR_RED if e else colour, (0.35 if e else 0.30) if p else 0.10)
                for e, p in zip(part["error"], part["on_path"], strict=True)]
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=label(tier), legendgroup=tier,
                             marker={"color": _rgba(colour, 0.6), "line": {"color": colour, "width": 1}}))
        fig.add_trace(go.Bar(
            y=[y_of[s] for s in part["span_id"]], x=(part["end_ns"] - part["start_ns"]) / 1e6,
            base=part["offset_ms"].to_list(), orientation="h", name=label(tier), legendgroup=tier, width=0.72,
            showlegend=False,
            marker={"color": fill, "line": {"color": [ERROR_RED if e else _rgba(colour, 0.9 if p else 0.3)
                                                      for e, p in zip(part["error"], part["on_path"], strict=True)],
                                            "width": [2.5 if e else 1 for e in part["error"]]},
                    "pattern": {"shape": ["/" if s in hops else "" for s in part["span_id"]],
                                "fgcolor": _rgba(colour, 0.8)}},
            customdata=[[r["row"], label(r["kind"]), label(r["status_code"]), r["duration_ms"], r["offset_ms"],
                         r["self_ms"], r["path_ms"], label(r["status_message"] or "–"),
                         "on the critical path" if r["on_path"] else "off the critical path"]
                        for r in part.iter_rows(named=True)],
            hovertemplate="%{y}<br>starts %{customdata[4]:,.1f} ms after the trace start, lasts "
                          "%{customdata[3]:,.1f} ms<br>self time %{customdata[5]:,.1f} ms · %{customdata[8]}, "
                          "holding it %{customdata[6]:,.1f} ms<br>%{customdata[1]}, status %{customdata[2]}: "
                          "%{customdata[7]}<extra></extra>"))
    if own.height:
        seg = own.join(rows.select("span_id", "tier", "error", "on_path"), on="span_id")
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name="self time (solid: no child running)",
                             legendgroup="self", marker={"color": "#555555"}))
        fig.add_trace(go.Bar(
            y=[y_of[s] for s in seg["span_id"]], x=(seg["end_ns"] - seg["start_ns"]) / 1e6,
            base=((seg["start_ns"] - t0) / 1e6).to_list(), orientation="h", width=0.72,
            name="self time", legendgroup="self", showlegend=False,
            marker={"color": [_rgba(ERROR_RED if e else tier_color(t), 0.95 if p else 0.35)
                              for t, e, p in zip(seg["tier"], seg["error"], seg["on_path"], strict=True)],
                    "line": {"width": 0}},
            hovertemplate="%{y}<br>self time from %{base:,.1f} ms, for %{x:,.1f} ms<extra></extra>"))
    xs, ys = _segments_line(path, y_of, t0)
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="critical path (the span itself holds it)",
                                 line={"color": PATH_INK, "width": 4}, hoverinfo="skip"))
    exc = events["event"].str.starts_with("exception")
    for part, name, symbol, colour in ((events.filter(~exc), "event", "diamond", "#FFFFFF"),
                                       (events.filter(exc), "exception event", "x", ERROR_RED)):
        if part.height:
            fig.add_trace(go.Scatter(
                x=part["from_trace_start_ms"].to_list(), y=[y_of.get(s) for s in part["span_id"]], mode="markers",
                name=name, marker={"symbol": symbol, "size": 11, "color": colour,
                                   "line": {"color": PATH_INK, "width": 1.5}},
                customdata=[[label(r["event"]), r["from_span_start_ms"], label(r["attributes"])]
                            for r in part.iter_rows(named=True)],
                hovertemplate="%{customdata[0]}<br>%{x:,.1f} ms after the trace start, %{customdata[1]:,.1f} ms "
                              "into its span<br>%{customdata[2]}<extra></extra>"))
    fig.update_xaxes(title_text=f"ms after the trace start ({start_text}); other tiers' clocks aligned to their "
                                "callers", zeroline=True, rangemode="tozero")
    fig.update_yaxes(type="category", autorange="reversed", categoryorder="array", categoryarray=names, automargin=True)
    lines = sum(n.count("<br>") + 1 for n in names)
    fig.update_layout(height=170 + 24 * lines, barmode="overlay", margin={"l": 10, "r": 30, "t": 70, "b": 10},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0.0})
    return fig


def _skew_ghosts(fig: go.Figure, rows: pl.DataFrame, y_of: dict[str, str], total_ms: float) -> None:
    """Dotted outlines where a skewed span's own clock put it (left out when that is far off the trace)."""
    moved = rows.filter(pl.col("skewed") & ((pl.col("shift_ms").abs() > 0) |
                                            ((pl.col("end_ns") - pl.col("start_ns")) / 1e6 != pl.col("duration_ms"))))
    moved = moved.filter(pl.col("shift_ms").abs() <= 2 * total_ms)
    if not moved.height:
        return
    fig.add_trace(go.Bar(
        y=[y_of[s] for s in moved["span_id"]], x=moved["duration_ms"].to_list(),
        base=(moved["offset_ms"] - moved["shift_ms"]).to_list(), orientation="h", width=0.92,
        name="⚠ where its own clock put it", marker={"color": "rgba(0,0,0,0)", "line": {"color": "#555555", "width": 1},
                                                     "pattern": {"shape": ".", "fgcolor": "#AAAAAA", "size": 5}},
        customdata=[[r["early_ms"], r["late_ms"]] for r in moved.iter_rows(named=True)],
        hovertemplate="%{y}<br>as reported: starts %{customdata[0]:,.1f} ms before its parent, ends "
                      "%{customdata[1]:,.1f} ms after it<extra></extra>"))


def path_share(shares: pl.DataFrame) -> go.Figure:
    """The trace's critical path as one stacked bar: each tier's compute and each hop (hatched) as its share of it."""
    fig = go.Figure()
    for r in shares.iter_rows(named=True):
        tier = r["component"].split("→")[0]
        hop = r["part"] == "hop"
        fig.add_trace(go.Bar(
            y=["critical path"], x=[r["share_pct"]], orientation="h", name=label(f"{r['component']} ({r['part']})"),
            marker={"color": tier_color(tier), "pattern": {"shape": "/" if hop else ""}},
            text=[f"{r['share_pct']:.0f} %"], textposition="inside", insidetextanchor="middle",
            customdata=[[r["path_ms"]]],
            hovertemplate=label(r["component"]) + ": %{x:.1f} % (%{customdata[0]:,.1f} ms)<extra></extra>"))
    fig.update_xaxes(title_text="share of this trace's critical path (%)", range=[0, 100])
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=220, barmode="stack", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": "Where the end-to-end time goes (hatched = hop)", "font": {"size": 15}},
                      legend={"orientation": "v", "yanchor": "top", "y": 1.0, "x": 1.02})
    return fig
