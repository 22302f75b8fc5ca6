"""Overview page: every tier side by side (requests, latency, errors, cost) and the hops between them."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, components, data
from app.state import Filters
from app.views import common
from queries.semantic import present
from queries.units import format_value

HEADING = "Estate overview"
TIER_MEASURES = ("requests", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate_pct")


def tier_costs(frame: pl.DataFrame) -> dict[str, str]:
    """Tier → its effective cost as text, one amount per currency (never added across currencies)."""
    out: dict[str, dict[str, float]] = {}
    for r in frame.iter_rows(named=True):
        out.setdefault(r["tier"], {})[r["currency"]] = r["effective_cost"]
    return {t: charts.fmt_money(v) for t, v in out.items()}


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Device → edge → regional → hyperscale: what each tier serves, how fast, what it costs, and what the "
               "calls between tiers cost in time and bytes. Requests are entries into each tier; requests, calls and "
               "bytes are sampling-adjusted, and batch and training work is left out of requests. Costs are prorated "
               "to the time range. Every filter applies to the tiers, their costs and the calls' volume; the hop "
               "overhead (p50, p95) follows the time range, tier and workload, not the site.")
    if not data.models_measures():
        _clickhouse(f)
        return
    tiers = data.metric(TIER_MEASURES, ("tier",), f.where(), f.start_ns, f.end_ns)
    if tiers.height == 0:
        components.no_rows("requests")
        return
    hops = data.query("hops_by_tier_pair", {**f.window(), "workload": f.workload})
    if f.tier:  # the calls into and out of the chosen tier
        hops = hops.filter((pl.col("from_tier") == f.tier) | (pl.col("to_tier") == f.tier))
    costs = data.metric(("effective_cost",), ("tier",), f.where(), f.start_ns, f.end_ns)
    components.kpi_row([(f"{r['tier']} p95", format_value(r["latency_p95_ms"], "ms"),
                         f"{format_value(r['requests'], 'count')} requests · p50 "
                         f"{format_value(r['latency_p50_ms'], 'ms')} · errors {format_value(r['error_rate_pct'], 'pct')}")
                        for r in tiers.iter_rows(named=True)])
    flows = data.metric(("calls", "egress_gb_observed"), ("tier", "to_tier"), f.where(), f.start_ns, f.end_ns)
    volume = {(r["tier"], r["to_tier"]): (r["calls"], r["egress_gb_observed"]) for r in flows.iter_rows(named=True)}
    components.chart(charts.tier_map(tiers, hops, tier_costs(costs), volume), "overview_map")
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
        components.measure_table(tiers, ("tier",), "overview_tiers", "requests_latency_by_tier.csv",
                                 "Requests, latency and errors per tier (`tierwise metric "
                                 + ",".join(TIER_MEASURES) + " --by tier`)")
        components.table(hops, "overview_hops", "hops_by_tier_pair.csv", "hops_by_tier_pair (ms; bytes)")
        if costs.height:
            components.measure_table(present.with_totals(costs, ("tier",)), ("tier",), "overview_costs",
                                     "effective_cost_by_tier.csv",
                                     "Effective cost per tier, prorated to the time range (`tierwise metric "
                                     "effective_cost --by tier`)", download=costs)


def _clickhouse(f: Filters) -> None:
    """On ClickHouse the semantic model does not run yet: the per-span latency_by_tier query, labelled as such."""
    st.warning("On ClickHouse these figures come from the registered query latency_by_tier (server, consumer and root "
               "spans, unadjusted for sampling), not yet from the semantic model; the DuckDB store shows the model's.",
               icon=":material/info:")
    rows = data.query("latency_by_tier", f.window())
    rows = rows.filter(tier=f.tier) if f.tier else rows
    components.kpi_row([(f"{r['tier']} p95", format_value(r["p95_ms"], "ms"), f"{r['requests']:,} spans")
                        for r in rows.iter_rows(named=True)])
    components.chart(charts.tier_latency(rows.rename({"p50_ms": "latency_p50_ms", "p95_ms": "latency_p95_ms",
                                                      "p99_ms": "latency_p99_ms"})), "overview_latency")
    hops = data.query("hops_by_tier_pair", {**f.window(), "workload": f.workload})
    if hops.height:
        components.chart(charts.hop_breakdown(hops), "overview_hops")
