"""Executive ROI page: savings from recommended moves, latency wins, edge payback, cost per request and a what-if."""

from __future__ import annotations

import streamlit as st

from app import charts, charts_finops, components, data
from app.views import common
from queries.scorecard import FACTORS, TIERS

HEADING = "Executive ROI"


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("What the recommended placement moves are worth, what edge capacity pays back, and what a request "
               "costs. Figures cover the whole store; savings are per month. The workload filter seeds the what-if.")
    if data.query("cost_by_tier").height == 0:
        components.no_rows("billing rows")
        return
    headline = st.container()  # filled after the trend chart: the first chart never waits for the engine's run
    trend = data.query("unit_cost_by_day")
    if trend.height:
        components.chart(charts_finops.cost_per_request(trend), "exec_trend")
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
            ("Cost per 1k requests", charts.fmt_usd(trend["usd_per_1k_requests"][-1]) if trend.height else "–",
             "latest day with traffic"),
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
            components.table(trend, "exec_trend", "unit_cost_by_day.csv", "unit_cost_by_day (USD)")


def what_if_section(workload: str | None) -> None:
    """Pick a workload and a target tier; as the fragment `_what_if`, changing either reruns only this section."""
    st.subheader("What if a workload moved?")
    card = data.query("scorecard")
    workloads = tuple(sorted(card["workload"].unique().to_list()))
    if not workloads:
        components.no_rows("workloads with cost and traffic")
        return
    left, right = st.columns(2)
    pick = left.selectbox("Workload", workloads, index=workloads.index(workload) if workload in workloads else 0,
                          key="whatif_workload")
    target = right.selectbox("Target tier", TIERS, index=TIERS.index("edge"), key="whatif_tier")
    move = data.what_if(str(pick), str(target))
    if move.height == 0:
        st.info(f"{pick} has nothing outside {target} to move.")
        return
    m = move.row(0, named=True)
    components.kpi_row([("Moves", f"{m['from_tier']} → {m['to_tier']}", f"the {m['from_tier']} portion "
                         f"({m['traffic_share']:.0%} of its requests)"),
                        ("Δcost per month", charts_finops.fmt_delta_usd(m["delta_cost_usd_month"]),
                         f"{charts.fmt_usd(m['current_usd_month'])} → {charts.fmt_usd(m['projected_usd_month'])}"),
                        ("Δp95", f"{m['delta_p95_ms']:+,.0f} ms", "hop change from the caller + compute change")])
    portion = card.filter(workload=pick, from_tier=m["from_tier"])
    components.chart(charts_finops.scorecard_factors(portion, FACTORS, m["from_tier"], m["to_tier"]), "exec_whatif")
    components.table(move, "exec_move", "what_if.csv", "queries/whatif (USD per month; ms)")


_what_if = st.fragment(what_if_section)
