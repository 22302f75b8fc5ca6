"""Executive ROI page: savings from recommended moves, latency wins, edge payback, cost per request and a what-if."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, charts_finops, components, data, plain
from app.state import Filters
from app.views import common
from queries.scorecard import FACTORS
from queries.units import format_value
from store.contract import TIERS

HEADING = "Executive ROI"
AUTO = "auto"  # the what-if picks the portion to move (queries/whatif.default_from)


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("What the recommended placement moves are worth, what edge capacity pays back, and what a request "
               "costs. Savings and payback cover the whole store, per month; the cost per 1k requests follows every "
               "filter. The workload filter seeds the what-if.")
    if data.query("cost_by_tier").height == 0:
        components.no_rows("billing rows")
        return
    headline = st.container()  # filled after the trend chart: the first chart never waits for the engine's run
    latest = _trend(f)
    s = data.savings_summary().row(0, named=True)
    pay = data.edge_payback().row(0, named=True)
    months = pay["payback_months"]
    with headline:
        components.kpi_row([
            ("Projected savings / month", charts.fmt_usd(s["projected_savings_usd_month"]),
             f"cost cut by all {s['recommendations']} recommended moves (scorecard Δcost)"),
            ("Realised savings / month", charts.fmt_usd(s["realised_savings_usd_month"]),
             f"the {s['accepted']} accepted moves"),
            ("Latency wins", f"{s['latency_wins']} moves",
             f"the best cuts p95 by {charts.fmt_ms(s['best_p95_cut_ms'])}"),
            ("Edge payback", "never at today's use" if months is None else f"{months:,.0f} months",
             "edge hardware capex ÷ (cost edge avoids + value of moves to edge) per month"),
            ("Cost per 1k requests", latest, "effective cost ÷ requests, latest day with traffic, every filter"),
        ])
        st.markdown(
            f"Acting on every recommendation would cut **{charts.fmt_usd(s['projected_savings_usd_month'])} a month** "
            f"and is worth **{charts.fmt_usd(s['value_usd_month'])} a month** counting latency and compliance; "
            f"**{charts.fmt_usd(s['realised_savings_usd_month'])}** of the savings are in moves already accepted. "
            f"Edge hardware ({charts.fmt_usd(pay['edge_capex_usd'])}) "
            + ("does not pay back at today's use." if months is None else
               f"pays back in about **{months:,.0f} months**."))
    _what_if(f.workload)
    numbers = st.expander("Numbers behind the headline", key="exec_numbers", on_change="rerun")
    if numbers.open:  # drawn only when opened
        with numbers:
            components.table(data.savings_summary(), "exec_savings", "savings.csv",
                             "queries/savings.summary (USD/month)")
            components.table(data.edge_payback(), "exec_payback", "edge_payback.csv",
                             "queries/savings.edge_payback (USD)")


def what_if_section(workload: str | None) -> None:
    """Pick a workload, target tier and source portion; it opens on the top recommendation (for the workload filter,
    when set). As the fragment `_what_if`, changing a pick reruns only this section."""
    st.subheader("What if a workload moved?")
    card = data.query("scorecard")
    workloads = tuple(sorted(card["workload"].unique().to_list()))
    default = data.default_move(workload if workload in workloads else None)
    if not workloads or default is None:
        components.no_rows("workloads with a move the scorecard can price")
        return
    wl, to_tier, from_tier, to_site = default
    left, middle, right = st.columns(3)
    pick = left.selectbox("Workload", workloads, index=workloads.index(wl), key="whatif_workload",
                          on_change=_any_source)
    target = middle.selectbox("Target tier", TIERS, index=TIERS.index(to_tier), key="whatif_tier")
    sources = (AUTO, *TIERS)
    if st.session_state.get("whatif_from") not in sources:  # set here, not by index: the workload resets it
        st.session_state["whatif_from"] = from_tier or AUTO
    source = right.selectbox("From tier", sources, key="whatif_from",
                             format_func=lambda t: "its main serving tier" if t == AUTO else t)
    src = None if source == AUTO else str(source)
    site = to_site if (pick, target, src) == (wl, to_tier, from_tier) else None  # the recommendation's site
    priced = data.what_if(str(pick), str(target), src, site)
    if priced.move.height == 0:
        st.warning(f"Moving {plain.md(pick)} to {plain.md(target)} cannot be priced: {plain.md(priced.refusal)}.",
                   icon=":material/block:")
        return
    m = priced.move.row(0, named=True)
    where = f" at {m['to_site']}" if m["to_site"] else ""
    components.kpi_row([("Moves", f"{m['from_tier']} → {m['to_tier']}", f"the {m['from_tier']} portion "
                         f"({m['traffic_share']:.0%} of its requests){where}"),
                        ("Δcost per month", charts_finops.fmt_delta_usd(m["delta_cost_usd_month"]),
                         f"{charts.fmt_usd(m['current_usd_month'])} → {charts.fmt_usd(m['projected_usd_month'])}"),
                        ("Δp95", f"{m['delta_p95_ms']:+,.0f} ms", "hop change from the caller + compute change")])
    portion = card.filter(workload=pick, from_tier=m["from_tier"])
    components.chart(charts_finops.scorecard_factors(portion, FACTORS, m["from_tier"], m["to_tier"]), "exec_whatif")
    components.table(priced.move, "exec_move", "what_if.csv", "queries/whatif (USD per month; ms)")


def _any_source() -> None:
    """Another workload: its portions differ, so the move starts again from its main serving tier."""
    st.session_state["whatif_from"] = AUTO


_what_if = st.fragment(what_if_section)


def _trend(f: Filters) -> str:
    """Draw the daily cost per 1k requests (the model's, every filter applied) and return its latest value as text."""
    if not data.models_measures():  # ClickHouse: the registered query, whole store
        rows = data.query("unit_cost_by_day")
        if rows.height:
            components.chart(charts_finops.cost_per_request(rows), "exec_trend")
        return charts.fmt_usd(rows["usd_per_1k_requests"][-1]) if rows.height else "–"
    rows = data.metric(("cost_per_1k_requests",), ("time",), f.where(), f.start_ns, f.end_ns, grain="day")
    rows = rows.filter(pl.col("cost_per_1k_requests").is_not_null())
    latest = []
    for currency in rows["currency"].drop_nulls().unique().sort().to_list():
        part = rows.filter(pl.col("currency") == currency)
        components.chart(charts_finops.cost_per_request(part.with_columns(pl.col("time").dt.date()), "time",
                                                        "cost_per_1k_requests", currency), f"exec_trend_{currency}")
        latest.append(format_value(part["cost_per_1k_requests"][-1], "money", currency))
    return " + ".join(latest) or "–"
