"""Records of the recommendation engine: the evidence bundle rules read, the Rule entry and the Recommendation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from queries.policy import Policy, from_config
from queries.scorecard import ScorecardConfig
from queries.value import ValueMethod
from store.contract import TIERS

TIER_ORDER = {tier: i for i, tier in enumerate(TIERS)}


@dataclass(frozen=True)
class Thresholds:
    """Documented knobs of the rules (docs/scorecard.md)."""

    network_share_min: float = 0.4       # hop share of the p95 critical path for "mostly network"
    latency_critical_max_ms: float = 300.0  # budgets up to this are latency-critical (the seed's 100–300 ms class)
    min_saving_ratio: float = 0.05       # a cost move must save at least this share of the portion's cost
    idle_share_min: float = 0.5          # an edge host idle at least this share of its GPU-hours
    starved_hours_min: int = 4           # a GPU host starved (low utilization, deep queue) at least this many hours
    cache_hit_min: float = 0.3           # below this hit ratio a cache is failing repeatable prompts
    top_traffic_share: float = 0.2       # the seed's phase 3: the top 20 % of latency-critical traffic
    value: ValueMethod = field(default_factory=ValueMethod)  # [value]: prices of latency and compliance, or none


@dataclass(frozen=True)
class Evidence:
    """Frames collected once from the store; every rule reads only these."""

    inputs: pl.DataFrame       # scorecard_inputs
    card: pl.DataFrame         # scorecard
    hops: pl.DataFrame         # scorecard_hops
    shares: pl.DataFrame       # critical_path_shares
    budgets: pl.DataFrame      # latency_budgets
    violations: pl.DataFrame   # trust_zone_violations
    idle: pl.DataFrame         # gpu_idle_hours
    cache: pl.DataFrame        # cache_hit_rate
    config: ScorecardConfig = field(default_factory=ScorecardConfig)
    thresholds: Thresholds = field(default_factory=Thresholds)
    starved: pl.DataFrame = field(default_factory=pl.DataFrame)  # gpu_starved_hosts
    policy: Policy = field(default_factory=lambda: from_config({}))  # trust zones a move must respect


@dataclass(frozen=True)
class Recommendation:
    """One proposed move with its evidence, projected effect and how sure the rule is."""

    workload: str
    from_tier: str
    from_site: str | None
    to_tier: str
    to_site: str | None
    rule: str
    reasons: tuple[str, ...]
    delta_p95_ms: float
    delta_cost_usd_month: float
    confidence: float
    traffic_share: float
    value_usd_month: float = 0.0     # the ranking value: money saved + the gains [value] prices (queries/value.py)
    evidence: str = "assumed"        # observed or assumed: what the Δp95 rests on (queries/whatif.Move)
    delta_p95_ms_range: tuple[float, float] = (0.0, 0.0)
    refusal: str | None = None       # the framework's reason when the move must not be made (never ranked)
    # the gains beyond money (queries/value.Worth), in their own units and, when [value] prices them, in USD/month
    value_ms_p95_saved: float = 0.0
    value_requests_per_month: float = 0.0
    value_requests_into_zone_per_month: float = 0.0
    value_latency_usd_month: float | None = 0.0
    value_compliance_usd_month: float | None = 0.0
    value_note: str = ""


@dataclass(frozen=True)
class Rule:
    """A registered rule: name, what it looks for, and the pure function that finds it."""

    name: str
    description: str
    fn: Callable[[Evidence], list[Recommendation]]
