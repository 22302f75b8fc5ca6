"""Recommendations page: the engine's ranked moves with reasons, evidence links and remembered accept/dismiss."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from app import charts, charts_finops, components, data, plain
from app.views import common
from queries import decisions

HEADING = "Recommendations"


def _link(page: str, **params: str | None) -> str:
    return f"{page}?" + urlencode({k: v for k, v in params.items() if v})


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Placement moves the rules found in the store, most valuable first: value = money saved per month, "
               "plus latency saved on latency-critical work, plus ending trust-zone violations. Accept or dismiss "
               "each; the choice is kept beside the store. The workload filter narrows the list.")
    recs = data.recommendations()
    if f.workload:
        recs = recs.filter(workload=f.workload)
    if recs.height == 0:
        components.no_rows("recommendations")
        return
    components.chart(charts_finops.recommendation_values(recs), "recs_values")
    made = data.decided()
    for i, r in enumerate(recs.iter_rows(named=True)):
        _card(i, r, made)
    components.table(recs, "recs", "recommendations.csv",
                     "recommend engine (Δp95 in ms; Δcost and value in USD per month; confidence 0–1)")


def _card(i: int, r: dict[str, object], made: dict[str, decisions.Decision]) -> None:
    workload, src, dst = str(r["workload"]), str(r["from_tier"]), str(r["to_tier"])
    key = decisions.key(workload, src, dst, str(r["rule"]))
    done = made.get(key)
    with st.container(border=True):
        head, state = st.columns([4, 1])
        # workload names (and the reasons quoting them) come from telemetry: text, never Markdown or HTML
        head.markdown(f"**{i + 1}. {plain.md(workload)}: {plain.md(src)} → {plain.md(dst)}** ({plain.md(r['rule'])})")
        state.markdown(f":{'green' if done.state == 'accepted' else 'gray'}-badge[{done.state}]" if done
                       else ":blue-badge[open]")
        cost, p95, value, sure = (float(str(r[k])) for k in ("delta_cost_usd_month", "delta_p95_ms",
                                                             "value_usd_month", "confidence"))
        components.kpi_row([("Δcost per month", charts_finops.fmt_delta_usd(cost), "scorecard: target minus current"),
                            ("Δp95", f"{p95:+,.0f} ms", "hop change from the caller + compute change"),
                            ("Value per month", charts.fmt_usd(value),
                             "the ranking value: money saved plus the gains [value] in tierwise.toml prices"),
                            ("Confidence", f"{sure:.0%}", None)])
        st.markdown("\n".join(f"- {plain.md(reason)}" for reason in str(r["reasons"]).split("; ")))
        st.markdown(f"Evidence: [slow paths]({_link('slow-paths', workload=workload, tier=src)}) · "
                    f"[FinOps]({_link('finops', workload=workload, tier=src)}) · "
                    f"[what-if]({_link('executive', workload=workload)})")
        accept, dismiss, _ = st.columns([1, 1, 4])
        # Callbacks record before the page reruns, so the rerun draws the decision (and any notice) once.
        accept.button("Accept", key=f"accept_{i}", disabled=bool(done and done.state == "accepted"),
                      on_click=data.decide, args=(key, "accepted"))
        dismiss.button("Dismiss", key=f"dismiss_{i}", disabled=bool(done and done.state == "dismissed"),
                       on_click=data.decide, args=(key, "dismissed"))

