"""SRE slow-paths page: the latency heatmap first; slow traces, latency over time, hops and the rest in lazy tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from app import charts, components, data, plain
from app.state import Filters
from app.views import common, sre_sections

HEADING = "Slow paths"
SLOW_TRACES = "Slow traces"  # the first tab: the drill-down a heatmap click opens
_SEEN_CELL = "sre_seen_cell"  # the heatmap cell the page last showed, so a new click (only) switches tabs


def _bucket(f: Filters) -> str:
    """Hourly points for three days or less, else daily."""
    dims = data.dimensions()
    start, end = f.start or dims.first_day, f.end or dims.last_day
    return "hour" if start and end and (end - start).days < 3 else "day"


def _selected_cell(event: Any) -> tuple[str, str] | None:
    """(tier, column value) of the heatmap cell the reader clicked, if any."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    if points:
        p = points[0]
        return str(p.get("y")), str(p.get("x"))
    return None


PERCENTILES = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


def percentile_name(measure: str) -> str:
    """'latency_p95_ms' → 'p95'."""
    return measure.removeprefix("latency_").removesuffix("_ms")


def heatmap_cells(f: Filters, by: str, metric: str) -> pl.DataFrame:
    """Requests and the chosen latency percentile per tier × workload (or site) from the semantic model, every filter
    applied (batch and training left out unless a workload of that type is picked); on ClickHouse, the registered
    query's per-span cells under the same names. One percentile at a time: each costs a pass over the requests."""
    if data.models_measures():
        return data.metric(("requests", metric), ("tier", by), f.where(), f.start_ns, f.end_ns)
    rows = data.narrowed("latency_by_tier_workload", {**f.scope(), "by_site": "yes" if by == "site" else None},
                         by=("tier", "workload"))
    return rows.rename({"p50_ms": "latency_p50_ms", "p95_ms": "latency_p95_ms", "p99_ms": "latency_p99_ms"})


def _heatmap(f: Filters) -> tuple[pl.DataFrame, tuple[str, str] | None, str, str]:
    c1, c2 = st.columns(2)
    metric = c1.segmented_control("Percentile", PERCENTILES, default="latency_p95_ms", key="sre_metric",
                                  format_func=percentile_name) or "latency_p95_ms"
    by = c2.segmented_control("Columns", ["workload", "site"], default="workload", key="sre_by") or "workload"
    cells = heatmap_cells(f, by, metric)
    if cells.height == 0:
        return cells, None, by, metric
    event = st.plotly_chart(charts.heatmap(cells, metric, by), key="sre_heatmap", on_select="rerun",
                            selection_mode="points", config=components.PLOTLY_CONFIG)
    st.caption("Requests entering each tier, sampling-adjusted; batch and training jobs are left out (pick one in the "
               "workload filter to see it). Click a cell to list its slowest traces below.")
    return cells, _selected_cell(event), by, metric


def _critical_path(f: Filters, wl: str) -> None:
    # narrowed from the all-workload result (the query guarantees they are equal), so picking a workload or a filter
    # that changes the default one reruns nothing
    shares = data.narrowed("critical_path_shares", {**f.window(), "workload": wl}, by="workload")
    if shares.height == 0:
        components.no_rows("traces with a root span")
        return
    e2e = {r["percentile"]: r["e2e_ms"] for r in shares.select("percentile", "e2e_ms").unique().iter_rows(named=True)}
    st.caption(" · ".join(f"{p} traces: {charts.fmt_ms(v)} end to end" for p, v in sorted(e2e.items())))
    components.chart(charts.critical_share(shares), "sre_critical")


def _regressions(f: Filters) -> pl.DataFrame:
    """Regressed (workload, tier, day) rows inside the window, to mark on the latency chart."""
    rows = data.narrowed("latency_regressions", {"workload": f.workload, "tier": f.tier},
                         by=("tier", "workload")).filter(pl.col("regressed"))
    if f.start:
        rows = rows.filter(pl.col("day") >= f.start)
    if f.end:
        rows = rows.filter(pl.col("day") <= f.end)
    return rows


def _slow_table(slow: pl.DataFrame, f: Filters) -> None:
    if slow.height == 0:
        components.no_rows("traces")
        return
    links = slow.with_columns(pl.Series("open", [common.trace_link(t, f) for t in slow["trace_id"]]))
    components.table(links.select("open", "workload", "root_tier", "site", "root_operation", "duration_ms", "spans",
                                  "tiers", "status_code", "trace_id"), "sre_slow", "slow_traces.csv",
                     column_config={"open": st.column_config.LinkColumn("trace", display_text="open ↗"),
                                    "duration_ms": st.column_config.NumberColumn("duration (ms)", format="%.1f")},
                     download=slow)


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Which tier, hop or site makes a request slow. All sidebar filters apply.")
    cells, cell, by, metric = _heatmap(f)
    if cells.height == 0:
        components.no_rows("requests")
        return
    hops = data.query("hops_by_tier_pair", {**f.window(), "workload": f.workload})
    slow_scope = {**f.scope(), "limit_count": 20}
    if cell:
        slow_scope.update({"tier": cell[0], by: cell[1]})
    slow = data.query("slow_traces", slow_scope)
    worst = cells.sort(metric, descending=True, nulls_last=True).row(0, named=True)
    items = [(f"slowest cell {percentile_name(metric)}", charts.fmt_ms(worst[metric]), f"{worst['tier']} · {worst[by]}")]
    if hops.height:
        h = hops.sort("p95_ms", descending=True).row(0, named=True)
        items.append(("slowest hop p95", charts.fmt_ms(h["p95_ms"]), f"{h['from_tier']}→{h['to_tier']}"))
    if slow.height:
        items.append(("slowest trace", charts.fmt_ms(slow["duration_ms"][0]), str(slow["workload"][0])))
    components.kpi_row(items)
    _deep(f, cells, by, cell, slow, hops)


def _over_time(f: Filters) -> None:
    over_time = data.narrowed("latency_over_time", {**f.scope(), "bucket": _bucket(f)})
    regressions = _regressions(f)
    components.chart(charts.mark_regressions(charts.latency_over_time(over_time), regressions), "sre_over_time")
    if regressions.height:
        st.caption(f"{regressions.height} regressions (red ×): a workload's daily p95 in a tier above its rolling "
                   "median + 3×MAD baseline (query latency_regressions).")


def _slow_traces(f: Filters, cell: tuple[str, str] | None, slow: pl.DataFrame) -> None:
    st.subheader("Example slow traces" + (f" in {plain.md(cell[0])} · {plain.md(cell[1])}" if cell else ""))
    if not f.workload:
        st.caption("Interactive workloads only; pick a workload to see its traces, batch and training jobs included.")
    _slow_table(slow, f)


def _hops(hops: pl.DataFrame) -> None:
    st.subheader("Hops: network versus compute")
    if hops.height:
        components.chart(charts.hop_breakdown(hops), "sre_hops")
    else:
        components.no_rows("calls between tiers")


def _workload(f: Filters, cells: pl.DataFrame, by: str) -> str | None:
    """The workload the critical path and the slow-path finder explain: the filter's, else the heatmap's first."""
    workloads = sorted({w for w in cells["workload"].to_list() if w and w != "(none)"}) if by == "workload" \
        else list(data.dimensions().workloads)
    if not workloads:
        return None
    default = workloads.index(f.workload) if f.workload in workloads else 0
    return str(st.selectbox("Workload", workloads, index=default, key="sre_cp_workload"))


def _deep(f: Filters, cells: pl.DataFrame, by: str, cell: tuple[str, str] | None, slow: pl.DataFrame,
          hops: pl.DataFrame) -> None:
    """The drill-down and the analyses, one tab each; only the open tab runs its queries and draws, so a filter change
    redraws the heatmap and that tab (the browser's redraw of each Plotly chart is most of a redraw's time). Clicking
    a heatmap cell opens the slow traces of that cell. The warm-up, with no reader, draws every tab."""
    st.subheader("Where the time goes")
    if cell and st.session_state.get(_SEEN_CELL) != cell:
        st.session_state["sre_tab"] = SLOW_TRACES
    st.session_state[_SEEN_CELL] = cell

    def per_workload(draw: Callable[[Filters, str], None]) -> Callable[[], None]:
        def section() -> None:
            wl = _workload(f, cells, by)
            if wl:
                draw(f, wl)
            else:
                components.no_rows("workloads")
        return section

    sections: dict[str, Callable[[], None]] = {
        SLOW_TRACES: lambda: _slow_traces(f, cell, slow), "Over time": lambda: _over_time(f), "Hops": lambda: _hops(hops),
        "Critical path": per_workload(_critical_path), "Slow-path finder": per_workload(sre_sections.slow_path_finder),
        "Latency budgets": lambda: sre_sections.budgets(f), "GPU and queues": lambda: sre_sections.gpu(f, _bucket(f)),
        "Caches": lambda: sre_sections.caches(f), "Trust zones": lambda: sre_sections.trust_zones(f)}
    for draw, tab in zip(sections.values(), st.tabs(list(sections), key="sre_tab", on_change="rerun"), strict=True):
        if components.drawn(tab):
            with tab, components.engine_gaps():
                draw()
