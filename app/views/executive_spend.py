"""Executive page, part one: total spend and its trend by month (a month still being billed marked to date), where it
goes by tier and top workloads, and the daily cost per 1k requests with a stated test for a weekly cycle. Every
amount is the semantic model's effective_cost (what `tierwise metric effective_cost` gives), in its own currency."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts_costs, charts_exec, charts_finops, components, data
from app.state import Filters
from app.views import finops_costs
from queries import weekly
from queries.units import format_value

TOP_WORKLOADS = 8


def spend(f: Filters) -> pl.DataFrame:
    """Effective cost per currency over the filters: the spend KPI (currency, effective_cost)."""
    return data.metric(("effective_cost",), (), f.where(), f.start_ns, f.end_ns).filter(
        pl.col("effective_cost").is_not_null())


def section(f: Filters) -> None:
    st.subheader("1. Spend and where it goes")
    if not data.models_measures():  # ClickHouse serves the registered queries only
        st.info("Spend by month, tier and workload comes from the semantic model, which runs on the DuckDB store.",
                icon=":material/info:")
        _unit_cost(f)
        return
    m = finops_costs.months(f)
    for currency in m.rows["currency"].drop_nulls().unique().sort().to_list():
        part = m.rows.filter(pl.col("currency") == currency)
        components.chart(charts_finops.cost_by_period(part, m.labels, set(m.partial), currency),
                         f"exec_months_{currency}")
    if m.partial:
        st.caption("Hatched bars are partial months: the bills (or the time range) start or stop inside them, so the "
                   "bar covers only the days its label names; the one marked \"to date\" is still being billed. Bars "
                   "start at zero.")
    by_tier = data.metric(("effective_cost",), ("tier",), f.where(), f.start_ns, f.end_ns)
    by_workload = data.metric(("effective_cost",), ("workload",), f.where(), f.start_ns, f.end_ns)
    for currency in by_tier["currency"].drop_nulls().unique().sort().to_list():
        left, right = st.columns(2)
        with left:
            components.chart(charts_exec.spend_bars(by_tier.filter(pl.col("currency") == currency), "tier", currency,
                                                    f"By tier ({currency})"), f"exec_tiers_{currency}")
        top = (by_workload.filter(pl.col("currency") == currency).sort("effective_cost", descending=True)
               .head(TOP_WORKLOADS))
        with right:
            components.chart(charts_exec.spend_bars(top, "workload", currency, f"Top {top.height} workloads "
                                                    f"({currency})"), f"exec_workloads_{currency}")
    _unit_cost(f)


def _unit_cost(f: Filters) -> None:
    """The daily cost per 1k requests (every filter), from zero, with the weekly test on it and on requests."""
    if not data.models_measures():  # ClickHouse: the registered query, whole store
        rows = data.query("unit_cost_by_day")
        if rows.height:
            components.chart(charts_finops.cost_per_request(rows), "exec_trend")
        return
    rows = data.metric(("cost_per_1k_requests",), ("time",), f.where(), f.start_ns, f.end_ns, grain="day")
    rows = rows.filter(pl.col("cost_per_1k_requests").is_not_null())
    traffic = data.metric(("requests",), ("time",), f.where(), f.start_ns, f.end_ns, grain="day")
    for currency in rows["currency"].drop_nulls().unique().sort().to_list():
        part = rows.filter(pl.col("currency") == currency).with_columns(pl.col("time").dt.date()).sort("time")
        components.chart(charts_finops.cost_per_request(part, "time", "cost_per_1k_requests", currency),
                         f"exec_trend_{currency}")
        latest = format_value(part["cost_per_1k_requests"][-1], "money", currency)
        notes = [f"Latest day with traffic ({part['time'][-1]:%Y-%m-%d}): {latest} per 1k requests (effective cost ÷ "
                 "requests, every filter)."]
        cycle = weekly.weekly(part["time"].to_list(), part["cost_per_1k_requests"].to_list())
        if cycle is not None:
            notes.append(cycle.text("The cost per 1k requests", f"{currency}"))
            load = (weekly.weekly([t.date() for t in traffic["time"].to_list()], traffic["requests"].to_list())
                    if traffic.height else None)
            if cycle.cycle and load is not None:
                notes.append(f"Requests per day average {load.weekend_mean:,.0f} at weekends and "
                             f"{load.weekday_mean:,.0f} on weekdays ({load.gap_pct:+.0f} %): the same bill spread over "
                             "fewer requests raises the cost of each." if load.gap_pct < -weekly.THRESHOLD_PCT else
                             f"Requests per day average {load.weekend_mean:,.0f} at weekends and "
                             f"{load.weekday_mean:,.0f} on weekdays ({load.gap_pct:+.0f} %).")
        st.caption(" ".join(notes))


def spend_kpi(f: Filters) -> tuple[str, str, str]:
    """(label, compact value, help with the exact amounts) of the spend over the filters."""
    if not data.models_measures():
        return ("Spend", "–", "the semantic model's effective_cost runs on the DuckDB store")
    rows = spend(f)
    amounts = {str(r["currency"]): float(r["effective_cost"]) for r in rows.iter_rows(named=True)}
    exact = charts_costs.exact_money(amounts)
    return ("Spend", charts_costs.compact_money(amounts),
            f"{exact}: effective cost over {f.describe()} (the semantic model's effective_cost, as `tierwise metric "
            "effective_cost` gives it), every filter applied")


def compact_signed(amount: float, currency: str) -> str:
    """A compact money change with its sign: +253.00 USD, −4.9k USD."""
    return ("+" if amount >= 0 else "−") + charts_costs.compact(abs(amount), currency)
