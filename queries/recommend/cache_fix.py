"""Rule: a cache with a low hit rate on repeatable prompts gets a CDN or semantic cache fix in front of its origin."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import TIER_ORDER, Evidence, Recommendation

NAME = "semantic_cache"
TARGET_HIT = 0.45  # the hit rate a healthy semantic cache reached on the seed's public chat


def rule(ev: Evidence) -> list[Recommendation]:
    """Per cache below cache_hit_min: the workload's farthest portion (the origin misses fall to) is served from the
    cache tier instead for (TARGET_HIT − hit) of its traffic; Δp95 is that share of the miss−hit p50 gap."""
    low = ev.cache.filter((pl.col("lookups") > 0) & (pl.col("hit_ratio") < ev.thresholds.cache_hit_min))
    out = []
    for c in low.sort("workload", "tier").iter_rows(named=True):
        tiers = [x for x in ev.inputs.filter(pl.col("workload") == c["workload"])["tier"].to_list()
                 if TIER_ORDER.get(x, -1) > TIER_ORDER.get(c["tier"], 9)]
        if not tiers:
            continue
        origin = max(tiers, key=lambda x: TIER_ORDER[x])
        m = move(ev, c["workload"], origin, c["tier"])
        gain = max(TARGET_HIT - float(c["hit_ratio"]), 0.0)
        origin_cost = m.current_usd_month
        miss, hit = c["miss_e2e_p50_ms"], c["hit_e2e_p50_ms"]
        both = miss is not None and hit is not None  # a window with no hit (or no miss) has no gap to measure
        gap = float(miss) - float(hit) if both else 0.0
        latency = (f"misses take p50 {miss:.0f} ms vs {hit:.0f} ms on hits" if both
                   else f"no {'hit' if hit is None else 'miss'} in the window to compare latency with")
        reasons = [f"{c['cache_name']} in {c['tier']}: hit ratio {c['hit_ratio']:.0%} over {c['lookups']} lookups",
                   latency,
                   f"restoring {TARGET_HIT:.0%} avoids {gain:.0%} of the {origin} origin's ${origin_cost:,.0f}/month"]
        cut = -gain * gap  # the hit/miss gap is measured, so this Δp95 is observed, not a configured factor
        adjusted = replace(m, delta_cost_usd_month=-gain * origin_cost, delta_p95_ms=cut, traffic_share=gain,
                           evidence="observed" if both else "assumed", delta_p95_ms_low=cut, delta_p95_ms_high=cut,
                           evidence_note=(f"p50 of cache misses vs hits observed over {c['lookups']} lookups" if both
                                          else "no hit/miss latency gap observed"))
        out.append(recommendation(adjusted, NAME, reasons, 0.6))
    return out
