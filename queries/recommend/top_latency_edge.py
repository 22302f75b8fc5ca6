"""Rule: the top 20 % of latency-critical traffic served from regional or hyperscale are the first edge candidates."""

from __future__ import annotations

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import Evidence, Recommendation

NAME = "top_latency_edge"


def rule(ev: Evidence) -> list[Recommendation]:
    """Latency-critical workloads at risk (e2e p95 > 80 % of budget): their regional/hyperscale portions, by adjusted
    requests, until top_traffic_share of all such traffic is covered (the seed's phase 3)."""
    t = ev.thresholds
    at_risk = (ev.budgets.filter((pl.col("budget_ms") <= t.latency_critical_max_ms)
                                 & (pl.col("e2e_p95_ms") > 0.8 * pl.col("budget_ms")))["workload"].unique().to_list())
    critical = ev.inputs.filter(pl.col("budget_ms") <= t.latency_critical_max_ms)
    total = float(critical.group_by("workload").agg(pl.col("requests_adjusted").max())["requests_adjusted"].sum())
    far = (critical.filter(pl.col("workload").is_in(at_risk) & pl.col("tier").is_in(("regional", "hyperscale")))
           .sort("requests_adjusted", "workload", descending=[True, False]))
    out: list[Recommendation] = []
    covered = 0.0
    for r in far.iter_rows(named=True):
        if total <= 0 or (out and covered >= t.top_traffic_share):
            break
        covered += float(r["requests_adjusted"]) / total
        m = move(ev, r["workload"], r["tier"], "edge")
        reasons = [f"{r['requests_adjusted']:,.0f} requests/window in {r['tier']} with a {r['budget_ms']:.0f} ms budget",
                   f"{covered:.0%} of latency-critical traffic covered so far (phase 3 target {t.top_traffic_share:.0%})"]
        out.append(recommendation(m, NAME, reasons, 0.55))
    return out
