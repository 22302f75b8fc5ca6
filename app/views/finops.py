"""FinOps page: monthly cost by tier and a breakdown first (KPIs filled after), then lazy detail tabs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
import streamlit as st

from app import charts_costs, charts_finops, components, data
from app.state import Filters
from app.views import common, finops_checks, finops_costs, finops_month, sre_sections

HEADING = "FinOps: monthly costs"
DIMENSIONS = ("provider", "service", "site", "workload")


def _amounts(frame: pl.DataFrame, col: str, currencies: list[str] | None = None) -> dict[str, float]:
    return dict.fromkeys(currencies or [], 0.0) | {r["currency"]: r[col] for r in frame.iter_rows(named=True)}


def _kpi(label: str, amounts: dict[str, float], help_: str) -> tuple[str, str, str]:
    """A money KPI short enough for a laptop (259.8k USD), its exact amount first in the help."""
    return label, charts_costs.compact_money(amounts), f"{charts_costs.exact_money(amounts)}. {help_}"


def _usd(frame: pl.DataFrame, col: str) -> float:
    return float(frame[col].cast(pl.Float64).sum()) if frame.height else 0.0


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("What the estate costs, where the money goes and whether the bill ties out. EffectiveCost is what it "
               "cost after discounts and commitments; BilledCost is what the invoice says. The first three figures "
               "follow every filter: time range (each charge prorated by the share of its period inside it), tier, "
               "site and workload. The charts and tabs below say which filters they follow.")
    tiers = data.query("cost_by_tier")
    if tiers.height == 0:
        components.no_rows("billing rows")
        return
    kpis = st.container()  # filled after the charts: the first chart never waits for the KPI queries
    modelled = data.models_measures()
    ahead = pl.DataFrame() if modelled else data.query("cost_forecast", {"tier": f.tier, "workload": f.workload})
    per_month = finops_costs.months(f) if modelled else None
    left, right = st.columns(2)
    with left:
        if per_month is not None:
            finops_costs.months_chart(per_month)
        else:
            months = data.query("cost_month_over_month")
            months = (months.filter(tier=f.tier) if f.tier else months).select(
                pl.col("month").cast(pl.Datetime("us")).alias("time"), "tier",
                pl.col("effective_cost_usd").alias("effective_cost"))
            labels = {t: f"{t:%b %Y}" for t in months["time"].to_list()}
            components.chart(charts_finops.cost_by_period(months, labels, set(), "USD"), "finops_months")
    with right:
        if modelled:
            finops_month.section(f.where(), "finops_month", kpis=False)
        elif ahead.height:
            components.chart(charts_finops.forecast(ahead), "finops_forecast")
            month = ahead["as_of"].max()
            named = f"{month:%B %Y}" if isinstance(month, date) else "the latest billed month"
            st.caption(f"Forecast for {named}, the month the bills are in: tier and workload filters apply, the time "
                       "range does not.")
        else:
            components.no_rows("forecast")
    recon = data.query("cost_reconciliation")
    split = data.query("cost_by_workload_day")
    gpu = data.query("gpu_cost_vs_use", {"tier": f.tier})
    total = ahead.filter(tier="all") if ahead.height else ahead
    where, start, end = f.where(), f.start_ns, f.end_ns
    if data.models_measures():
        money = data.metric(("effective_cost", "billed_cost"), (), where, start, end)
        unallocated = data.metric(("effective_cost",), (), (*where, ("workload", "unallocated")), start, end)
    else:  # ClickHouse: the whole ledger from the registered queries, as the caption below says
        money = pl.DataFrame({"currency": ["USD"], "effective_cost": [_usd(tiers, "cost_usd")],
                              "billed_cost": [_usd(recon, "ledger_billed_usd")]})
        unallocated = pl.DataFrame({"currency": ["USD"], "effective_cost": [_usd(
            split.filter(category="unallocated"), "effective_cost_usd")]})
        st.caption("On ClickHouse the first three figures cover the whole ledger (registered queries); the semantic "
                   "model that applies every filter runs on the DuckDB store.")
    forecast = (finops_month.forecast_kpi(f.where()) if modelled else _kpi(
        "Month-end forecast", {"USD": _usd(total, "forecast_usd")} if total.height else {},
        "cost_forecast: month to date + remaining days × daily median; tier and workload filters"))
    with kpis:
        components.kpi_row([
            _kpi("EffectiveCost", _amounts(money, "effective_cost"),
                 "effective_cost: after discounts, every filter applied"),
            _kpi("BilledCost", _amounts(money, "billed_cost"), "billed_cost: what invoices charge, every filter applied"),
            _kpi("Unallocated", _amounts(unallocated, "effective_cost", money["currency"].to_list()),
                 "effective_cost of charges no workload could be linked to, every filter applied"),
            _kpi("Idle GPU", {"USD": _usd(gpu, "idle_usd")},
                 "gpu_cost_vs_use: allocated × (1 − utilization); tier filter only, whole ledger"),
            forecast,
            _kpi("Cache savings", {"USD": sre_sections.cache_saved_usd(data.query("cache_savings"))},
                 "cache_savings: what cache hits saved, whole store (details: Slow paths → Caches)"),
        ])
        st.caption("Idle GPU and cache savings cover the whole ledger (idle GPU follows the tier filter); the forecast "
                   "is for the month of the latest charge and follows every filter but the time range. Hover a figure "
                   "for its exact amount. For any range, grain and group-by, open the Cost explorer.")
    if per_month is not None:
        finops_costs.months_table(per_month)
        _model_breakdown(f)
    else:
        months = data.query("cost_month_over_month")
        first = ["month", "tier", "effective_cost_usd", "change_ratio", "daily_change_ratio", "covered_days"]
        components.table(months.select(*first, pl.exclude(first)), "finops_mom", "cost_month_over_month.csv",
                         "cost_month_over_month (USD; whole ledger)")
        _breakdown(f.tier)
    _more(f, gpu, split, recon)


def breakdown_section(tier: str | None) -> None:
    """Cost by one dimension; as the fragment `_breakdown`, picking another dimension reruns only this section."""
    detail = data.query("cost_by_month")
    if tier:
        detail = detail.filter(tier=tier)
    by = finops_costs.pick_breakdown(DIMENSIONS)
    totals = detail.group_by(by, "tier").agg(pl.col("effective_cost_usd").sum().alias("effective_cost"))
    components.chart(charts_finops.cost_by_dimension(totals, by, by, "USD"), "finops_by")
    components.table(detail, "finops_detail", "cost_by_month.csv",
                     "cost_by_month (USD; EffectiveCost and BilledCost per month, tier, provider, service, site, "
                     "workload)")


_breakdown = st.fragment(breakdown_section)
_model_breakdown = st.fragment(finops_costs.breakdown_section)


def _more(f: Filters, gpu: pl.DataFrame, split: pl.DataFrame, recon: pl.DataFrame) -> None:
    """The detail tabs; only the open one runs its queries (the warm-up, with no reader, runs them all)."""
    modelled = data.models_measures()
    sections: dict[str, Callable[[], None]] = {
        "Unit costs": (lambda: finops_costs.unit_costs_section(f)) if modelled else _unit_costs,
        "Egress": lambda: _egress(f, modelled), "GPU allocated vs used": lambda: _gpu(gpu, split),
        "Anomalies": finops_checks.anomalies_section if modelled else lambda: _anomalies(f.tier, f.workload),
        "Budgets": finops_checks.budgets_section if modelled else _duckdb_only,
        "Allocation": finops_checks.allocation_section,
        "Reconciliation": lambda: components.table(
            recon, "finops_recon", "cost_reconciliation.csv",
            "cost_reconciliation by billing period, whole ledger: an invoice tie-out, so no filter applies "
            "(BilledCost: source files vs ledger vs linked vs unallocated; USD)")}
    for draw, tab in zip(sections.values(), st.tabs(list(sections), key="finops_tab", on_change="rerun"), strict=True):
        if components.drawn(tab):
            with tab, components.engine_gaps():
                draw()


def _duckdb_only() -> None:
    st.info("Budgets are measured with the semantic model, which runs on the DuckDB store (`tierwise budgets`).")


def _unit_costs() -> None:
    rows = data.query("unit_costs_by_tier")
    latest = rows.filter(pl.col("month") == pl.col("month").max())
    if latest.height:
        components.chart(charts_finops.unit_costs(latest), "finops_units")
    components.table(rows, "finops_units", "unit_costs_by_tier.csv",
                     "unit_costs_by_tier (USD; requests and tokens sampling-adjusted)")


def _egress(f: Filters, modelled: bool) -> None:
    if modelled:
        finops_costs.egress_section(f)
    rows = data.query("egress_cost_by_direction")
    if rows.height:
        components.chart(charts_finops.egress(rows), "finops_egress")
    components.table(rows, "finops_egress", "egress_cost_by_direction.csv",
                     "egress_cost_by_direction, whole ledger: no filter applies (USD; quantity in consumed_unit)")
    traffic = data.query("egress_by_tier_pair_spans", {"workload": f.workload})
    components.table(traffic, "finops_traffic", "egress_by_tier_pair_spans.csv",
                     "egress_by_tier_pair_spans: bytes up (request) and down (response) between tiers, as "
                     "the spans see them (sampling-adjusted; GB = 1e9 bytes); workload filter only")


def _gpu(gpu: pl.DataFrame, split: pl.DataFrame) -> None:
    if gpu.height:
        components.chart(charts_finops.gpu_cost_vs_use(gpu), "finops_gpu")
    components.table(gpu, "finops_gpu", "gpu_cost_vs_use.csv",
                     "gpu_cost_vs_use (USD per host and day): tier filter only, whole ledger")
    components.table(split.filter(pl.col("category").is_in(["idle", "unallocated"])), "finops_idle",
                     "idle_unallocated.csv", "cost_by_workload_day, idle and unallocated categories (USD)")


def _anomalies(tier: str | None, workload: str | None) -> None:
    rows = data.query("cost_anomalies", {"tier": tier, "workload": workload})
    if rows.height:
        components.chart(charts_finops.anomalies(rows), "finops_anomalies")
    components.table(rows.filter(pl.col("anomalous")), "finops_anomalies", "cost_anomalies.csv",
                     "cost_anomalies, anomalous days only (USD; baseline = median of the previous days): tier and "
                     "workload filters apply, the time range does not")
