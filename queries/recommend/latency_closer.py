"""Rule: latency-critical work whose p95 misses its budget mostly through network time moves one tier closer."""

from __future__ import annotations

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import TIER_ORDER, Evidence, Recommendation

NAME = "latency_closer"


def rule(ev: Evidence) -> list[Recommendation]:
    """Per over-budget workload: if hops are ≥ network_share_min of its p95 path and the largest component is a hop
    a→b, move b's portion to the closest tier beyond a (device callers → edge)."""
    t = ev.thresholds
    missed = (ev.budgets.filter(~pl.col("e2e_meets_budget") & (pl.col("budget_ms") <= t.latency_critical_max_ms))
              .unique("workload", keep="first").sort("workload"))
    out = []
    for b in missed.iter_rows(named=True):
        p95 = ev.shares.filter((pl.col("workload") == b["workload"]) & (pl.col("percentile") == "p95"))
        if not p95.height:
            continue
        hop_share = float(p95.filter(pl.col("part") == "hop")["share_pct"].sum()) / 100
        top = p95.sort("share_pct", descending=True).row(0, named=True)
        if hop_share < t.network_share_min or top["part"] != "hop" or "→" not in top["component"]:
            continue
        a, far = top["component"].split("→", 1)
        closer = [x for x, k in sorted(TIER_ORDER.items(), key=lambda kv: kv[1])
                  if TIER_ORDER.get(a, -1) < k < TIER_ORDER.get(far, -1)]
        if not closer:
            continue
        m = move(ev, b["workload"], far, closer[0])
        reasons = [f"end-to-end p95 {b['e2e_p95_ms']:.1f} ms exceeds the {b['budget_ms']:.0f} ms budget",
                   f"hops are {hop_share:.0%} of the p95 critical path; {top['component']} alone {top['share_pct']:.1f} %",
                   f"{a}→{far} hop p95 {m.hop_p95_now_ms:.1f} ms; {a}→{closer[0]} observed {m.hop_p95_after_ms:.1f} ms",
                   f"{m.traffic_share:.1%} of the workload's requests run in {far}"]
        confidence = 0.5 + hop_share / 2 - (0.2 if int(top["traces"]) < 20 else 0.0)
        out.append(recommendation(m, NAME, reasons, confidence))
    return out
