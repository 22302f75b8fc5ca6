"""`tierwise metric` against a hand-made estate whose every number is worked out by hand.

The estate is tests/fixtures/known_truths (traces.jsonl and bills-focus.csv); its README.md explains each trace and
charge and writes out the arithmetic behind every expected value below. The truths come from the semantic model's
definitions (sampling weights from `ot=th:`, entries per dimension, batch exclusion, observed egress, prorated money
per currency), never from running SQL over the store.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import FIXTURES, count, isolated, rows, run_cli

KNOWN = FIXTURES / "known_truths"
Key = tuple[Any, ...]
Expected = dict[Key, dict[str, float]]


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant in November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def truths_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The estate loaded by the real `tierwise ingest` into a real DuckDB file (the data files by name: ingesting the
    folder would also try README.md, which it reports as unreadable and exits 1)."""
    workdir = tmp_path_factory.mktemp("known_truths")
    db = workdir / "truths.duckdb"
    with isolated(workdir):
        result = run_cli("ingest", "--quiet", "--db", str(db), str(KNOWN / "traces.jsonl"), str(KNOWN / "bills-focus.csv"))
    assert result.exit_code == 0, result.output
    return db


def metric(db: Path, *args: str) -> list[dict[str, Any]]:
    """`tierwise metric ARGS --format json --db DB` parsed."""
    result = run_cli("metric", *args, "--format", "json", "--db", str(db))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, list), out
    return out


def _key_value(name: str, value: Any) -> Any:
    if name != "time":
        return value
    t = datetime.fromisoformat(value)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)


def _empty(value: Any) -> bool:
    return value is None or value == 0 or (isinstance(value, float) and math.isnan(value))


def check(got: list[dict[str, Any]], keys: tuple[str, ...], expected: Expected) -> None:
    """Every expected row is there once with its values (rel 1e-9); any other row has nothing in those measures.

    An expected 0 also accepts null (a sum over no values); a group with no contribution may be absent or all 0/null.
    """
    measures = sorted({m for values in expected.values() for m in values})
    by_key: dict[Key, dict[str, Any]] = {}
    for row in got:
        key = tuple(_key_value(k, row.get(k)) for k in keys)
        assert key not in by_key, f"two rows for {key}: {by_key[key]} and {row}"
        by_key[key] = row
    for key, values in expected.items():
        assert key in by_key, f"no row for {dict(zip(keys, key, strict=True))} in {got}"
        row = by_key[key]
        for name, want in values.items():
            have = row.get(name)
            if want == 0 and _empty(have):
                continue
            assert have == pytest.approx(want, rel=1e-9), f"{name} of {key}: {have} != {want} (row {row})"
    for key, row in by_key.items():
        if key not in expected:
            assert all(_empty(row.get(m)) for m in measures), f"unexpected row {row}"


RATE = "requests,requests_sampled,errors,error_rate_pct"
LATENCY = "latency_p50_ms,latency_p95_ms,latency_p99_ms"
TOKENS = "input_tokens,output_tokens"
NOV_10_TO_20 = ("--from", "2026-11-10", "--to", "2026-11-20")
T1_ONLY = ("--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T10:10:00Z")
T2_ONLY = ("--from", "2026-11-20T10:10:00Z", "--to", "2026-11-20T10:20:00Z")
S1_ONLY = ("--from", "2026-11-20T11:00:00Z", "--to", "2026-11-20T11:05:00Z")

# (arguments after `metric`, dimension keys of a row, expected rows); README.md works out every number.
CASES = [
    # Requests, errors and batch exclusion (README "Requests and errors").
    pytest.param([RATE], (), {(): {"requests": 14, "requests_sampled": 6, "errors": 5, "error_rate_pct": 500 / 14}},
                 id="requests-total"),
    pytest.param([RATE, "--by", "workload"], ("workload",),
                 {("assistant",): {"requests": 9, "requests_sampled": 4, "errors": 4, "error_rate_pct": 400 / 9},
                  ("support",): {"requests": 5, "requests_sampled": 2, "errors": 1, "error_rate_pct": 20.0}},
                 id="requests-by-workload-batch-excluded"),
    pytest.param([RATE, "--by", "workload_type"], ("workload_type",),
                 {("inference",): {"requests": 14, "requests_sampled": 6, "errors": 5, "error_rate_pct": 500 / 14},
                  ("batch",): {"requests": 1, "requests_sampled": 1, "errors": 0, "error_rate_pct": 0}},
                 id="requests-by-workload-type-batch-present"),
    pytest.param(["requests,requests_sampled", "--by", "tier", "--where", "workload_type=batch"], ("tier",),
                 {("regional",): {"requests": 1, "requests_sampled": 1},
                  ("hyperscale",): {"requests": 1, "requests_sampled": 1}},
                 id="requests-by-tier-where-batch"),
    pytest.param([RATE, "--by", "tier"], ("tier",),
                 {("device",): {"requests": 9, "requests_sampled": 4, "errors": 4, "error_rate_pct": 400 / 9},
                  ("edge",): {"requests": 8, "requests_sampled": 4, "errors": 1, "error_rate_pct": 12.5},
                  ("hyperscale",): {"requests": 4, "requests_sampled": 2, "errors": 2, "error_rate_pct": 50.0}},
                 id="requests-by-tier"),
    pytest.param(["requests,errors", "--by", "site"], ("site",),
                 {("phones",): {"requests": 9, "errors": 4}, ("store-7",): {"requests": 8, "errors": 1},
                  ("store-9",): {"requests": 1, "errors": 1}, ("us-east-1",): {"requests": 4, "errors": 2}},
                 id="requests-by-site"),
    pytest.param(["requests,errors", "--by", "service"], ("service",),
                 {("phone-app",): {"requests": 9, "errors": 4}, ("edge-gw",): {"requests": 8, "errors": 1},
                  ("kiosk-web",): {"requests": 5, "errors": 1}, ("llm-api",): {"requests": 4, "errors": 2}},
                 id="requests-by-service"),
    pytest.param(["requests", "--by", "service,operation"], ("service", "operation"),
                 {("phone-app", "ask"): {"requests": 9}, ("edge-gw", "POST /assist"): {"requests": 3},
                  ("edge-gw", "GET /faq"): {"requests": 5}, ("kiosk-web", "GET /faq"): {"requests": 5},
                  ("llm-api", "chat"): {"requests": 4}},
                 id="requests-by-service-operation"),
    pytest.param(["requests", "--by", "data_class"], ("data_class",),
                 {("confidential",): {"requests": 9}, ("public",): {"requests": 5}},
                 id="requests-by-data-class"),
    pytest.param(["requests", "--where", "tier=edge"], (), {(): {"requests": 8}}, id="requests-where-tier-edge"),
    pytest.param(["requests", "--by", "time", "--grain", "hour"], ("time",),
                 {(at(20, 10),): {"requests": 9}, (at(20, 11),): {"requests": 5}},
                 id="requests-by-hour"),
    pytest.param(["requests", "--by", "time,workload_type", "--grain", "hour"], ("time", "workload_type"),
                 {(at(20, 2), "batch"): {"requests": 1}, (at(20, 10), "inference"): {"requests": 9},
                  (at(20, 11), "inference"): {"requests": 5}},
                 id="requests-by-hour-and-workload-type"),
    pytest.param(["requests,requests_sampled", "--from", "2026-11-20T10:30:00Z", "--to", "2026-11-20T11:05:00Z"], (),
                 {(): {"requests": 6, "requests_sampled": 2}},
                 id="requests-from-inclusive-to-exclusive"),
    # One trace at a time (README "Single traces").
    pytest.param(["requests,requests_sampled", "--by", "workload", *T1_ONLY], ("workload",),
                 {("assistant",): {"requests": 2, "requests_sampled": 1}},
                 id="t1-three-tiers-one-request"),
    pytest.param(["requests,requests_sampled", "--by", "tier", *T1_ONLY], ("tier",),
                 {("device",): {"requests": 2, "requests_sampled": 1}, ("edge",): {"requests": 2, "requests_sampled": 1},
                  ("hyperscale",): {"requests": 2, "requests_sampled": 1}},
                 id="t1-three-tiers-one-entry-each"),
    pytest.param(["requests,requests_sampled", "--by", "tier", *S1_ONLY], ("tier",),
                 {("edge",): {"requests": 4, "requests_sampled": 1}},
                 id="s1-client-root-server-child-same-tier-once"),
    pytest.param(["requests,requests_sampled", "--by", "service", *S1_ONLY], ("service",),
                 {("kiosk-web",): {"requests": 4, "requests_sampled": 1},
                  ("edge-gw",): {"requests": 4, "requests_sampled": 1}},
                 id="s1-two-services-two-entries"),
    pytest.param(["requests,requests_sampled", "--by", "tier", *T2_ONLY], ("tier",),
                 {("device",): {"requests": 1, "requests_sampled": 1}, ("edge",): {"requests": 1, "requests_sampled": 1}},
                 id="t2-delivered-twice-counts-once"),
    pytest.param([TOKENS, *T2_ONLY], (), {(): {"input_tokens": 50, "output_tokens": 20}},
                 id="t2-delivered-twice-tokens-once"),
    pytest.param(["egress_gb_observed", "--by", "tier", *T2_ONLY], ("tier",), {("device",): {"egress_gb_observed": 0.004}},
                 id="t2-delivered-twice-egress-once"),
    # Weighted latency percentiles (README "Latency").
    pytest.param([LATENCY], (), {(): {"latency_p50_ms": 250, "latency_p95_ms": 900, "latency_p99_ms": 900}},
                 id="latency-total"),
    pytest.param([LATENCY, "--by", "workload"], ("workload",),
                 {("assistant",): {"latency_p50_ms": 400, "latency_p95_ms": 900, "latency_p99_ms": 900},
                  ("support",): {"latency_p50_ms": 150, "latency_p95_ms": 150, "latency_p99_ms": 150}},
                 id="latency-by-workload"),
    pytest.param([LATENCY, "--by", "tier"], ("tier",),
                 {("device",): {"latency_p50_ms": 400, "latency_p95_ms": 900, "latency_p99_ms": 900},
                  ("edge",): {"latency_p50_ms": 150, "latency_p95_ms": 340, "latency_p99_ms": 340},
                  ("hyperscale",): {"latency_p50_ms": 170, "latency_p95_ms": 280, "latency_p99_ms": 280}},
                 id="latency-by-tier"),
    pytest.param(["latency_p50_ms", "--by", "workload_type"], ("workload_type",),
                 {("inference",): {"latency_p50_ms": 250}, ("batch",): {"latency_p50_ms": 60_000}},
                 id="latency-by-workload-type"),
    # Tokens (README "Tokens").
    pytest.param([TOKENS], (), {(): {"input_tokens": 101_370, "output_tokens": 300}}, id="tokens-total"),
    pytest.param([TOKENS, "--by", "tier"], ("tier",),
                 {("device",): {"input_tokens": 320, "output_tokens": 40},
                  ("edge",): {"input_tokens": 50, "output_tokens": 20},
                  ("hyperscale",): {"input_tokens": 101_000, "output_tokens": 240}},
                 id="tokens-by-tier"),
    pytest.param([TOKENS, "--by", "workload"], ("workload",),
                 {("assistant",): {"input_tokens": 1_370, "output_tokens": 300},
                  ("corpus-embed",): {"input_tokens": 100_000, "output_tokens": 0}},
                 id="tokens-by-workload"),
    # Observed egress (README "Egress").
    pytest.param(["egress_gb_observed"], (), {(): {"egress_gb_observed": 1.033}}, id="egress-total"),
    pytest.param(["egress_gb_observed", "--by", "tier"], ("tier",),
                 {("device",): {"egress_gb_observed": 0.022}, ("edge",): {"egress_gb_observed": 0.011},
                  ("regional",): {"egress_gb_observed": 1.0}},
                 id="egress-by-tier"),
    pytest.param(["egress_gb_observed", "--by", "site"], ("site",),
                 {("phones",): {"egress_gb_observed": 0.022}, ("store-7",): {"egress_gb_observed": 0.011},
                  ("ca-central",): {"egress_gb_observed": 1.0}},
                 id="egress-by-site"),
    pytest.param(["egress_gb_observed", "--by", "workload"], ("workload",),
                 {("assistant",): {"egress_gb_observed": 0.030}, ("support",): {"egress_gb_observed": 0.003},
                  ("corpus-embed",): {"egress_gb_observed": 1.0}},
                 id="egress-by-workload"),
    # Money (README "Costs").
    pytest.param(["effective_cost,billed_cost"], ("currency",),
                 {("USD",): {"effective_cost": 3_440, "billed_cost": 3_740},
                  ("CAD",): {"effective_cost": 1_575, "billed_cost": 1_875}},
                 id="cost-whole-ledger-per-currency"),
    pytest.param(["effective_cost,billed_cost", *NOV_10_TO_20], ("currency",),
                 {("USD",): {"effective_cost": 1_170, "billed_cost": 1_270},
                  ("CAD",): {"effective_cost": 575, "billed_cost": 675}},
                 id="cost-nov-10-to-20-per-currency"),
    pytest.param(["effective_cost", "--by", "tier", *NOV_10_TO_20], ("currency", "tier"),
                 {("USD", "hyperscale"): {"effective_cost": 1_000}, ("USD", "edge"): {"effective_cost": 170},
                  ("CAD", "regional"): {"effective_cost": 545}, ("CAD", "edge"): {"effective_cost": 30}},
                 id="cost-by-tier-two-currencies"),
    pytest.param(["effective_cost", "--by", "time", "--grain", "day", "--from", "2026-11-19", "--to", "2026-11-21"],
                 ("currency", "time"),
                 {("USD", at(19)): {"effective_cost": 220}, ("USD", at(20)): {"effective_cost": 300},
                  ("CAD", at(19)): {"effective_cost": 50}, ("CAD", at(20)): {"effective_cost": 50}},
                 id="cost-by-day"),
    pytest.param(["effective_cost", "--where", "tier=edge", "--from", "2026-11-19", "--to", "2026-11-19T18:00:00Z"],
                 ("currency",), {("USD",): {"effective_cost": 60}},
                 id="cost-daily-charge-prorated-by-hours"),
]


@pytest.mark.parametrize(("args", "keys", "expected"), CASES)
def test_metric_matches_the_hand_worked_truth(truths_db: Path, args: list[str], keys: tuple[str, ...],
                                              expected: Expected) -> None:
    got = metric(truths_db, *args)
    check(got, keys, expected)
    if any(m in args[0].split(",") for m in ("effective_cost", "billed_cost")):
        assert all(row.get("currency") in {"USD", "CAD"} for row in got), got


def test_the_estate_lands_as_the_readme_says(truths_db: Path) -> None:
    """The fixture itself: nothing quarantined, duplicates stored as delivered, tiers, weights' thresholds and bytes."""
    assert count(truths_db, "quarantine") == 0
    assert count(truths_db, "spans") == 23  # 19 distinct spans + T2's 3 again + T4's hyperscale span again
    distinct = rows(truths_db, "SELECT count(*) AS n FROM (SELECT DISTINCT trace_id, span_id FROM spans)")
    assert distinct[0]["n"] == 19
    per_trace = rows(truths_db, "SELECT left(trace_id, 2) AS t, list(DISTINCT tier ORDER BY tier) AS tiers, "
                                "any_value(trace_state) AS ts, count(*) AS n FROM spans GROUP BY 1 ORDER BY 1")
    assert [(r["t"], r["tiers"], r["ts"], r["n"]) for r in per_trace] == [
        ("a1", ["device", "edge", "hyperscale"], "ot=th:8", 5),
        ("a2", ["device", "edge"], None, 6),
        ("a3", ["device"], "congo=t61rcWkgMzE,ot=th:c", 1),
        ("a4", ["device", "hyperscale"], "ot=th:8", 4),
        ("b1", ["hyperscale", "regional"], None, 3),
        ("c1", ["edge"], "ot=th:c", 2),
        ("c2", ["edge"], None, 2),
    ]
    once = ("SELECT any_value(request_bytes) AS rq, any_value(response_bytes) AS rs, any_value(input_tokens) AS tin, "
            "any_value(output_tokens) AS tout FROM spans GROUP BY trace_id, span_id")
    totals = rows(truths_db, f"SELECT sum(rq) AS rq, sum(rs) AS rs, sum(tin) AS tin, sum(tout) AS tout FROM ({once})")
    assert totals == [{"rq": 206_200_000, "rs": 815_800_000, "tin": 100_630, "tout": 150}]  # unweighted, once per span
    ledger = rows(truths_db, "SELECT BillingCurrency AS c, x_Tier AS tier, count(*) AS n, sum(EffectiveCost)::DOUBLE AS e "
                             "FROM costs GROUP BY ALL ORDER BY ALL")
    assert [(r["c"], r["tier"], r["n"], r["e"]) for r in ledger] == [
        ("CAD", "edge", 1, 30.0), ("CAD", "regional", 2, 1_545.0), ("USD", "edge", 2, 290.0), ("USD", "hyperscale", 3, 3_150.0),
    ]


def test_user_rates_convert_money_into_one_currency(truths_db: Path, tmp_path: Path) -> None:
    """With `[currency]` rates the CAD ledger is converted (1,575 CAD × 0.75 = 1,181.25 USD) and added to the USD
    rows: 3,440 + 1,181.25 = 4,621.25 USD; without them the two currencies stay apart (the truths above)."""
    config = tmp_path / "config" / "rates.toml"  # not ./tierwise.toml, which every command would read
    config.parent.mkdir()
    config.write_text('[currency]\nreport = "USD"\n[currency.rates]\nCAD = 0.75\n', encoding="utf-8")
    result = run_cli("metric", "effective_cost", "--config", str(config), "--format", "json", "--db", str(truths_db))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"currency": "USD", "effective_cost": pytest.approx(4621.25, rel=1e-12)}]
    table = run_cli("metric", "effective_cost", "--by", "tier", "--db", str(truths_db))
    assert table.exit_code == 0 and "CAD" in table.output and "USD" in table.output and "Total" in table.output
