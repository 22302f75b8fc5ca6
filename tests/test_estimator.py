"""One estimator for the what-if and the recommendations: the framework's refusals, observed evidence winning over a
configured factor, the Δp95 range, and dismissed moves leaving projected savings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import isolated, run_cli
from test_recommend_rules import evidence, kiosk, portion

from queries import savings, whatif
from queries.policy import from_config
from queries.recommend import recommend
from queries.recommend.common import move

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "committed"
ADJUSTING = ("cache_fix", "consolidate_idle")  # these rules price part of a portion, not a whole move


def test_moves_the_framework_forbids_are_refused_with_the_reason() -> None:
    rows = [portion("trainer", "hyperscale", workload_type="training", requests_adjusted=10.0),
            portion("records", "edge", data_class="regulated"), portion("records", "device", data_class="regulated"),
            portion("chat", "hyperscale")]
    ev = replace(evidence(rows), policy=from_config({}))
    training = move(ev, "trainer", "hyperscale", "device")
    assert not training.allowed and "training work does not run on devices" in str(training.refusal)
    regulated = move(ev, "records", "edge", "hyperscale")
    assert "regulated data may stay only in device, edge" in str(regulated.refusal)
    # chat's hyperscale portion is where its requests start: no device can take them
    assert "a device serves only its own user" in str(move(ev, "chat", "hyperscale", "device").refusal)
    assert move(ev, "records", "device", "edge").allowed and move(ev, "chat", "hyperscale", "edge").allowed
    # without a policy (the rules' default evidence) nothing is refused: the estimate alone is the same
    plain = whatif.estimate(ev.inputs, ev.card, ev.hops, "trainer", "device", "hyperscale")
    assert plain.allowed and plain.delta_cost_usd_month == training.delta_cost_usd_month


def test_observed_compute_on_the_target_wins_over_the_configured_speed_and_the_reasons_say_so() -> None:
    ev = kiosk(0.6)
    both = replace(ev, inputs=pl.concat([ev.inputs, evidence([portion("kiosk", "edge", budget_ms=200.0,
                                                                      requests_adjusted=400.0,
                                                                      compute_p95_ms=40.0)]).inputs]))
    seen = move(both, "kiosk", "hyperscale", "edge")
    assumed = move(ev, "kiosk", "hyperscale", "edge")
    assert (seen.evidence, assumed.evidence) == ("observed", "assumed")
    # the default speeds (hyperscale 8, edge 3) would make edge's compute 60 × 8 ÷ 3 = 160 ms; edge measured 40 ms
    assert seen.compute_p95_after_ms == 40.0 and assumed.compute_p95_after_ms == pytest.approx(160.0)
    assert "observed for kiosk on edge over 400 requests" in seen.evidence_note
    assert "speed hyperscale 8 ÷ edge 3" in assumed.evidence_note
    # the range spans the observed and the assumed estimate (120 ms apart); with one source it is a point
    assert (seen.delta_p95_ms_low, seen.delta_p95_ms_high) == (seen.delta_p95_ms, assumed.delta_p95_ms)
    assert assumed.delta_p95_ms - seen.delta_p95_ms == pytest.approx(120.0)
    assert assumed.delta_p95_ms_low == assumed.delta_p95_ms == assumed.delta_p95_ms_high
    [rec] = [r for r in recommend(both) if r.to_tier == "edge"][:1]
    assert rec.evidence == "observed" and any(r.startswith("Δp95 rests on: compute p95 40 ms observed") for r in rec.reasons)


def test_a_dismissed_move_leaves_projected_savings_and_an_accepted_one_is_realised() -> None:
    recs = pl.DataFrame({"workload": ["a", "b"], "from_tier": ["hyperscale"] * 2, "to_tier": ["edge"] * 2,
                         "rule": ["r", "r"], "delta_cost_usd_month": [-100.0, -40.0], "value_usd_month": [100.0, 40.0],
                         "delta_p95_ms": [-5.0, 0.0]})
    every = savings.summary(recs, []).row(0, named=True)
    decided = savings.summary(recs, ["a|hyperscale|edge|r"], ["b|hyperscale|edge|r"]).row(0, named=True)
    assert every["projected_savings_usd_month"] == 140.0 and every["recommendations"] == 2
    assert (decided["projected_savings_usd_month"], decided["realised_savings_usd_month"],
            decided["recommendations"]) == (100.0, 100.0, 1)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("estimator")
    with isolated(work):
        done = run_cli("ingest", "--quiet", "--db", str(work / "s.duckdb"), *map(str, sorted(
            (SAMPLE / "traces").glob("*.jsonl.gz"))), str(SAMPLE / "bills"))
    assert done.exit_code == 0, done.output
    return work / "s.duckdb"


def test_the_whatif_of_every_recommended_move_equals_its_card(sample_db: Path) -> None:
    with isolated(sample_db.parent):
        recs = json.loads(run_cli("recommend", "--db", str(sample_db), "--format", "json").output)
        assert recs
        for r in recs:
            for key in ("delta_cost", "currency", "delta_p95_ms_range", "evidence", "value", "confidence"):
                assert key in r, key
            if r["rule"] in ADJUSTING:
                continue
            out = run_cli("whatif", "--db", str(sample_db), "--workload", r["workload"], "--to", r["to_tier"],
                          "--from", r["from_tier"], "--format", "json").output
            (w,) = json.loads(out)
            assert w["allowed"] and w["refusal"] is None
            assert (w["delta_cost"], round(w["delta_p95_ms"], 3), w["evidence"], w["currency"]) == (
                pytest.approx(r["delta_cost"], abs=0.01), r["delta_p95_ms"], r["evidence"], r["currency"])
            assert [round(x, 3) for x in w["delta_p95_ms_range"]] == r["delta_p95_ms_range"]


def test_a_refused_whatif_exits_0_and_says_why(sample_db: Path) -> None:
    with isolated(sample_db.parent):
        out = run_cli("whatif", "--db", str(sample_db), "--workload", "factory-finetune", "--to", "device",
                      "--format", "json")
        table = run_cli("whatif", "--db", str(sample_db), "--workload", "factory-finetune", "--to", "device")
    assert out.exit_code == 0 and table.exit_code == 0, out.output
    (w,) = json.loads(out.output)
    assert w["allowed"] is False and "does not run on devices" in w["refusal"]
    assert "not allowed: training work does not run on devices" in table.output
