"""The decision memo's contents: spend and where it goes, the top moves with their evidence, realised savings, and the
method, each number read from the same place the dashboard and `tierwise recommend` / `tierwise metric` read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import polars as pl

from queries import savings, scorecard
from queries.policy import Policy
from queries.recommend import Recommendation, Thresholds
from queries.recommend import engine as rec_engine
from queries.semantic import metric as metrics
from queries.semantic.metric import Currency

if TYPE_CHECKING:
    from queries.engines.engine import Engine

TOP_MOVES = 5
TOP_WORKLOADS = 5


@dataclass(frozen=True)
class Memo:
    """Everything the memo prints. Money per currency; moves in the scorecard's currency (USD)."""

    generated_at: datetime
    start_ns: int | None
    end_ns: int | None
    spend: pl.DataFrame          # currency, effective_cost
    by_tier: pl.DataFrame        # tier, currency, effective_cost
    top_workloads: pl.DataFrame  # workload, currency, effective_cost (largest first, per currency)
    by_month: pl.DataFrame       # time, currency, effective_cost
    moves: tuple[Recommendation, ...]
    decided: Mapping[str, str]   # recommendation key → accepted | dismissed
    savings: Mapping[str, object]  # queries/savings.summary's one row
    method: tuple[tuple[str, str], ...]  # (what, how) lines of the appendix
    last_day: date | None = None  # the latest charge's day: its month is billed to date


def _metric(engine: Engine, by: tuple[str, ...], start_ns: int | None, end_ns: int | None,
            currency: Currency, grain: str = "month") -> pl.DataFrame:
    return metrics.run(engine, metrics.Request(("effective_cost",), by, (), start_ns, end_ns, grain, currency))


def method(cfg: scorecard.ScorecardConfig, t: Thresholds, policy: Policy) -> tuple[tuple[str, str], ...]:
    """The appendix: how each number is made and which configured values it rests on."""
    speeds = ", ".join(f"{k} {v:g}" for k, v in cfg.speed.items())
    zones = "; ".join(f"{k}: {', '.join(v)}" for k, v in policy.trust_zones.items())
    return (
        ("Spend", "effective_cost of the semantic model (docs/measures.md): the FOCUS ledger's EffectiveCost, "
                  "prorated to the period, in each bill's own currency; the same figure as `tierwise metric "
                  "effective_cost`."),
        ("Moves", "`tierwise recommend`: each rule's move priced by the five-factor scorecard (compute, storage, "
                  "egress, operations, downtime risk) in USD per 730-hour month; ranked by value."),
        ("Δp95", f"hop change from the caller plus compute change. Observed: the workload's own compute p95 on the "
                 f"target tier. Assumed: compute scaled by the configured accelerator speed ({speeds}). The range "
                 f"spans the observed and the assumed estimate when both exist."),
        ("Value", f"money saved per month (−Δcost) + the gains the configured method prices: {t.value.describe()}. "
                  f"ms of p95 count on latency-critical workloads (budget ≤ {t.latency_critical_max_ms:g} ms); a gain "
                  f"the method does not price adds nothing and is given in ms or requests. Savings are shown apart."),
        ("Framework", f"moves that break the seed's framework are never proposed: training or batch onto devices, a "
                      f"data class outside its trust zone ({zones}), a device serving another tier's callers."),
        ("Savings", "projected: every move not dismissed that lowers cost; realised: the accepted ones "
                    "(decisions recorded in the dashboard)."),
        ("Downtime", f"scorecard downtime risk: (1 − SLA) × 730 h × {cfg.downtime_usd_per_hour:,.0f} USD per hour."),
    )


def build(engine: Engine, decided: Mapping[str, str], start_ns: int | None = None, end_ns: int | None = None,
          currency: Currency | None = None, policy: Policy | None = None) -> Memo:
    """The memo of the store behind `engine` for [start_ns, end_ns) (None: everything), with the accept/dismiss
    decisions recorded so far."""
    cur = currency or Currency()
    (last,) = engine.first_row("SELECT max(ChargePeriodStart) FROM costs")
    ev = rec_engine.collect(engine)
    moves = rec_engine.recommend(ev)
    frame = rec_engine.as_frame(moves)
    accepted = [k for k, s in decided.items() if s == "accepted"]
    dismissed = [k for k, s in decided.items() if s == "dismissed"]
    summary = savings.summary(frame, accepted, dismissed).row(0, named=True)
    workloads = (_metric(engine, ("workload",), start_ns, end_ns, cur).sort("effective_cost", descending=True)
                 .group_by("currency", maintain_order=True).head(TOP_WORKLOADS))
    return Memo(datetime.now(UTC), start_ns, end_ns, _metric(engine, (), start_ns, end_ns, cur),
                _metric(engine, ("tier",), start_ns, end_ns, cur), workloads,
                _metric(engine, ("time",), start_ns, end_ns, cur), tuple(moves[:TOP_MOVES]), dict(decided), summary,
                method(ev.config, ev.thresholds, policy or ev.policy), last.date() if isinstance(last, datetime) else None)
