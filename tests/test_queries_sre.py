"""The SRE analyses (GPU, cache, egress, escalation, trust zones, budgets, slow paths, regressions): goldens and units."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import assert_golden_and_cli, ingest_isolated, run_query
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import FIXTURES, run_cli

import store
from queries import loader, policy, registry, slow_path
from queries.engines.duckdb_engine import DuckDBEngine

TINY = FIXTURES / "tiny_store"
SOURCES = ("traces.jsonl", "metrics.jsonl", "bills-focus.csv")

# (golden file stem, query, parameters): one at least per query this suite owns.
CASES: list[tuple[str, str, dict[str, object]]] = [
    ("gpu_utilization_by_node", "gpu_utilization_by_node", {}),
    ("gpu_utilization_by_node__edge_day", "gpu_utilization_by_node", {"bucket": "day", "tier": "edge"}),
    ("gpu_idle_hours", "gpu_idle_hours", {}),
    ("gpu_idle_hours__half", "gpu_idle_hours", {"idle_threshold_ratio": 0.5}),
    ("gpu_starvation", "gpu_starvation", {}),
    ("gpu_cost_vs_use", "gpu_cost_vs_use", {}),
    ("cache_hit_rate", "cache_hit_rate", {}),
    ("egress_by_tier_pair_spans", "egress_by_tier_pair_spans", {}),
    ("escalations", "escalations", {}),
    ("escalation_reasons", "escalation_reasons", {}),
    ("trust_zone_violations", "trust_zone_violations", {}),
    ("trust_zone_violations__confidential_on_device", "trust_zone_violations", {"confidential_tiers": "device"}),
    ("latency_budgets", "latency_budgets", {"budgets": "notes=100"}),
    ("latency_regressions", "latency_regressions", {"min_requests": 1}),
    ("latency_regressions__default", "latency_regressions", {"workload": "ledger"}),
    ("trace_attributes", "trace_attributes", {"workload": "kiosk"}),
    ("slow_path", "slow_path", {}),
    ("slow_attributes", "slow_attributes", {"workload": "kiosk", "min_support": 1}),
]
OWNED_SQL = {"gpu_utilization_by_node", "gpu_idle_hours", "gpu_starvation", "gpu_cost_vs_use", "cache_hit_rate",
             "egress_by_tier_pair_spans", "escalations", "escalation_reasons", "trust_zone_violations",
             "latency_budgets", "latency_regressions", "trace_attributes"}


@pytest.fixture(scope="module")
def sre_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store with its metrics, loaded by the real `tierwise ingest`."""
    db, output = ingest_isolated(tmp_path_factory.mktemp("tiny_sre"), [TINY / f for f in SOURCES])
    for accepted in (56, 48, 4):
        assert f"{accepted} accepted, 0 rejected" in output
    return db


_run = run_query


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows_and_cli(sre_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    assert_golden_and_cli(sre_db, stem, name, params)


def test_every_owned_sql_has_a_golden() -> None:
    assert set(loader.names()) >= OWNED_SQL
    assert {name for _, name, _ in CASES} >= OWNED_SQL | {"slow_path", "slow_attributes"}


def test_hand_computed_numbers(sre_db: Path) -> None:
    """Numbers worked out on paper in tests/fixtures/tiny_store/README.md."""
    idle = _run(sre_db, "gpu_idle_hours").rows_by_key("host_name", named=True, unique=True)
    assert (idle["gpu-edge-1"]["idle_gpu_hours"], idle["gpu-edge-1"]["observed_gpu_hours"]) == (1, 2)
    assert idle["gpu-hs-1"]["idle_gpu_hours"] == 0
    (starved,) = _run(sre_db, "gpu_starvation").iter_rows(named=True)
    assert (starved["host_name"], starved["mean_utilization_ratio"], starved["mean_queue_depth"]) == (
        "gpu-hs-1", pytest.approx(0.2), 40.0)
    cost = _run(sre_db, "gpu_cost_vs_use").rows_by_key("host_name", named=True, unique=True)
    assert (cost["gpu-hs-1"]["allocated_usd"], cost["gpu-hs-1"]["idle_usd"]) == (100.0, pytest.approx(45.0))
    assert (cost["gpu-edge-1"]["allocated_usd"], cost["gpu-edge-1"]["used_usd"]) == (40.0, pytest.approx(16.0))
    cache = _run(sre_db, "cache_hit_rate").rows_by_key("tier", named=True, unique=True)
    assert cache["edge"]["hit_ratio"] == 0.5 and cache["edge"]["hit_e2e_p95_ms"] == pytest.approx(29.5)
    assert cache["edge"]["miss_e2e_p95_ms"] == pytest.approx(238.0) and cache["hyperscale"]["token_hit_ratio"] == 0.1
    egress = _run(sre_db, "egress_by_tier_pair_spans").rows_by_key(["from_tier", "to_tier"], named=True, unique=True)
    assert egress[("device", "hyperscale")]["response_bytes"] == 17000  # 8 000 + 9 000, sampled 1 in 4
    assert egress[("device", "hyperscale")]["response_bytes_adjusted"] == 68000
    esc = _run(sre_db, "escalations").rows_by_key("workload", named=True, unique=True)
    assert esc["kiosk"]["reached_hyperscale_ratio"] == pytest.approx(0.4) and esc["copilot"]["escalated_ratio"] == 0.5
    zones = _run(sre_db, "trust_zone_violations")
    assert zones.select("workload", "data_class", "tier").rows() == [
        ("notes", "confidential", "hyperscale"), ("triage", "regulated", "hyperscale")]
    assert zones["example_trace_ids"].to_list() == ["e1" * 16, "d2" * 16]
    budgets = _run(sre_db, "latency_budgets", {"budgets": "notes=100"}).rows_by_key(
        ["workload", "tier"], named=True, unique=True)
    assert budgets[("kiosk", "device")]["p95_ms"] == pytest.approx(460.0)  # 300 + 0.8 × (500 − 300)
    assert budgets[("kiosk", "device")]["latency_class"] == "100–300 ms: regional"
    assert budgets[("notes", "regional")]["budget_source"] == "config"
    assert not _run(sre_db, "latency_regressions")["regressed"].any()  # one request a day: below min_requests
    flagged = _run(sre_db, "latency_regressions", {"min_requests": 1}).filter("regressed")
    assert flagged.select("workload", "p95_ms", "baseline_ms", "mad_ms", "threshold_ms").rows() == [
        ("ledger", 200.0, 100.0, 1.0, 110.0)]
    path = _run(sre_db, "slow_path", {"workload": "kiosk"}).rows_by_key(["level", "component"], named=True, unique=True)
    assert path[("hop", "device→hyperscale")]["share_of_gap_pct"] == pytest.approx(180 / 440 * 100)
    assert path[("tier", "hyperscale")]["p95_ms"] == 300.0 and path[("tier", "device")]["gap_ms"] == -40.0


def test_policy_comes_from_tierwise_toml(sre_db: Path, tmp_path: Path) -> None:
    """`[trust_zones]` and `[latency_budgets]` in ./tierwise.toml become the parameters' defaults (cwd is tmp_path)."""
    (tmp_path / "tierwise.toml").write_text('[trust_zones]\nconfidential = ["device", "edge", "regional", "hyperscale"]\n'
                                            "[latency_budgets]\nnotes = 60\n", encoding="utf-8")
    assert _run(sre_db, "trust_zone_violations")["workload"].to_list() == ["triage"]
    notes = _run(sre_db, "latency_budgets").filter(workload="notes", tier="regional").row(0, named=True)
    assert (notes["budget_ms"], notes["budget_source"], notes["meets_budget"]) == (60.0, "config", False)
    listing = run_cli("query", "--list")
    assert "default 'device,edge,regional,hyperscale'" in listing.output and "default 'notes=60'" in listing.output


def test_policy_defaults() -> None:
    default = policy.from_config({})
    assert default.tiers_param("regulated") == "device,edge" and default.tiers_param("public") is None
    assert default.budgets_param() is None
    assert policy.from_config({"latency_budgets": {"b": 2, "a": 1.5}}).budgets_param() == "a=1.5,b=2"


# --- polars jobs on hand-made frames -------------------------------------------------------------------------

SPAN_COLS = ("trace_id", "span_id", "parent_span_id", "start_ns", "end_ns", "service_name", "name", "tier", "kind",
             "site", "workload")
Row = tuple[str, str, str | None, int, int, str, str, str, str, str, str]


def _spans(rows: list[Row]) -> pl.LazyFrame:
    schema = dict(zip(SPAN_COLS, (pl.String, pl.String, pl.String, pl.Int64, pl.Int64, pl.String, pl.String,
                                  pl.String, pl.String, pl.String, pl.String), strict=True))
    return pl.LazyFrame(rows, schema=schema, orient="row")


def _call(trace: str, e2e_ms: int, client_ms: int, server_ms: int) -> list[Row]:
    """Device root → CLIENT → edge SERVER; durations in ms, the client centred in the root, the server in the client."""
    ms = 10**6
    c0 = (e2e_ms - client_ms) // 2 * ms
    s0 = c0 + (client_ms - server_ms) // 2 * ms
    return [(trace, "r", None, 0, e2e_ms * ms, "app", "ask", "device", "internal", "p", "w"),
            (trace, "c", "r", c0, c0 + client_ms * ms, "app", "POST", "device", "client", "p", "w"),
            (trace, "s", "c", s0, s0 + server_ms * ms, "gw", "chat", "edge", "server", "e", "w")]


def test_slow_path_splits_the_gap() -> None:
    """Ranks 0, ½, 1: the p50 trace is 100 ms (10 device, 10 hop, 80 edge), the p95 one 300 ms (10, 90, 200)."""
    fastest, middle, slow = _call("t0", 50, 40, 30), _call("t1", 100, 90, 80), _call("t2", 300, 290, 200)
    out = slow_path.slow_path(_spans(fastest + middle + slow)).collect().rows_by_key(["level", "component"], named=True,
                                                                         unique=True)
    assert out[("tier", "edge")]["gap_ms"] == 120.0 and out[("hop", "device→edge")]["gap_ms"] == 80.0
    assert out[("tier", "device")]["gap_ms"] == 0.0
    assert out[("tier", "edge")]["share_of_gap_pct"] == pytest.approx(60.0)
    assert out[("operation", "gw: chat")]["share_of_p95_pct"] == pytest.approx(200 / 3)


def test_slow_attributes_lift_and_support() -> None:
    rows = pl.LazyFrame(
        {"workload": ["w"] * 9, "trace_id": ["a", "a", "b", "c", "d", "e", "f", "f", "g"],
         "e2e_ns": [10, 10, 11, 12, 13, 14, 100, 100, 90],
         "attribute": ["site", "cache", "site", "site", "site", "site", "site", "cache", "cache"],
         "value": ["x", "miss", "x", "x", "y", "y", "y", "miss", "hit"]})
    # 7 traces; p90 of (10 11 12 13 14 90 100) = 90 + 0.4 × 10 = 94: only f is slow.
    out = slow_path.slow_attributes(rows, quantile=0.9, min_support=1).collect()
    assert out.select("attribute", "value", "slow_traces", "typical_traces", "lift").rows() == [
        ("cache", "miss", 1, 1, 6.0), ("site", "y", 1, 2, 3.0)]
    assert out["threshold_ms"][0] == pytest.approx(94e-6)
    only_slow = slow_path.slow_attributes(rows.filter(pl.col("trace_id") != "a"), 0.9, 1).collect()
    assert only_slow.row(0, named=True)["value"] == "miss" and only_slow["lift"][0] is None  # ranked first
    assert slow_path.slow_attributes(rows, 0.9, 2).collect().height == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500), st.integers(0, 500), st.integers(0, 500), st.integers(-3000, 3000)),
                min_size=1, max_size=12))
def test_slow_path_hops_never_negative_and_shares_add_up(calls: list[tuple[int, int, int, int]]) -> None:
    """Any durations and clock offsets: hop time ≥ 0 after skew repair, tier+hop shares of p95 sum to 100."""
    ms = 10**6
    rows: list[Row] = []
    for i, (root, client, server, offset) in enumerate(calls):
        t = f"t{i}"
        rows += [(t, "r", None, 0, root * ms, "app", "ask", "device", "internal", "p", "w"),
                 (t, "c", "r", 0, min(client, root) * ms, "app", "POST", "device", "client", "p", "w"),
                 (t, "s", "c", offset * ms, (offset + server) * ms, "gw", "chat", "edge", "server", "e", "w")]
    out = slow_path.slow_path(_spans(rows)).collect()
    assert (out.filter(level="hop")["p95_ms"] >= 0).all() and (out.filter(level="hop")["p50_ms"] >= 0).all()
    for level in (("tier", "hop"), ("operation",)):
        total = out.filter(pl.col("level").is_in(level))["share_of_p95_pct"].sum()
        assert total == pytest.approx(100.0)


INSERT = """INSERT INTO spans (trace_id, span_id, name, kind, status_code, tier, tier_source, workload, start_ns,
    end_ns, duration_ns, cache_hit, batch_key)
    VALUES ($t, 's', 'op', 'server', 'unset', 'edge', 'declared', 'w', $start, $start + $d, $d, $hit, 'test')"""


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.booleans(), st.integers(0, 20)), min_size=1, max_size=30))
def test_percentiles_are_ordered_and_constant_days_never_regress(rows: list[tuple[int, bool, int]]) -> None:
    con = duckdb.connect(":memory:")
    store.migrate(con)
    for i, (d, hit, day) in enumerate(rows):
        con.execute(INSERT, {"t": f"{i:032x}", "start": 1_700_000_000 * 10**9 + day * 86_400 * 10**9 + i, "d": d,
                             "hit": hit})
    duck = DuckDBEngine(con)
    for row in registry.run(duck, "cache_hit_rate").iter_rows(named=True):
        for side in ("hit", "miss"):
            if row[f"{side}_e2e_p50_ms"] is not None:
                assert row[f"{side}_e2e_p50_ms"] <= row[f"{side}_e2e_p95_ms"]
    for row in registry.run(duck, "latency_budgets").iter_rows(named=True):
        assert row["p95_ms"] <= max(d for d, _, _ in rows) / 1e6 + 1e-9
    con.execute("UPDATE spans SET duration_ns = 5000000, end_ns = start_ns + 5000000")
    assert not registry.run(duck, "latency_regressions", {"min_requests": 1})["regressed"].any()
