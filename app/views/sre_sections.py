"""The SRE analyses below the slow-path page's core: the slow traces (of a clicked cell), hops, critical path,
regressions, slow-path finder, budgets, GPU and queues, caches, trust zones."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, components, data, plain, slow_state
from app.slow_state import Cell
from app.state import Filters
from app.views import common


def slow_traces(f: Filters, cell: Cell | None, by: str, slow: pl.DataFrame) -> None:
    """The clicked cell's traces (query cell_traces), else the slowest traces under the filters (slow_traces)."""
    if cell is None:
        st.subheader("Example slow traces")
        if not f.workload:
            st.caption("The 20 slowest traces by end-to-end time, interactive workloads only unless batch and training "
                       "are included above; click a heatmap cell for the traces of its requests.")
        _table(slow, f, ("open", "workload", "root_tier", "site", "root_operation", "duration_ms", "spans", "tiers",
                         "status_code", "trace_id"))
        return
    where = slow_state.cell_label(cell.value, cell.workload_type, by)
    st.subheader(f"Traces with a request in {plain.md(cell.tier)} · {plain.md(where)}")
    st.caption(f"A trace is listed when it has a request entering {plain.md(cell.tier)} for {by} {plain.md(cell.value)} "
               "(the requests this cell counts: query cell_traces), the 20 with the slowest such request first. "
               "Request is that span's own duration; end to end is the whole trace's.")
    _table(slow, f, ("open", "workload", "site", "entry_service", "entry_operation", "entry_ms", "duration_ms",
                     "root_operation", "root_tier", "entries", "spans", "tiers", "trace_id"))


def _table(slow: pl.DataFrame, f: Filters, columns: tuple[str, ...]) -> None:
    if slow.height == 0:
        components.no_rows("traces")
        return
    links = slow.with_columns(pl.Series("open", [common.trace_link(t, f) for t in slow["trace_id"]]))
    ms = {c: st.column_config.NumberColumn(label, format="%.1f")
          for c, label in (("duration_ms", "end to end (ms)"), ("entry_ms", "request (ms)"))}
    components.table(links.select(columns), "sre_slow", "slow_traces.csv",
                     column_config={"open": st.column_config.LinkColumn("trace", display_text="open ↗"), **ms,
                                    "entries": st.column_config.NumberColumn("requests in cell", format="%d")},
                     download=slow)


def hops(rows: pl.DataFrame) -> None:
    st.subheader("Hops: network versus compute")
    if rows.height:
        components.chart(charts.hop_breakdown(rows), "sre_hops")
    else:
        components.no_rows("calls between tiers")


def critical_path(f: Filters, wl: str) -> None:
    # narrowed from the all-workload result (the query guarantees they are equal), so picking a workload or a filter
    # that changes the default one reruns nothing
    shares = data.narrowed("critical_path_shares", {**f.window(), "workload": wl}, by="workload")
    if shares.height == 0:
        components.no_rows("traces with a root span")
        return
    e2e = {r["percentile"]: r["e2e_ms"] for r in shares.select("percentile", "e2e_ms").unique().iter_rows(named=True)}
    st.caption(" · ".join(f"{p} traces: {charts.fmt_ms(v)} end to end" for p, v in sorted(e2e.items())))
    components.chart(charts.critical_share(shares), "sre_critical")


def regressions(f: Filters) -> pl.DataFrame:
    """Regressed (workload, tier, day) rows inside the window, to mark on the latency chart."""
    rows = data.narrowed("latency_regressions", {"workload": f.workload, "tier": f.tier},
                         by=("tier", "workload")).filter(pl.col("regressed"))
    if f.start:
        rows = rows.filter(pl.col("day") >= f.start)
    if f.end:
        rows = rows.filter(pl.col("day") <= f.end)
    return rows


def slow_path_finder(f: Filters, workload: str) -> None:
    st.subheader(f"Slow-path finder: {plain.md(workload)}")
    gap = data.narrowed("slow_path", {**f.window(), "workload": workload}, by="workload")
    attrs = data.query("slow_attributes", {**f.window(), "workload": workload})
    if gap.height == 0:
        components.no_rows("traces for this workload")
        return
    left, right = st.columns(2)
    with left:
        components.chart(charts.slow_path_gap(gap), "sre_gap")
    with right:
        st.caption("Attribute values over-represented in slow traces (end to end above the p90), by lift "
                   "(share among slow ÷ share among the rest).")
        components.table(attrs.select("attribute", "value", "lift", "share_slow", "share_typical", "slow_traces",
                                      "threshold_ms"), "sre_attrs", f"slow_attributes-{workload}.csv")


def budgets(f: Filters) -> None:
    rows = data.query("latency_budgets", f.window())
    if f.workload:
        rows = rows.filter(pl.col("workload") == f.workload)
    st.subheader("Latency budgets")
    if rows.height == 0:
        components.no_rows("workloads with a budget")
        return
    missed = rows.filter(~pl.col("meets_budget"))
    st.caption(f"{missed.height} of {rows.height} workload × tier rows miss their p95 budget.")
    components.table(rows, "sre_budgets", "latency_budgets.csv")


def gpu(f: Filters, bucket: str) -> None:
    st.subheader("GPU utilization and queue depth")
    util = data.query("gpu_utilization_by_node", {**f.window(), "tier": f.tier, "site": f.site, "bucket": bucket})
    if util.height == 0:
        components.no_rows("GPU metrics (ingest the estate's metrics/ folder)")
        return
    components.chart(charts.gpu_utilization(util), "sre_gpu")
    starved = data.query("gpu_starvation", {**f.window(), "tier": f.tier, "site": f.site, "bucket": bucket})
    st.caption(f"{starved.height} host × {bucket} buckets where GPUs sat mostly idle while the queue was deep.")
    if starved.height:
        components.table(starved, "sre_starved", "gpu_starvation.csv")


def caches(f: Filters) -> None:
    st.subheader("Cache hit rates")
    scope = {**f.window(), "tier": f.tier, "workload": f.workload}
    rows = data.query("cache_hit_rate", scope)
    if rows.height == 0:
        components.no_rows("cache lookups")
        return
    components.chart(charts.cache_hits(rows), "sre_cache")
    saved = data.query("cache_savings", scope)
    components.kpi_row([
        ("Cache savings", charts.fmt_usd(cache_saved_usd(saved)),
         "cache_savings: adjusted hits × (mean cost of a miss request − of a hit request), in the time range"),
        ("Cache hits", f"{saved['hits_adjusted'].sum():,.0f}", "sampling-adjusted hits in the time range")])
    components.table(saved, "sre_cache_savings", "cache_savings.csv",
                     "cache_savings per tier, workload and cache (USD; *_request_usd is the mean cost of one request "
                     "with a hit or a miss; hits_adjusted in requests)",
                     column_config={"hits_adjusted": st.column_config.NumberColumn(format="%.0f"),
                                    "hit_request_usd": st.column_config.NumberColumn(format="$%.4f"),
                                    "miss_request_usd": st.column_config.NumberColumn(format="$%.4f"),
                                    "cost_saved_usd": st.column_config.NumberColumn(format="$%.2f")})


def cache_saved_usd(saved: pl.DataFrame) -> float:
    """Money the caches saved: the sum of cache_savings' cost_saved_usd (a cache with no misses or no hits adds 0)."""
    return float(saved["cost_saved_usd"].fill_null(0).sum()) if saved.height else 0.0


def trust_zones(f: Filters) -> None:
    st.subheader("Trust-zone crossings")
    rows = data.query("trust_zone_violations", f.window())
    if f.workload:
        rows = rows.filter(pl.col("workload") == f.workload)
    if rows.height == 0:
        st.success("No span ran in a tier its data class may not reach.")
        return
    st.error(f"{rows.height} workload × data class × tier combinations ran outside their trust zone "
             "(policy: tierwise.toml [trust_zones]).")
    first = [ids.split(",")[0] if ids else "" for ids in rows["example_trace_ids"]]
    shown = rows.with_columns(pl.Series("example", [common.trace_link(t, f) if t else None for t in first]))
    components.table(shown.select("example", "workload", "data_class", "tier", "allowed_tiers", "spans", "traces",
                                  "sites", "first_seen", "last_seen"), "sre_zones", "trust_zone_violations.csv",
                     column_config={"example": st.column_config.LinkColumn("trace", display_text="open ↗")},
                     download=rows)
