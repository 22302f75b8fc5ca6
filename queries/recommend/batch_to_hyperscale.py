"""Rule: training, batch and asynchronous embedding on edge or regional move to hyperscale when that is cheaper."""

from __future__ import annotations

import polars as pl

from queries.recommend.common import move, recommendation
from queries.recommend.model import Evidence, Recommendation

NAME = "batch_to_hyperscale"
TYPES = ("training", "batch", "embedding")


def rule(ev: Evidence) -> list[Recommendation]:
    """Per such portion: the scorecard's hyperscale option must save at least min_saving_ratio of its cost."""
    rows = ev.inputs.filter(pl.col("workload_type").is_in(TYPES) & pl.col("tier").is_in(("edge", "regional")))
    out = []
    for r in rows.sort("workload", "tier").iter_rows(named=True):
        m = move(ev, r["workload"], r["tier"], "hyperscale")
        if m.current_usd_month <= 0 or m.delta_cost_usd_month > -ev.thresholds.min_saving_ratio * m.current_usd_month:
            continue
        reasons = [f"{r['workload_type']} workload in {r['tier']} ({r['site']}): the roadmap puts it in hyperscale",
                   f"scorecard ${m.current_usd_month:,.0f}/month now vs ${m.projected_usd_month:,.0f}/month in hyperscale",
                   f"{r['gpu_seconds']:,.0f} GPU-seconds observed, budget {r['budget_ms'] or 0:,.0f} ms"]
        out.append(recommendation(m, NAME, reasons, 0.75))
    return out
