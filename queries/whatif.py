"""What-if of one move: Δcost from the scorecard, Δp95 from observed hop times and compute scaled by hardware class."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from queries import framework, registry, scorecard
from queries import policy as policies
from queries.policy import Policy
from queries.scorecard import DEFAULT_SPEED
from store.contract import TIERS

if TYPE_CHECKING:
    from queries.engines.engine import Engine

# Network p95 between tiers when no hop of that pair was observed (ms; the seed's RTT classes, generous tails).
DEFAULT_HOP_P95_MS: Mapping[tuple[str, str], float] = {
    ("device", "edge"): 8.0, ("device", "regional"): 45.0, ("device", "hyperscale"): 140.0,
    ("edge", "regional"): 30.0, ("edge", "hyperscale"): 120.0, ("regional", "hyperscale"): 90.0,
}


CURRENCY = "USD"  # the scorecard's money (docs/scorecard.md)


class WhatIfError(ValueError):
    """A move that cannot be priced: unknown workload, tier or no portion to move."""


@dataclass(frozen=True)
class Move:
    """One priced move of a workload's portion running in from_tier to to_tier."""

    workload: str
    from_tier: str
    from_site: str | None
    to_tier: str
    to_site: str | None
    caller_tier: str | None
    current_usd_month: float
    projected_usd_month: float
    delta_cost_usd_month: float
    hop_p95_now_ms: float
    hop_p95_after_ms: float
    compute_p95_now_ms: float
    compute_p95_after_ms: float
    delta_p95_ms: float
    traffic_share: float          # share of the workload's requests whose from_tier work moves (already_* excluded)
    already_at_target_share: float = 0.0  # share of from_tier requests that already reach to_tier (not moved)
    evidence: str = "assumed"     # observed: the target's compute time was measured; assumed: a configured factor
    evidence_note: str = ""       # what the Δp95 rests on, in words (sample size, or the factor and its value)
    delta_p95_ms_low: float = 0.0  # the Δp95 range: between the observed and the assumed estimate when both exist
    delta_p95_ms_high: float = 0.0
    refusal: str | None = None    # why the seed's framework refuses the move (queries/framework.py), else None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def hop_p95(hops: pl.DataFrame, a: str, b: str) -> float:
    """Observed p95 of hops a→b over every workload, else the documented default; 0 inside one tier."""
    if a == b:
        return 0.0
    row = hops.filter(pl.col("all_workloads") & (pl.col("from_tier") == a) & (pl.col("to_tier") == b))
    if row.height and row["p95_ms"][0] is not None:
        return float(row["p95_ms"][0])
    return DEFAULT_HOP_P95_MS.get((a, b), DEFAULT_HOP_P95_MS.get((b, a), 100.0))


def caller_of(hops: pl.DataFrame, workload: str, tier: str) -> str | None:
    """The tier that calls this workload's `tier` portion most often (None when the portion is where requests start)."""
    rows = hops.filter(~pl.col("all_workloads") & (pl.col("workload") == workload) & (pl.col("to_tier") == tier)
                       & (pl.col("from_tier") != tier)).sort("hops", descending=True)
    return str(rows["from_tier"][0]) if rows.height else None


def _num(row: Mapping[str, object], key: str) -> float:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def _text(row: Mapping[str, object], key: str) -> str | None:
    value = row.get(key)
    return None if value is None else str(value)


def _portion(inputs: pl.DataFrame, workload: str, tier: str) -> dict[str, object]:
    row = inputs.filter((pl.col("workload") == workload) & (pl.col("tier") == tier))
    if not row.height:
        raise WhatIfError(f"workload {workload!r} has no portion in tier {tier!r}")
    return row.row(0, named=True)


def default_from(inputs: pl.DataFrame, workload: str, to_tier: str) -> str:
    """The portion a move takes by default: the workload's dominant serving tier other than the target, i.e. the
    portion with the most GPU-seconds, then requests, among those that compute (GPU time or a compute p95); a
    portion that only forwards requests (a thin client) is never the default."""
    rows = inputs.filter((pl.col("workload") == workload) & (pl.col("tier") != to_tier)
                         & pl.col("tier").is_in(TIERS))
    if not rows.height:
        raise WhatIfError(f"workload {workload!r} has nothing outside {to_tier!r} to move")
    serving = rows.filter((pl.col("gpu_seconds").fill_null(0) > 0) | pl.col("compute_p95_ms").is_not_null())
    if not serving.height:
        raise WhatIfError(f"workload {workload!r} is already served in {to_tier!r}: its other portions "
                          f"({', '.join(sorted(rows['tier'].to_list()))}) only forward requests; pass --from to price one")
    ranked = serving.sort(pl.col("gpu_seconds").fill_null(0), pl.col("requests_adjusted").fill_null(0),
                          descending=True)
    return str(ranked["tier"][0])


def already_at_target(inputs: pl.DataFrame, hops: pl.DataFrame, workload: str, src: str, to_tier: str) -> float:
    """Share of the src portion's requests already served in to_tier: when src calls to_tier for this workload,
    min(1, to_tier portion requests ÷ src portion requests); else 0."""
    calls = hops.filter(~pl.col("all_workloads") & (pl.col("workload") == workload) & (pl.col("from_tier") == src)
                        & (pl.col("to_tier") == to_tier))
    if not calls.height or src == to_tier:
        return 0.0
    mine = inputs.filter(pl.col("workload") == workload)
    src_req = float(mine.filter(pl.col("tier") == src)["requests_adjusted"].sum())
    target_req = float(mine.filter(pl.col("tier") == to_tier)["requests_adjusted"].sum())
    return min(1.0, target_req / src_req) if src_req > 0 else 0.0


def estimate(inputs: pl.DataFrame, card: pl.DataFrame, hops: pl.DataFrame, workload: str, to_tier: str,
             from_tier: str | None = None, to_site: str | None = None,
             speed: Mapping[str, float] = DEFAULT_SPEED, policy: Policy | None = None) -> Move:
    """Price moving `workload`'s from_tier portion to to_tier; Δp95 = hop change from its caller + compute change,
    the compute after the move observed when the workload already runs in to_tier, else scaled by `speed`. With a
    `policy`, a move the seed's framework refuses carries the reason."""
    if to_tier not in TIERS:
        raise WhatIfError(f"tier must be one of {', '.join(TIERS)}, got {to_tier!r}")
    src = from_tier or default_from(inputs, workload, to_tier)
    portion = _portion(inputs, workload, src)
    rows = card.filter((pl.col("workload") == workload) & (pl.col("from_tier") == src))
    now = float(rows.filter(pl.col("option_tier") == src)["total_usd_month"].sum())
    after = float(rows.filter(pl.col("option_tier") == to_tier)["total_usd_month"].sum())
    caller = caller_of(hops, workload, src)
    hop_now = hop_p95(hops, caller, src) if caller else 0.0
    hop_after = hop_p95(hops, caller, to_tier) if caller else 0.0
    compute_now = _num(portion, "compute_p95_ms")
    assumed = compute_now * speed.get(src, 1.0) / speed.get(to_tier, 1.0)
    seen = observed_compute(inputs, workload, to_tier) if to_tier != src else None
    compute_after = seen[0] if seen else assumed
    note = (f"compute p95 {seen[0]:,.0f} ms observed for {workload} on {to_tier} over {seen[1]:,.0f} requests" if seen
            else f"compute p95 {compute_now:,.0f} ms × speed {src} {speed.get(src, 1.0):g} ÷ {to_tier} "
                 f"{speed.get(to_tier, 1.0):g} ([scorecard.speed], assumed)")
    most = inputs.filter(pl.col("workload") == workload)["requests_adjusted"].max()
    all_requests = float(most) if isinstance(most, int | float) else 0.0
    already = already_at_target(inputs, hops, workload, src, to_tier)
    share = _num(portion, "requests_adjusted") * (1.0 - already) / all_requests if all_requests else 0.0
    hop = hop_after - hop_now
    delta, other = hop + compute_after - compute_now, hop + assumed - compute_now
    return Move(workload, src, _text(portion, "site"), to_tier, to_site,
                caller, now, after, after - now, hop_now, hop_after, compute_now, compute_after,
                delta, min(share, 1.0), already, "observed" if seen else "assumed", note,
                min(delta, other), max(delta, other),
                framework.refusal(portion, src, to_tier, caller, policy) if policy is not None else None)


def observed_compute(inputs: pl.DataFrame, workload: str, tier: str) -> tuple[float, float] | None:
    """(compute p95 ms, requests) of the workload's own portion already running in `tier`, when it was measured."""
    row = inputs.filter((pl.col("workload") == workload) & (pl.col("tier") == tier)
                        & pl.col("compute_p95_ms").is_not_null() & (pl.col("requests_adjusted").fill_null(0) > 0))
    if not row.height:
        return None
    return float(row["compute_p95_ms"][0]), float(row["requests_adjusted"][0])


def as_frame(moves: list[Move]) -> pl.DataFrame:
    """Moves as rows, for the CLI and the dashboard."""
    return pl.DataFrame([{**m.__dict__, "allowed": m.allowed} for m in moves]) if moves else pl.DataFrame()


def as_dict(m: Move, value: float | None = None) -> dict[str, object]:
    """One move as `tierwise whatif --format json` gives it: the recommendation fields (`delta_cost` in `currency`,
    `delta_p95_ms_range`, `evidence`, `value`) plus `allowed` and, when not, the `refusal`."""
    return {**m.__dict__, "allowed": m.allowed, "delta_cost": m.delta_cost_usd_month, "currency": CURRENCY,
            "delta_p95_ms_range": [m.delta_p95_ms_low, m.delta_p95_ms_high], "value": value}


def run(engine: Engine, workload: str, to_tier: str, from_tier: str | None = None, to_site: str | None = None) -> Move:
    """The what-if on an engine with the configured scorecard."""
    cfg = scorecard.configured()
    inputs = registry.run(engine, "scorecard_inputs")
    card = scorecard.scorecard(inputs.lazy(), cfg).collect()
    return estimate(inputs, card, registry.run(engine, "scorecard_hops"), workload, to_tier, from_tier, to_site,
                    cfg.speed, policies.configured())
