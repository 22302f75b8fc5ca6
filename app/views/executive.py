"""Executive ROI page, top-down: spend and where it goes, the moves ranked with their evidence and risks, realised
against projected savings with value apart from money, and a what-if on the same estimator."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, charts_costs, charts_finops, components, data, plain
from app.state import Filters
from app.views import common, executive_moves, executive_spend
from queries import savings
from queries import value as values
from queries.recommend import Thresholds
from queries.recommend import engine as rec_engine
from queries.scorecard import FACTORS
from store.contract import TIERS

HEADING = "Executive ROI"
AUTO = "auto"  # the what-if picks the portion to move (queries/whatif.default_from)


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Top-down: what the estate spends and where it goes, the placement moves that would change it with "
               "what each rests on and risks, what is already realised, and a what-if. Spend follows every filter, in "
               "each bill's currency; moves, savings and payback cover the whole store, in USD per 730-hour month.")
    if data.query("cost_by_tier").height == 0:
        components.no_rows("billing rows")
        return
    headline = st.container()  # filled after the spend charts: the first chart never waits for the engine's run
    executive_spend.section(f)
    moves = executive_moves.load()
    with headline:
        _headline(f, moves)
    executive_moves.section(moves)
    executive_moves.realised_section(moves)
    _what_if(f.workload)
    numbers = st.expander("Numbers behind the headline", key="exec_numbers", on_change="rerun")
    if numbers.open:  # drawn only when opened
        with numbers:
            components.table(data.savings_summary(), "exec_savings", "savings.csv",
                             "queries/savings.summary (USD/month)")
            components.table(pl.DataFrame([moves.payback]), "exec_payback", "edge_payback.csv",
                             "queries/savings.edge_payback (USD; months)")


def _headline(f: Filters, m: executive_moves.Moves) -> None:
    s, pay = m.summary, m.payback
    months = pay["payback_months"]
    compact = charts_costs.compact
    components.kpi_row([
        executive_spend.spend_kpi(f),
        ("Projected savings / month", compact(s["projected_savings_usd_month"], "USD"),
         f"{charts.fmt_usd(s['projected_savings_usd_month'])} per month: the money cut by the "
         f"{s['recommendations']} recommended moves not dismissed that lower cost (scorecard Δcost); money only"),
        ("Realised savings / month", compact(s["realised_savings_usd_month"], "USD"),
         f"{charts.fmt_usd(s['realised_savings_usd_month'])} per month: the {s['accepted']} accepted moves"),
        ("Edge payback", "never" if months is None else f"{months:,.0f} months",
         "money only: " + savings.payback_formula(pay)),
    ])
    st.markdown(
        f"Acting on every recommended move not dismissed would cut **{charts.fmt_usd(s['projected_savings_usd_month'])}"
        f" a month**; **{charts.fmt_usd(s['realised_savings_usd_month'])}** of it is in moves already accepted. "
        "Latency and compliance gains are shown apart from the money (section 3), priced only by the [value] method.")


def what_if_section(workload: str | None) -> None:
    """Pick a workload, target tier and source portion; it opens on the top recommendation (for the workload filter,
    when set). As the fragment `_what_if`, changing a pick reruns only this section."""
    st.subheader("4. What if a workload moved?")
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
    rec = _recommended(m)
    if m["refusal"]:
        st.error(f"**Not allowed.** Moving {plain.md(pick)}'s {plain.md(m['from_tier'])} portion to "
                 f"{plain.md(target)} breaks the seed's framework: {plain.md(m['refusal'])}. The numbers below are "
                 "priced for reference only; no recommendation proposes this move.", icon=":material/block:")
    else:
        st.caption("Allowed by the seed's framework (workload type, trust zone, who calls the portion)"
                   + (f"; recommended move #{rec[0] + 1} ({plain.md(rec[1])})." if rec else
                      "; no recommendation proposes it."))
    worth = _worth(m, rec[1] if rec else None)
    where = f" at {m['to_site']}" if m["to_site"] else ""
    low, high = m["delta_p95_ms_low"], m["delta_p95_ms_high"]
    st.metric("Moves", f"{m['from_tier']} → {m['to_tier']}",  # a row of its own: tier names are long
              help=plain.md(f"the {m['from_tier']} portion ({m['traffic_share']:.0%} of its requests){where}"))
    components.kpi_row([("Δcost per month", executive_spend.compact_signed(m["delta_cost_usd_month"], "USD"),
                         f"{charts_finops.fmt_delta_usd(m['delta_cost_usd_month'])} per month (money): "
                         f"{charts.fmt_usd(m['current_usd_month'])} → {charts.fmt_usd(m['projected_usd_month'])}"),
                        ("Δp95", f"{m['delta_p95_ms']:+,.0f} ms", f"range {low:+,.0f} to {high:+,.0f} ms; hop change "
                         "from the caller + compute change"),
                        ("Evidence", str(m["evidence"]), m["evidence_note"])])
    st.markdown(f"Δp95 **{executive_moves.p95_text(m['delta_p95_ms'], low, high)}**, {plain.md(m['evidence'])}: "
                f"{plain.md(m['evidence_note'])}. Value beyond money: {plain.md(worth.note())}.")
    portion = card.filter(workload=pick, from_tier=m["from_tier"])
    components.chart(charts_finops.scorecard_factors(portion, FACTORS, m["from_tier"], m["to_tier"]), "exec_whatif")
    shown = priced.move.with_columns(pl.col(c).cast(pl.String).fill_null("–") for c, t in priced.move.schema.items()
                                     if t in (pl.String, pl.Null))
    components.table(shown, "exec_move", "what_if.csv",
                     "queries/whatif (USD per month; ms)")


def _recommended(m: dict[str, object]) -> tuple[int, str] | None:
    """(rank, rule) of the recommendation that proposes this move, else None."""
    recs = data.recommendations().with_row_index("rank")
    hit = recs.filter((pl.col("workload") == m["workload"]) & (pl.col("from_tier") == m["from_tier"])
                      & (pl.col("to_tier") == m["to_tier"]))
    return (int(hit["rank"][0]), str(hit["rule"][0])) if hit.height else None


def _worth(m: dict[str, object], rule: str | None) -> values.Worth:
    """The move's gains by the recommendations' own method (a recommended move's equal its card's)."""
    return rec_engine.move_value(str(m["workload"]), str(m["from_tier"]), rule, float(str(m["delta_cost_usd_month"])),
                                 float(str(m["delta_p95_ms"])), float(str(m["traffic_share"])),
                                 data.query("scorecard_inputs"), Thresholds(value=values.configured()))


def _any_source() -> None:
    """Another workload: its portions differ, so the move starts again from its main serving tier."""
    st.session_state["whatif_from"] = AUTO


_what_if = st.fragment(what_if_section)
