"""Each recommendation rule on tiny hand-made evidence frames: it fires on its pattern and stays quiet otherwise."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl
import pytest

from queries import scorecard, whatif
from queries.recommend import (
    RULES,
    Evidence,
    batch_to_hyperscale,
    cache_fix,
    consolidate_idle,
    latency_closer,
    recommend,
    top_latency_edge,
    trust_inward,
)
from queries.value import ValueMethod

INPUT_COLS: dict[str, Any] = {
    "workload": pl.String, "tier": pl.String, "site": pl.String, "workload_type": pl.String, "data_class": pl.String,
    "budget_ms": pl.Float64, "requests_adjusted": pl.Float64, "tokens_adjusted": pl.Float64,
    "gpu_seconds": pl.Float64, "egress_gb": pl.Float64, "p95_ms": pl.Float64, "compute_p95_ms": pl.Float64,
    "sla_ratio": pl.Float64, "cost_days": pl.Int64, "span_days": pl.Int64, "compute_usd": pl.Float64,
    "storage_usd": pl.Float64, "egress_usd": pl.Float64, "operations_usd": pl.Float64}


def portion(workload: str, tier: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {c: None for c in INPUT_COLS}
    base.update(workload=workload, tier=tier, site=f"{tier}-1", workload_type="inference", data_class="internal",
                budget_ms=1000.0, requests_adjusted=1000.0, tokens_adjusted=0.0, gpu_seconds=100.0, egress_gb=1.0,
                p95_ms=100.0, compute_p95_ms=50.0, cost_days=30, span_days=30, compute_usd=300.0, storage_usd=0.0,
                egress_usd=0.0, operations_usd=0.0)
    base.update(kw)
    return base


def evidence(rows: list[dict[str, Any]], **frames: pl.DataFrame) -> Evidence:
    inputs = pl.DataFrame(rows, schema=INPUT_COLS)
    card = scorecard.scorecard(inputs.lazy(), scorecard.ScorecardConfig()).collect()
    empty = {
        "hops": pl.DataFrame(schema={"workload": pl.String, "all_workloads": pl.Boolean, "from_tier": pl.String,
                                     "to_tier": pl.String, "hops": pl.Int64, "p50_ms": pl.Float64, "p95_ms": pl.Float64}),
        "shares": pl.DataFrame(schema={"workload": pl.String, "percentile": pl.String, "component": pl.String,
                                       "part": pl.String, "share_pct": pl.Float64, "traces": pl.UInt32,
                                       "e2e_ms": pl.Float64}),
        "budgets": pl.DataFrame(schema={"workload": pl.String, "budget_ms": pl.Float64, "tier": pl.String,
                                        "e2e_p95_ms": pl.Float64, "e2e_meets_budget": pl.Boolean}),
        "violations": pl.DataFrame(schema={"workload": pl.String, "data_class": pl.String, "tier": pl.String,
                                           "allowed_tiers": pl.String, "spans": pl.Int64, "traces": pl.Int64,
                                           "sites": pl.String}),
        "idle": pl.DataFrame(schema={"tier": pl.String, "site": pl.String, "host_name": pl.String,
                                     "observed_gpu_hours": pl.Int64, "idle_gpu_hours": pl.Int64,
                                     "idle_share_ratio": pl.Float64, "mean_utilization_ratio": pl.Float64}),
        "cache": pl.DataFrame(schema={"tier": pl.String, "workload": pl.String, "cache_name": pl.String,
                                      "lookups": pl.Int64, "hit_ratio": pl.Float64, "hit_e2e_p50_ms": pl.Float64,
                                      "miss_e2e_p50_ms": pl.Float64}),
    }
    empty.update(frames)
    return Evidence(inputs, card, empty["hops"], empty["shares"], empty["budgets"], empty["violations"],
                    empty["idle"], empty["cache"])


def kiosk(hop_share: float) -> Evidence:
    rows = [portion("kiosk", "device", budget_ms=200.0, requests_adjusted=1000.0),
            portion("kiosk", "hyperscale", budget_ms=200.0, requests_adjusted=100.0, compute_p95_ms=60.0)]
    hops = pl.DataFrame({"workload": ["kiosk", None, None], "all_workloads": [False, True, True],
                         "from_tier": ["device"] * 3, "to_tier": ["hyperscale", "hyperscale", "edge"],
                         "hops": [100, 100, 50], "p50_ms": [90.0, 90.0, 4.0], "p95_ms": [230.0, 230.0, 7.0]})
    shares = pl.DataFrame({"workload": ["kiosk"] * 2, "percentile": ["p95"] * 2,
                           "component": ["device→hyperscale", "hyperscale"], "part": ["hop", "compute"],
                           "share_pct": [hop_share * 100, 100 - hop_share * 100], "traces": pl.Series([50, 50], dtype=pl.UInt32),
                           "e2e_ms": [260.0, 260.0]})
    budgets = pl.DataFrame({"workload": ["kiosk"], "budget_ms": [200.0], "tier": ["device"], "e2e_p95_ms": [260.0],
                            "e2e_meets_budget": [False]})
    return evidence(rows, hops=hops, shares=shares, budgets=budgets)


def test_latency_closer_moves_network_bound_misses_one_tier_in() -> None:
    [rec] = latency_closer.rule(kiosk(0.6))
    assert (rec.from_tier, rec.to_tier, rec.rule) == ("hyperscale", "edge", "latency_closer")
    # hop 230 → 7 ms; compute 60 ms × 8/3 = 160 ms: Δp95 = −223 + 100
    assert rec.delta_p95_ms == pytest.approx(-223 + 100)
    assert rec.traffic_share == pytest.approx(0.1)
    assert any("260.0 ms exceeds the 200 ms budget" in r for r in rec.reasons)


def test_latency_closer_is_quiet_when_compute_dominates() -> None:
    assert latency_closer.rule(kiosk(0.3)) == []


def test_trust_inward_targets_the_allowed_tier_already_serving() -> None:
    rows = [portion("med", "edge", data_class="regulated", site="hospital"),
            portion("med", "hyperscale", data_class="regulated", requests_adjusted=30.0)]
    violations = pl.DataFrame({"workload": ["med"], "data_class": ["regulated"], "tier": ["hyperscale"],
                               "allowed_tiers": ["device,edge"], "spans": [4], "traces": [2], "sites": ["us-east-1"]})
    [rec] = trust_inward.rule(evidence(rows, violations=violations))
    assert (rec.from_tier, rec.to_tier, rec.to_site) == ("hyperscale", "edge", "hospital")
    assert rec.traffic_share == pytest.approx(0.03)


def test_batch_to_hyperscale_only_when_cheaper() -> None:
    # edge: $300 for 100 GPU-s ($3/s); hyperscale: $10 for 1000 GPU-s → training moves.
    rows = [portion("train", "edge", workload_type="training", budget_ms=600000.0),
            portion("other", "hyperscale", gpu_seconds=1000.0, compute_usd=10.0)]
    [rec] = batch_to_hyperscale.rule(evidence(rows))
    assert (rec.workload, rec.to_tier) == ("train", "hyperscale")
    assert rec.delta_cost_usd_month < 0
    pricey = [rows[0], portion("other", "hyperscale", gpu_seconds=10.0, compute_usd=1000.0)]
    assert batch_to_hyperscale.rule(evidence(pricey)) == []


def test_consolidate_idle_moves_the_small_non_critical_workload() -> None:
    rows = [portion("vision", "edge", site="plant", budget_ms=100.0, gpu_seconds=900.0),
            portion("tune", "edge", site="plant", workload_type="training", budget_ms=600000.0, gpu_seconds=50.0)]
    idle = pl.DataFrame({"tier": ["edge"], "site": ["plant"], "host_name": ["plant-gpu2"], "observed_gpu_hours": [100],
                         "idle_gpu_hours": [70], "idle_share_ratio": [0.7], "mean_utilization_ratio": [0.1]})
    [rec] = consolidate_idle.rule(evidence(rows, idle=idle))
    assert rec.workload == "tune"
    assert consolidate_idle.rule(evidence(rows, idle=idle.with_columns(idle_share_ratio=pl.lit(0.2)))) == []


def test_semantic_cache_rule_on_a_collapsed_cache() -> None:
    rows = [portion("chat", "edge"), portion("chat", "hyperscale", compute_usd=3000.0)]
    cache = pl.DataFrame({"tier": ["edge"], "workload": ["chat"], "cache_name": ["cdn"], "lookups": [100],
                          "hit_ratio": [0.05], "hit_e2e_p50_ms": [10.0], "miss_e2e_p50_ms": [1010.0]})
    [rec] = cache_fix.rule(evidence(rows, cache=cache))
    assert (rec.from_tier, rec.to_tier) == ("hyperscale", "edge")
    assert rec.delta_p95_ms == pytest.approx(-0.4 * 1000)
    # the origin's scorecard total: compute $3000 per 30 days scaled to 730 h + downtime (1 − 0.9995) × 730 h × $500
    assert rec.delta_cost_usd_month == pytest.approx(-0.4 * (3000 * 730 / 720 + 0.0005 * 730 * 500), rel=1e-3)
    assert cache_fix.rule(evidence(rows, cache=cache.with_columns(hit_ratio=pl.lit(0.5)))) == []
    # a window whose lookups all missed has no hit latency: the move stands, with no latency gain claimed
    [blind] = cache_fix.rule(evidence(rows, cache=cache.with_columns(hit_ratio=pl.lit(0.0),
                                                                      hit_e2e_p50_ms=pl.lit(None, pl.Float64))))
    assert blind.delta_p95_ms == 0 and "no hit in the window to compare latency with" in blind.reasons


def test_top_latency_edge_takes_the_busiest_at_risk_portion_first() -> None:
    ev = kiosk(0.3)
    [rec] = top_latency_edge.rule(ev)
    assert (rec.workload, rec.from_tier, rec.to_tier) == ("kiosk", "hyperscale", "edge")
    ok = replace(ev, budgets=ev.budgets.with_columns(e2e_p95_ms=pl.lit(100.0), e2e_meets_budget=pl.lit(True)))
    assert top_latency_edge.rule(ok) == []


def test_registry_and_ranking() -> None:
    assert len({r.name for r in RULES}) == len(RULES) == 6
    recs = recommend(kiosk(0.6))
    assert [r.rule for r in recs] == ["latency_closer"]  # top_latency_edge's same move is folded into it
    # without a [value] method the value is the money alone; the 123 ms saved are given in ms, never as money
    assert recs[0].value_usd_month == pytest.approx(-recs[0].delta_cost_usd_month, abs=0.01)
    assert recs[0].value_ms_p95_saved == pytest.approx(123) and recs[0].value_latency_usd_month is None
    assert "123 ms of p95 saved" in recs[0].value_note and "not priced" in recs[0].value_note
    # with one: + USD per ms of p95 per 1M requests × ms saved × the moved requests per month (kiosk's 200 ms budget
    # is latency-critical): 10 % of 1,000 requests over 30 days, scaled to a 730-hour month
    ev = kiosk(0.6)
    priced = recommend(replace(ev, thresholds=replace(ev.thresholds, value=ValueMethod(1000.0))))[0]
    per_month = 0.1 * 1000 * 730 / (24 * 30)
    assert priced.value_requests_per_month == pytest.approx(per_month, abs=0.1)
    assert priced.value_latency_usd_month == pytest.approx(1000 * 123 * per_month / 1e6, abs=0.01)
    assert priced.value_usd_month == pytest.approx(-priced.delta_cost_usd_month + 1000 * 123 * per_month / 1e6,
                                                   abs=0.02)


def test_whatif_refuses_unknown_portions() -> None:
    ev = kiosk(0.6)
    with pytest.raises(whatif.WhatIfError):
        whatif.estimate(ev.inputs, ev.card, ev.hops, "kiosk", "edge", "regional")


STARVED_COLS: dict[str, Any] = {
    "tier": pl.String, "site": pl.String, "host_name": pl.String, "workload": pl.String, "observed_hours": pl.Int64,
    "starved_hours": pl.Int64, "starved_share_ratio": pl.Float64, "starved_utilization_ratio": pl.Float64,
    "starved_queue_depth": pl.Float64}


def starved_host(tier: str, site: str, workload: str, hours: int) -> pl.DataFrame:
    return pl.DataFrame([{"tier": tier, "site": site, "host_name": f"{site}-gpu", "workload": workload,
                          "observed_hours": 100, "starved_hours": hours, "starved_share_ratio": hours / 100,
                          "starved_utilization_ratio": 0.2, "starved_queue_depth": 40.0}], schema=STARVED_COLS)


def test_consolidate_on_a_gpu_starved_host_in_place_with_the_evidence() -> None:
    rows = [portion("embed", "hyperscale", site="us-east-1", workload_type="embedding", budget_ms=60000.0,
                    gpu_seconds=5000.0, compute_usd=720.0),
            portion("chat", "hyperscale", site="us-east-1", gpu_seconds=90000.0)]
    ev = replace(evidence(rows), starved=starved_host("hyperscale", "us-east-1", "embed", 25))
    [rec] = consolidate_idle.rule(ev)
    assert (rec.workload, rec.from_tier, rec.from_site, rec.to_tier, rec.to_site) == (
        "embed", "hyperscale", "us-east-1", "hyperscale", "us-east-1")
    # the portion's scorecard total × 25 % starved × (1 − 0.2) utilization is what idle GPUs cost while starved
    now = whatif.estimate(ev.inputs, ev.card, ev.hops, "embed", "hyperscale", "hyperscale").current_usd_month
    assert rec.delta_cost_usd_month == pytest.approx(-now * 0.25 * 0.8, abs=0.01) and rec.delta_p95_ms == 0
    assert any("GPU-starved 25 of 100 hours" in r and "utilization 20%" in r and "40 requests" in r
               for r in rec.reasons)
    # short stalls (under starved_hours_min) and hosts without starvation get no move
    assert consolidate_idle.rule(replace(ev, starved=starved_host("hyperscale", "us-east-1", "embed", 2))) == []
    assert consolidate_idle.rule(evidence(rows)) == []


def test_a_starved_edge_host_sheds_its_non_critical_workload_to_hyperscale() -> None:
    rows = [portion("tune", "edge", site="plant", workload_type="training", budget_ms=600000.0, gpu_seconds=50.0),
            portion("other", "hyperscale", gpu_seconds=1000.0, compute_usd=10.0)]
    [rec] = consolidate_idle.rule(replace(evidence(rows), starved=starved_host("edge", "plant", "tune", 10)))
    assert (rec.workload, rec.from_tier, rec.to_tier) == ("tune", "edge", "hyperscale")
