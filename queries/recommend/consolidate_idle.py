"""Rule: edge GPU hosts idle most of their hours are consolidated: their smallest workload leaves for hyperscale."""

from __future__ import annotations

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import Evidence, Recommendation

NAME = "consolidate_idle"


def rule(ev: Evidence) -> list[Recommendation]:
    """Per edge site with a host idle ≥ idle_share_min: move the site's workload with the fewest GPU-seconds (unless
    latency-critical) to hyperscale, so the idle host can be retired; credited with the idle share of site compute."""
    t = ev.thresholds
    idle = ev.idle.filter((pl.col("tier") == "edge") & (pl.col("idle_share_ratio") >= t.idle_share_min))
    out = []
    for site in sorted(set(idle["site"].drop_nulls().to_list())):
        on_site = ev.inputs.filter((pl.col("tier") == "edge") & (pl.col("site") == site) & (pl.col("gpu_seconds") > 0)
                                   & (pl.col("budget_ms").fill_null(0) > t.latency_critical_max_ms))
        if not on_site.height:
            continue
        smallest = on_site.sort("gpu_seconds").row(0, named=True)
        host = idle.filter(pl.col("site") == site).sort("idle_share_ratio", descending=True).row(0, named=True)
        m = move(ev, smallest["workload"], "edge", "hyperscale")
        reasons = [f"{host['host_name']} at {site}: {host['idle_gpu_hours']} of {host['observed_gpu_hours']} GPU-hours"
                   f" idle ({host['idle_share_ratio']:.0%}), mean utilization {host['mean_utilization_ratio']:.0%}",
                   f"{smallest['workload']} uses {smallest['gpu_seconds']:,.0f} GPU-seconds there and is not latency-critical"]
        out.append(recommendation(m, NAME, reasons, 0.6))
    return out
