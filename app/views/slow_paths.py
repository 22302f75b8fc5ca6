"""SRE slow-paths page: the latency heatmap first; slow traces, latency over time, hops and the rest in lazy tabs.
Every control is in the URL (app/slow_state.py); a clicked cell lists the traces of the requests that cell counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from app import charts, components, data, slow_state
from app.slow_state import TABS, Cell, SlowView
from app.state import Filters
from app.views import common, sre_sections

HEADING = "Slow paths"
SLOW_TRACES = TABS[0]  # the first tab: the drill-down a heatmap click opens
PERCENTILES = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_CELL = "sre_cell"  # the cell whose traces are listed: kept until another cell is clicked or it is cleared
_SEEN_PICK = "sre_seen_pick"  # the heatmap point the last run saw, so only a new click changes the cell
_SEEN_CELL = "sre_seen_cell"  # the cell the page last showed, so a new cell (only) opens its tab
_CP_FOR = "sre_cp_for"  # the sidebar workload the critical-path picker last followed
_CP_URL = "sre_cp_url"  # the critical path's workload when picked apart from the sidebar's (kept in the URL)


def _bucket(f: Filters) -> str:
    """Minute points up to six hours, hourly up to three days, else daily."""
    span = f.span_s()
    if span is not None and span <= 6 * 3600:
        return "minute"
    dims = data.dimensions()
    start, end = f.start or dims.first_day, f.end or dims.last_day
    return "hour" if start and end and (end - start).days < 3 else "day"


def _selected_cell(event: Any) -> tuple[str, str] | None:
    """(tier, column label) of the heatmap point in the chart's selection event, if it holds one."""
    try:
        points = event.selection.points
    except AttributeError:
        try:
            points = event["selection"]["points"]
        except (KeyError, TypeError):
            return None
    if points:
        p = points[0]
        return str(p.get("y")), str(p.get("x"))
    return None


def percentile_name(measure: str) -> str:
    """'latency_p95_ms' → 'p95'."""
    return measure.removeprefix("latency_").removesuffix("_ms")


def heatmap_cells(f: Filters, by: str, metric: str, batch: bool = False) -> pl.DataFrame:
    """Requests and the chosen latency percentile per tier × workload (or site) from the semantic model, every filter
    applied. Batch and training work is left out unless `batch`: the model then groups by workload_type too (its one
    way to include them), so a cell is (tier, column, type) and, by site, labelled with its type. On ClickHouse, the
    registered query's per-span cells under the same names. `cell_label` is the heatmap's x value."""
    if data.models_measures():
        keys = ("tier", by, "workload_type") if batch else ("tier", by)
        cells = data.metric(("requests", "requests_sampled", metric), keys, f.where(), f.start_ns, f.end_ns)
        if not batch:
            cells = cells.with_columns(pl.lit(None, pl.String).alias("workload_type"))
    else:
        rows = data.narrowed("latency_by_tier_workload", {**f.scope(), "by_site": "yes" if by == "site" else None},
                             by=("tier", "workload"))
        cells = rows.rename({"p50_ms": "latency_p50_ms", "p95_ms": "latency_p95_ms", "p99_ms": "latency_p99_ms"}) \
            .with_columns(pl.lit(None, pl.String).alias("workload_type"))
    labels = [slow_state.cell_label(str(v), t, by) if v is not None else None
              for v, t in zip(cells[by], cells["workload_type"], strict=True)]
    return cells.with_columns(pl.Series("cell_label", labels, pl.String))


def _controls(url: SlowView) -> tuple[str, str, bool]:
    """Percentile, columns and the batch toggle, seeded from the URL on a session's first run."""
    for key, value in (("sre_metric", url.measure), ("sre_by", url.columns), ("sre_batch", url.batch)):
        if key not in st.session_state:
            st.session_state[key] = value
    c1, c2, c3 = st.columns([1, 1, 2])
    metric = c1.segmented_control("Percentile", PERCENTILES, key="sre_metric",
                                  format_func=percentile_name) or "latency_p95_ms"
    by = c2.segmented_control("Columns", ["workload", "site"], key="sre_by") or "workload"
    batch = c3.toggle("Include batch and training", key="sre_batch",
                      help="Request latency leaves out training, batch and embedding jobs (minutes long, not waited "
                           "on by a person) unless this is on.")
    return str(metric), str(by), bool(batch)


def _find(cells: pl.DataFrame, tier: str, label: str, by: str) -> Cell | None:
    hit = cells.filter((pl.col("tier") == tier) & (pl.col("cell_label") == label))
    if hit.height == 0:
        return None
    r = hit.row(0, named=True)
    return Cell(tier, str(r[by]), r["workload_type"])


def _valid(cells: pl.DataFrame, cell: Cell | None, by: str) -> Cell | None:
    """The cell, if the heatmap shows it (a filter, the columns or the toggle may have taken it away)."""
    if cell is None:
        return None
    found = _find(cells, cell.tier, slow_state.cell_label(cell.value, cell.workload_type, by), by)
    return cell if found == cell else None


def _clear_cell() -> None:
    st.session_state[_CELL] = None


def _heatmap(cells: pl.DataFrame, metric: str, by: str) -> Cell | None:
    """Draw the heatmap; the cell to list: a new click (Plotly may first send an empty selection, then the click:
    an empty one keeps the last cell), else the one kept from before or from the URL."""
    x_title = "site · workload type" if by == "site" and cells["workload_type"].is_not_null().any() else by
    chart = st.empty()  # drawn once the click is known, with the chosen cell outlined
    pick = _selected_cell(st.session_state.get("sre_heatmap"))
    if pick is not None and pick != st.session_state.get(_SEEN_PICK):
        st.session_state[_CELL] = _find(cells, pick[0], pick[1], by)
    st.session_state[_SEEN_PICK] = pick or st.session_state.get(_SEEN_PICK)
    cell = _valid(cells, st.session_state.get(_CELL), by)
    st.session_state[_CELL] = cell
    outline = (cell.tier, slow_state.cell_label(cell.value, cell.workload_type, by)) if cell else None
    chart.plotly_chart(charts.heatmap(cells, metric, "cell_label", x_title, outline), key="sre_heatmap",
                       on_select="rerun", selection_mode="points", config=components.PLOTLY_CONFIG)
    batch = "training, batch and embedding jobs included (each by its type)" \
        if cells["workload_type"].is_not_null().any() else "training, batch and embedding jobs left out (turn on the " \
        "toggle to include them)"
    st.caption(f"Requests entering each tier, sampling-adjusted; {batch}. Click a cell to list the traces of the "
               "requests it counts, slowest first.")
    if cell:
        st.button(f"Show all cells (now: {cell.tier} · {slow_state.cell_label(cell.value, cell.workload_type, by)})",
                  key="sre_clear_cell", on_click=_clear_cell, icon=":material/close:")
    return cell


def view() -> None:
    f = common.current()
    url = slow_state.parse({k: v for k in slow_state.KEYS if (v := common.from_url(k)) is not None})
    if _CELL not in st.session_state:
        st.session_state[_CELL] = url.cell
    if "sre_tab" not in st.session_state:
        st.session_state["sre_tab"] = url.tab
    if _CP_URL not in st.session_state:
        st.session_state[_CP_URL] = url.cp_workload
    st.title(HEADING)
    st.caption("Which tier, hop or site makes a request slow. All sidebar filters apply.")
    metric, by, batch = _controls(url)
    cells = heatmap_cells(f, by, metric, batch)
    if cells.height == 0:
        components.no_rows("requests")
        if f.workload and not batch:
            st.caption("A training, batch or embedding workload shows only with “Include batch and training” on.")
        _keep(metric, by, batch, None, None)
        return
    cell = _heatmap(cells, metric, by)
    hops = data.query("hops_by_tier_pair", {**f.window(), "workload": f.workload})
    slow = _traces(f, cell, by, batch)
    worst = cells.sort(metric, descending=True, nulls_last=True).row(0, named=True)
    items = [(f"slowest cell {percentile_name(metric)}", charts.fmt_ms(worst[metric]),
              f"{worst['tier']} · {worst['cell_label']}: the highest {percentile_name(metric)} request latency of "
              "any cell shown")]
    if hops.height:
        h = hops.sort("p95_ms", descending=True).row(0, named=True)
        items.append(("slowest hop p95", charts.fmt_ms(h["p95_ms"]), f"{h['from_tier']}→{h['to_tier']}"))
    if slow.height and cell:
        items.append(("slowest request in cell", charts.fmt_ms(slow["entry_ms"][0]), str(slow["workload"][0])))
    elif slow.height:
        items.append(("slowest trace", charts.fmt_ms(slow["duration_ms"][0]), str(slow["workload"][0])))
    components.kpi_row(items)
    _deep(f, cells, by, cell, slow, hops)
    _keep(metric, by, batch, cell, st.session_state.get(_CP_URL))


def _keep(metric: str, by: str, batch: bool, cell: Cell | None, cp: str | None) -> None:
    tab = st.session_state.get("sre_tab")
    v = SlowView(percentile_name(metric), by, batch, cell, tab if tab in TABS else TABS[0], cp)
    common.keep_in_url(v.to_query_params(), slow_state.KEYS)


def _traces(f: Filters, cell: Cell | None, by: str, batch: bool) -> pl.DataFrame:
    """The cell's traces (cell_traces: the requests it counts), else the slowest traces under the filters."""
    if cell is None:
        return data.query("slow_traces", {**f.scope(), "limit_count": 20,
                                          **({"workload_class": "all"} if batch else {})})
    return data.query("cell_traces", {**f.window(), "tier": cell.tier, "site": f.site, "workload": f.workload,
                                      by: cell.value, "by_site": "yes" if by == "site" else "no",
                                      "workload_type": cell.workload_type, "limit_count": 20})


def _over_time(f: Filters) -> None:
    over_time = data.narrowed("latency_over_time", {**f.scope(), "bucket": _bucket(f)})
    regressions = sre_sections.regressions(f)
    components.chart(charts.mark_regressions(charts.latency_over_time(over_time), regressions), "sre_over_time")
    if regressions.height:
        st.caption(f"{regressions.height} regressions (red ×): a workload's daily p95 in a tier above its rolling "
                   "median + 3×MAD baseline (query latency_regressions).")


def _workload(f: Filters, cells: pl.DataFrame, by: str) -> str | None:
    """The workload the critical path and the slow-path finder explain: the sidebar's by default (the heatmap's first
    without one); one picked here (or in the URL) stays until the sidebar's workload changes."""
    workloads = sorted({w for w in cells["workload"].to_list() if w and w != "(none)"}) if by == "workload" \
        else list(data.dimensions().workloads)
    if not workloads:
        return None
    default = f.workload if f.workload in workloads else workloads[0]
    if _CP_FOR in st.session_state and st.session_state[_CP_FOR] != f.workload:
        st.session_state[_CP_URL] = None  # the sidebar's workload changed: follow it
    st.session_state[_CP_FOR] = f.workload
    kept = st.session_state.get(_CP_URL)
    st.session_state["sre_cp_workload"] = kept if kept in workloads else default
    wl = str(st.selectbox("Workload", workloads, key="sre_cp_workload", on_change=_picked_cp, args=(default,),
                          help="Follows the sidebar's workload; pick another to compare."))
    return wl


def _picked_cp(default: str) -> None:
    chosen = st.session_state.get("sre_cp_workload")
    st.session_state[_CP_URL] = chosen if chosen != default else None


def _deep(f: Filters, cells: pl.DataFrame, by: str, cell: Cell | None, slow: pl.DataFrame,
          hops: pl.DataFrame) -> None:
    """The drill-down and the analyses, one tab each; only the open tab runs its queries and draws, so a filter change
    redraws the heatmap and that tab (the browser's redraw of each Plotly chart is most of a redraw's time). Clicking
    a heatmap cell opens its traces. The warm-up, with no reader, draws every tab."""
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
        SLOW_TRACES: lambda: sre_sections.slow_traces(f, cell, by, slow), "Over time": lambda: _over_time(f),
        "Hops": lambda: sre_sections.hops(hops), "Critical path": per_workload(sre_sections.critical_path),
        "Slow-path finder": per_workload(sre_sections.slow_path_finder),
        "Latency budgets": lambda: sre_sections.budgets(f), "GPU and queues": lambda: sre_sections.gpu(f, _bucket(f)),
        "Caches": lambda: sre_sections.caches(f), "Trust zones": lambda: sre_sections.trust_zones(f)}
    assert tuple(sections) == TABS
    for draw, tab in zip(sections.values(), st.tabs(list(sections), key="sre_tab", on_change="rerun"), strict=True):
        if components.drawn(tab):
            with tab, components.engine_gaps():
                draw()
