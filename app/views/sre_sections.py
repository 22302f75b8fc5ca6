"""The SRE analyses below the slow-path page's core: slow-path finder, budgets, GPU and queues, caches, trust zones."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, components, data, plain
from app.state import Filters
from app.views import common


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
