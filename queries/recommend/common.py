"""Helpers the rules share: pricing a move through the what-if and turning it into a Recommendation."""

from __future__ import annotations

from queries import whatif
from queries.recommend.model import Evidence, Recommendation


def move(ev: Evidence, workload: str, from_tier: str, to_tier: str, to_site: str | None = None) -> whatif.Move:
    """The what-if of one move on the evidence's frames."""
    return whatif.estimate(ev.inputs, ev.card, ev.hops, workload, to_tier, from_tier, to_site, ev.config.speed,
                           ev.policy)


def recommendation(m: whatif.Move, rule: str, reasons: list[str], confidence: float) -> Recommendation:
    """A Recommendation carrying the move's projected Δp95 (with what it rests on), Δcost and traffic share."""
    return Recommendation(m.workload, m.from_tier, m.from_site, m.to_tier, m.to_site, rule,
                          (*reasons, f"Δp95 rests on: {m.evidence_note}"),
                          round(m.delta_p95_ms, 3), round(m.delta_cost_usd_month, 2),
                          round(max(0.0, min(1.0, confidence)), 2), round(m.traffic_share, 4), 0.0, m.evidence,
                          (round(m.delta_p95_ms_low, 3), round(m.delta_p95_ms_high, 3)), m.refusal)
