"""Overview page: every tier side by side (requests, p95, errors, cost) and the hops between them."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, components, data
from app.views import common

HEADING = "Estate overview"


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Device → edge → regional → hyperscale: what each tier serves, how fast, and what the calls "
               "between tiers cost in time and bytes. Time range and workload (hops) apply; a tier narrows the numbers "
               "to that tier and the hops into and out of it.")
    everywhere = data.query("latency_by_tier", f.window())
    tiers = everywhere.filter(tier=f.tier) if f.tier else everywhere
    if tiers.height == 0:
        components.no_rows("requests")
        return
    hops = data.query("hops_by_tier_pair", {**f.window(), "workload": f.workload})
    if f.tier:  # the calls into and out of the chosen tier
        hops = hops.filter((pl.col("from_tier") == f.tier) | (pl.col("to_tier") == f.tier))
    costs = data.query("cost_by_tier") if data.has_query("cost_by_tier") and data.status().state == "ok" else None
    if costs is not None and costs.height == 0:
        costs = None
    components.kpi_row([(f"{r['tier']} p95", charts.fmt_ms(r["p95_ms"]),
                         f"{r['requests']:,} requests · p50 {charts.fmt_ms(r['p50_ms'])} · "
                         f"errors {charts.fmt_pct(r['error_rate'])}")
                        for r in tiers.iter_rows(named=True)])
    components.chart(charts.tier_map(everywhere, hops, costs), "overview_map")
    left, right = st.columns(2)
    with left:
        components.chart(charts.tier_latency(tiers), "overview_latency")
    with right:
        if hops.height:
            components.chart(charts.hop_breakdown(hops), "overview_hops")
        else:
            components.no_rows("calls between tiers")
    numbers = st.expander("Numbers behind the charts", key="overview_numbers", on_change="rerun")
    if not numbers.open:  # the tables are drawn (and sent) only once the reader opens them
        return
    with numbers:
        components.table(tiers, "overview_tiers", "latency_by_tier.csv", "latency_by_tier (ms; error_rate 0–1)")
        components.table(hops, "overview_hops", "hops_by_tier_pair.csv", "hops_by_tier_pair (ms; bytes)")
        if costs is not None:
            components.table(costs, "overview_costs", "cost_by_tier.csv",
                             "cost_by_tier (USD over the whole ledger; not narrowed by the time range)")
