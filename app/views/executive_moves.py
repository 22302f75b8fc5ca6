"""Executive page, part two: the recommended moves ranked with Δcost, Δp95 and its range, evidence, confidence,
value, risks and status (the numbers of `tierwise recommend --format json`); realised against projected savings in
money, with the value of latency and compliance apart; and the edge payback with its formula and inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from app import charts_exec, charts_finops, components, data, plain
from queries import policy, savings
from queries import value as values
from queries.recommend import risks

# The moves table's columns (numbers as `tierwise recommend --format json` gives them, formatted with their units)
COLUMNS = ("#", "Move", "Δcost (USD/month)", "Δp95 (ms, range)", "Evidence", "Confidence", "Value beyond money",
           "Status")
RISK_COLUMNS = ("#", "Move", "What Δp95 rests on", "Downtime risk", "Trust", "Migration effort")


@dataclass(frozen=True)
class Moves:
    recs: pl.DataFrame          # recommend.as_frame rows, best first, with their status
    summary: dict[str, Any]     # queries/savings.summary's row (dismissed left out)
    payback: dict[str, Any]     # queries/savings.edge_payback's row over the moves not dismissed
    method: values.ValueMethod


def load() -> Moves:
    recs = data.recommendations()
    made = data.decided()
    keys = savings.rec_keys(recs) if recs.height else pl.lit("")
    status = {k: d.state for k, d in made.items()}
    recs = recs.with_columns(keys.alias("key")).with_columns(
        pl.col("key").replace_strict(status, default="open", return_dtype=pl.String).alias("status"))
    kept = recs.filter(pl.col("status") != "dismissed")
    pay = savings.edge_payback(data.query("scorecard"), data.query("edge_capex"), kept).row(0, named=True)
    return Moves(recs, data.savings_summary().row(0, named=True), pay, values.configured())


def signed_usd(v: float) -> str:
    return charts_finops.fmt_delta_usd(v)


def p95_text(mid: float, low: float, high: float) -> str:
    """Δp95 with its range: −187 ms (−187 to −130)."""
    return f"{mid:+,.0f} ms" if round(low) == round(high) else f"{mid:+,.0f} ms ({low:+,.0f} to {high:+,.0f})"


def value_text(r: dict[str, Any]) -> str:
    """The gains beyond money: priced with the [value] method, else in ms and requests (never an unexplained $)."""
    beyond = float(r["value_usd_month"]) + float(r["delta_cost_usd_month"])  # value = −Δcost + priced gains
    note = str(r["value_note"])
    if abs(beyond) >= 0.005:
        return f"{beyond:,.2f} USD/month: {note}"
    return note


def move_label(r: dict[str, Any]) -> str:
    site = f" at {r['to_site']}" if r.get("to_site") else ""
    return f"{r['workload']}: {r['from_tier']} → {r['to_tier']}{site} ({r['rule']})"


def moves_frame(recs: pl.DataFrame) -> pl.DataFrame:
    """The ranked moves as the page shows them (text with units)."""
    rows = [{"#": str(i + 1), "Move": move_label(r), "Δcost (USD/month)": signed_usd(float(r["delta_cost_usd_month"])),
             "Δp95 (ms, range)": p95_text(r["delta_p95_ms"], r["delta_p95_ms_low"], r["delta_p95_ms_high"]),
             "Evidence": str(r["evidence"]), "Confidence": f"{float(r['confidence']):.0%}",
             "Value beyond money": value_text(r), "Status": str(r["status"])}
            for i, r in enumerate(recs.iter_rows(named=True))]
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))


def risks_frame(recs: pl.DataFrame) -> pl.DataFrame:
    """What each move's Δp95 rests on, and its risks: downtime, trust, migration effort."""
    found = risks.table(recs, data.query("scorecard"), data.query("scorecard_inputs"), policy.configured())
    rows = []
    for i, (r, k) in enumerate(zip(recs.iter_rows(named=True), found.iter_rows(named=True), strict=True)):
        rests = next((x.removeprefix("Δp95 rests on: ") for x in str(r["reasons"]).split("; ")
                      if x.startswith("Δp95 rests on: ")), str(r["evidence"]))
        rows.append({"#": str(i + 1), "Move": move_label(r), "What Δp95 rests on": f"{r['evidence']}: {rests}",
                     "Downtime risk": k["downtime"], "Trust": k["trust"], "Migration effort": k["migration"]})
    return pl.DataFrame(rows, schema=dict.fromkeys(RISK_COLUMNS, pl.String))


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """A table whose cells st.table shows as written: it renders Markdown in cells, and workload names, reasons and
    sites come from telemetry (plain.md escapes them)."""
    return frame.with_columns(pl.col(c).map_elements(plain.md, return_dtype=pl.String) for c in frame.columns)


def section(m: Moves) -> None:
    st.subheader("2. The moves, ranked")
    if m.recs.height == 0:
        components.no_rows("recommended moves")
        return
    st.caption("Ranked by value: money saved (−Δcost) plus the gains the [value] method prices. "
               + m.method.describe() + ". A gain the method does not price adds nothing to the rank and is given in "
               "ms of p95 or requests instead; a compliance fix ranks by its money unless compliance is priced. "
               "Δcost is the scorecard's target minus current, USD per 730-hour month; Δp95 is for the moved portion, "
               "with the range between the observed and the assumed estimate.")
    st.table(_as_text(moves_frame(m.recs)))
    st.markdown("**What each estimate rests on, and the risks**")
    st.table(_as_text(risks_frame(m.recs)))
    st.caption("Downtime risk: the scorecard's (1 − SLA of the target) × 730 h × the cost of an hour down. Trust: the "
               "portion's data class against [trust_zones]. Migration effort: the kind of change; no effort estimate "
               "is made. Status: accept or dismiss on the Recommendations page.")
    download = m.recs.drop("key")
    st.download_button("Download the moves (CSV)", download.write_csv(), file_name="moves.csv", mime="text/csv",
                       key="exec_moves_csv", icon=":material/download:")


def realised_section(m: Moves) -> None:
    st.subheader("3. Realised versus projected")
    s = m.summary
    dismissed = m.recs.filter(pl.col("status") == "dismissed")
    left_out = float((-dismissed["delta_cost_usd_month"]).clip(lower_bound=0).sum()) if dismissed.height else 0.0
    realised, projected = float(s["realised_savings_usd_month"]), float(s["projected_savings_usd_month"])
    components.chart(charts_exec.savings_bars(realised, projected - realised, left_out), "exec_savings_bars")
    accepted = int(s["accepted"])
    st.markdown(
        f"Money: **{projected:,.2f} USD/month** projected from the {int(s['recommendations'])} moves not dismissed "
        f"that lower cost, of which **{realised:,.2f} USD/month** realised in the {accepted} accepted "
        f"move{'s' if accepted != 1 else ''}; dismissed moves ({left_out:,.2f} USD/month) are left out.")
    kept = m.recs.filter(pl.col("status") != "dismissed")
    st.markdown("Value beyond money, apart from the savings: " + _beyond(kept, m.method))
    st.markdown(f"**Edge payback** (money only): {plain.md(savings.payback_formula(m.payback))}")
    gains = m.payback.get("edge_moves_value_usd_month") or 0.0
    if gains:
        st.caption(f"The moves to edge are also worth {gains:,.2f} USD/month in priced latency and compliance "
                   "([value]); that value is not money and does not shorten the payback.")


def _beyond(kept: pl.DataFrame, method: values.ValueMethod) -> str:
    """The gains of the moves not dismissed, in their units, and in USD when [value] prices them."""
    ms = kept.filter(pl.col("value_ms_p95_saved") > 0)
    zone = float(kept["value_requests_into_zone_per_month"].sum()) if kept.height else 0.0
    parts = []
    if ms.height:
        best = ms.sort("value_ms_p95_saved", descending=True).row(0, named=True)
        parts.append(f"{ms.height} move{'s' if ms.height != 1 else ''} cut the p95 of latency-critical workloads, "
                     f"the most {best['value_ms_p95_saved']:,.0f} ms ({plain.md(best['workload'])})")
    if zone:
        parts.append(f"{zone:,.0f} regulated requests per month brought into their trust zone")
    priced = float((kept["value_usd_month"] + kept["delta_cost_usd_month"]).sum()) if kept.height else 0.0
    if not parts:
        return "none: no move cuts a latency-critical p95 or ends a trust-zone violation."
    money = (f"; priced by [value] at {priced:,.2f} USD/month" if priced else
             "; not priced in money (set [value] in tierwise.toml to price it: "
             + ", ".join(values.KEYS) + ")")
    return "; ".join(parts) + money + "."
