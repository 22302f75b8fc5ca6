"""Rule: regulated or confidential processing outside its trust zone moves inward to an allowed tier."""

from __future__ import annotations

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import TIER_ORDER, Evidence, Recommendation

NAME = "trust_inward"


def rule(ev: Evidence) -> list[Recommendation]:
    """Per violation: move that tier's portion to the farthest allowed tier the workload already runs in."""
    out = []
    for v in ev.violations.sort("workload", "tier").iter_rows(named=True):
        allowed = [x for x in str(v["allowed_tiers"] or "").split(",") if x in TIER_ORDER]
        if not allowed:
            continue
        present = set(ev.inputs.filter(pl.col("workload") == v["workload"])["tier"].to_list())
        ranked = sorted(allowed, key=lambda x: (x in present, TIER_ORDER[x]), reverse=True)
        target = ranked[0]
        site = ev.inputs.filter((pl.col("workload") == v["workload"]) & (pl.col("tier") == target))["site"]
        m = move(ev, v["workload"], v["tier"], target, str(site[0]) if site.len() and site[0] else None)
        reasons = [f"{v['spans']} spans in {v['traces']} traces of {v['data_class']} data ran in {v['tier']}"
                   f" ({v['sites']}); allowed: {v['allowed_tiers']}",
                   f"{m.traffic_share:.1%} of the workload's requests; {target} already serves it" if target in present
                   else f"{m.traffic_share:.1%} of the workload's requests"]
        out.append(recommendation(m, NAME, reasons, 0.9))
    return out
