"""Rule: idle or GPU-starved capacity is consolidated: idle edge hosts shed a workload, starved hosts are right-sized."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import Evidence, Recommendation

NAME = "consolidate_idle"


def rule(ev: Evidence) -> list[Recommendation]:
    """Idle edge sites (see idle_edge) and GPU-starved hosts (see starved) → consolidate."""
    return idle_edge(ev) + starved(ev)


def idle_edge(ev: Evidence) -> list[Recommendation]:
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


def starved(ev: Evidence) -> list[Recommendation]:
    """Per host starved ≥ starved_hours_min hours (GPUs mostly idle while the queue is deep: an input-pipeline stall,
    not a capacity shortage), for the workload running there most: on edge, unless latency-critical, it moves to
    hyperscale like an idle host's; otherwise it is consolidated in place onto fewer GPUs once the pipeline is fixed,
    credited with the GPU money wasted while starved = portion compute × starved share × (1 − starved utilization)."""
    t = ev.thresholds
    if not {"host_name", "workload", "starved_hours"} <= set(ev.starved.columns):
        return []
    hosts = ev.starved.filter((pl.col("starved_hours") >= t.starved_hours_min) & pl.col("workload").is_not_null())
    out = []
    for h in hosts.sort("tier", "site", "host_name").iter_rows(named=True):
        portion = ev.inputs.filter((pl.col("workload") == h["workload"]) & (pl.col("tier") == h["tier"]))
        if not portion.height:
            continue
        p = portion.row(0, named=True)
        critical = (p["budget_ms"] or 0) <= t.latency_critical_max_ms and p["budget_ms"] is not None
        reasons = [f"{h['host_name']} at {h['site']} ({h['tier']}): GPU-starved {h['starved_hours']} of "
                   f"{h['observed_hours']} hours ({h['starved_share_ratio']:.0%}): utilization "
                   f"{h['starved_utilization_ratio']:.0%} while the queue held {h['starved_queue_depth']:.0f} requests",
                   f"{h['workload']} runs there most ({p['gpu_seconds']:,.0f} GPU-seconds in {h['tier']}); the stall is "
                   "its input pipeline, not GPU capacity"]
        if h["tier"] == "edge" and not critical:
            out.append(recommendation(move(ev, h["workload"], "edge", "hyperscale"), NAME, reasons, 0.55))
            continue
        m = move(ev, h["workload"], h["tier"], h["tier"], h["site"])
        wasted = m.current_usd_month * float(h["starved_share_ratio"]) * (1.0 - float(h["starved_utilization_ratio"]))
        reasons.append(f"fix the pipeline and run it on fewer GPUs in {h['site']}: ${wasted:,.0f}/month of "
                       f"${m.current_usd_month:,.0f}/month was paid for idle GPUs while starved")
        out.append(recommendation(replace(m, delta_cost_usd_month=-wasted), NAME, reasons, 0.5))
    return out
