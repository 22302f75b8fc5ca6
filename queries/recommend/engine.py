"""The rule registry, the evidence collected once from a store, and ranking of the rules' output by value."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl

from queries import policy, registry, scorecard, whatif
from queries import value as values
from queries.recommend import (
    batch_to_hyperscale,
    cache_fix,
    consolidate_idle,
    latency_closer,
    top_latency_edge,
    trust_inward,
)
from queries.recommend.model import Evidence, Recommendation, Rule, Thresholds

if TYPE_CHECKING:
    from queries.engines.engine import Engine

RULES: tuple[Rule, ...] = (
    Rule(latency_closer.NAME, "latency-critical p95 over budget mostly through network → a closer tier",
         latency_closer.rule),
    Rule(trust_inward.NAME, "regulated or confidential processing outside its trust zone → inward", trust_inward.rule),
    Rule(batch_to_hyperscale.NAME, "training, batch, embedding on edge or regional → hyperscale when cheaper",
         batch_to_hyperscale.rule),
    Rule(consolidate_idle.NAME, "idle or GPU-starved edge capacity → consolidate", consolidate_idle.rule),
    Rule(cache_fix.NAME, "low cache hit rate on repeatable prompts → CDN or semantic cache", cache_fix.rule),
    Rule(top_latency_edge.NAME, "top 20 % of latency-critical traffic → first edge candidates", top_latency_edge.rule),
)


def collect(engine: Engine, cfg: scorecard.ScorecardConfig | None = None,
            thresholds: Thresholds | None = None) -> Evidence:
    """Every frame the rules read, each queried once."""
    conf = cfg or scorecard.configured()
    inputs = registry.run(engine, "scorecard_inputs")
    return Evidence(inputs, scorecard.scorecard(inputs.lazy(), conf).collect(), registry.run(engine, "scorecard_hops"),
                    registry.run(engine, "critical_path_shares"), registry.run(engine, "latency_budgets"),
                    registry.run(engine, "trust_zone_violations"), registry.run(engine, "gpu_idle_hours"),
                    registry.run(engine, "cache_hit_rate"), conf, thresholds or Thresholds(value=values.configured()),
                    registry.run(engine, "gpu_starved_hosts"), policy.configured())


def value(rec: Recommendation, ev: Evidence) -> values.Worth:
    """The move's worth (queries/value.py): money saved, and ms of p95 saved on latency-critical workloads and
    regulated requests brought into their zone (trust_inward), priced only when [value] gives the method."""
    return move_value(rec.workload, rec.from_tier, rec.rule, rec.delta_cost_usd_month, rec.delta_p95_ms,
                      rec.traffic_share, ev.inputs, ev.thresholds)


def move_value(workload: str, from_tier: str, rule: str | None, delta_cost: float, delta_p95_ms: float, share: float,
               inputs: pl.DataFrame, t: Thresholds) -> values.Worth:
    """value() of one move, for the what-if of a move no rule proposed (rule None: no compliance gain counted)."""
    budget = inputs.filter(pl.col("workload") == workload)["budget_ms"].max()
    critical = isinstance(budget, int | float) and budget <= t.latency_critical_max_ms
    requests = values.requests_per_month(inputs, workload, from_tier, share)
    return values.worth(t.value, delta_cost, delta_p95_ms, requests, critical, rule == trust_inward.NAME)


def valued(rec: Recommendation, w: values.Worth) -> Recommendation:
    """The recommendation carrying its worth."""
    return replace(rec, value_usd_month=w.value_usd_month, value_ms_p95_saved=w.ms_p95_saved,
                   value_requests_per_month=w.requests_per_month,
                   value_requests_into_zone_per_month=w.requests_into_zone_per_month,
                   value_latency_usd_month=w.latency_usd_month, value_compliance_usd_month=w.compliance_usd_month,
                   value_note=w.note())


def rank(recs: list[Recommendation], ev: Evidence) -> list[Recommendation]:
    """Valued (money saved + the gains [value] prices), one per (workload, from tier, to tier) keeping the most
    valuable; moves that end a trust-zone violation first (the seed's framework puts trust zones before cost), then
    the most valuable."""
    best: dict[tuple[str, str, str], Recommendation] = {}
    for rec in (valued(r, value(r, ev)) for r in recs):
        key = (rec.workload, rec.from_tier, rec.to_tier)
        if key not in best or rec.value_usd_month > best[key].value_usd_month:
            best[key] = rec
    return sorted(best.values(), key=lambda r: (r.rule != trust_inward.NAME, -r.value_usd_month, r.workload, r.rule))


def recommend(ev: Evidence, rules: tuple[Rule, ...] = RULES) -> list[Recommendation]:
    """Every rule over the evidence, ranked; a move the seed's framework refuses is never proposed."""
    return rank([rec for rule in rules for rec in rule.fn(ev) if rec.refusal is None], ev)


def as_frame(recs: list[Recommendation]) -> pl.DataFrame:
    """Recommendations as rows (reasons joined by '; '), for tables and the dashboard."""
    schema = {"workload": pl.String, "from_tier": pl.String, "from_site": pl.String, "to_tier": pl.String,
              "to_site": pl.String, "rule": pl.String, "reasons": pl.String, "delta_p95_ms": pl.Float64,
              "delta_cost_usd_month": pl.Float64, "confidence": pl.Float64, "traffic_share": pl.Float64,
              "value_usd_month": pl.Float64, "evidence": pl.String, "delta_p95_ms_low": pl.Float64,
              "delta_p95_ms_high": pl.Float64, "value_ms_p95_saved": pl.Float64, "value_requests_per_month": pl.Float64,
              "value_requests_into_zone_per_month": pl.Float64, "value_note": pl.String}
    rows = [{k: v for k, v in r.__dict__.items() if k in schema}
            | {"reasons": "; ".join(r.reasons), "delta_p95_ms_low": r.delta_p95_ms_range[0],
               "delta_p95_ms_high": r.delta_p95_ms_range[1]} for r in recs]
    return pl.DataFrame(rows, schema=schema)


def run(engine: Engine) -> list[Recommendation]:
    """Ranked recommendations on an engine, with the configured scorecard and default thresholds."""
    return recommend(collect(engine))


def to_json(recs: list[Recommendation]) -> str:
    """A JSON list of objects (reasons as a list), best first: what `tierwise recommend --format json` prints."""
    return json.dumps([as_dict(r) for r in recs], indent=2)


def as_dict(r: Recommendation) -> dict[str, object]:
    """One recommendation as `tierwise recommend --format json` gives it (money in its currency: the scorecard's,
    USD; `delta_cost_usd_month` and `value_usd_month` kept under their old names too). `value` is money saved + the
    gains [value] prices; the gains themselves are `value_ms_p95_saved`, `value_requests_into_zone_per_month` (and
    `value_latency_usd_month` / `value_compliance_usd_month`, null when not priced), in words in `value_note`."""
    out = {k: v for k, v in r.__dict__.items() if k not in ("refusal", "delta_p95_ms_range")}
    return out | {"reasons": list(r.reasons), "delta_cost": r.delta_cost_usd_month, "currency": whatif.CURRENCY,
                  "value": r.value_usd_month, "delta_p95_ms_range": list(r.delta_p95_ms_range)}
