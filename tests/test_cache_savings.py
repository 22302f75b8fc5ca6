"""Cache money: `cache_savings` golden on the tiny store, a hand-worked number, sampling weights, the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from ingest_helpers import FIXTURES, run_cli
from ledger_support import insert_cost

import store
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine

TINY = FIXTURES / "tiny_store"


@pytest.fixture(scope="module")
def sre_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = ingest_isolated(tmp_path_factory.mktemp("tiny_cache"),
                            [TINY / f for f in ("traces.jsonl", "metrics.jsonl", "bills-focus.csv")])
    return db


def test_golden_and_hand_worked(sre_db: Path) -> None:
    got = run_query(sre_db, "cache_savings")
    assert_golden("cache_savings", got)
    (row,) = got.iter_rows(named=True)
    # edge: $40 over 9 edge requests; hyperscale: $105 over 23 adjusted requests (17 spans, two of them 1-in-4).
    # A hit is its edge request only; a miss adds a hyperscale request: each hit saves 105/23, two hits.
    assert (row["tier"], row["workload"], row["cache_name"], row["hits"]) == ("edge", "chat", "semantic-cache", 2)
    assert row["hit_request_usd"] == pytest.approx(40 / 9)
    assert row["miss_request_usd"] == pytest.approx(40 / 9 + 105 / 23)
    assert row["cost_saved_usd"] == pytest.approx(2 * 105 / 23)
    printed = run_cli("query", "cache_savings", "--db", str(sre_db), "--format", "csv")
    assert printed.exit_code == 0, printed.output
    assert pl.read_csv(io.StringIO(printed.stdout))["cost_saved_usd"][0] == pytest.approx(2 * 105 / 23)
    window = run_query(sre_db, "cache_savings", {"workload": "chat", "end_ns": 1}).height
    assert window == 0


INSERT = """INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, status_code, tier, tier_source, site,
    workload, start_ns, end_ns, duration_ns, batch_key, cache_hit, cache_name, trace_state)
    VALUES ($t, $s, $p, 'op', 'server', 'unset', $tier, 'declared', 'x', 'w', $start, $start + 1000, 1000, 'test',
            $hit, $cache, $ts)"""


def test_hits_are_weighted_by_their_sampling_and_cost_follows_the_miss_path() -> None:
    """A 1-in-2 sampled hit stands for two hits; a miss reaches hyperscale ($60 over its 3 adjusted requests)."""
    con = duckdb.connect(":memory:")
    store.migrate(con)
    start = 1767225600 * 10**9  # 2026-01-01
    duck = DuckDBEngine(con)
    cols = registry.run(duck, "cache_savings").columns
    assert "cost_saved_usd" in cols
    for i, (hit, ts) in enumerate(((True, "ot=th:8"), (False, None), (False, None))):
        con.execute(INSERT, {"t": f"{i:032x}", "s": f"a{i:015x}", "p": None, "tier": "edge", "start": start + i,
                             "hit": hit, "cache": "sem", "ts": ts})
        if not hit:
            con.execute(INSERT, {"t": f"{i:032x}", "s": f"b{i:015x}", "p": f"a{i:015x}", "tier": "hyperscale",
                                 "start": start + i, "hit": None, "cache": None, "ts": None})
    con.execute("INSERT INTO spans (trace_id, span_id, name, kind, status_code, tier, tier_source, workload, start_ns,"
                " end_ns, duration_ns, batch_key) VALUES ('f' || repeat('0', 31), 'c', 'op', 'server', 'unset',"
                " 'hyperscale', 'declared', 'w', $s, $s + 1, 1, 'test')", {"s": start})
    insert_cost(con, BilledCost=60, EffectiveCost=60, ChargePeriodStart="2026-01-01", x_Tier="hyperscale")
    (row,) = registry.run(duck, "cache_savings").iter_rows(named=True)
    assert row["hits_adjusted"] == 2.0 and row["hit_request_usd"] == 0.0
    assert row["miss_request_usd"] == pytest.approx(20.0)
    assert row["cost_saved_usd"] == pytest.approx(40.0)


SPAN = """INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, status_code, tier, tier_source, site,
    workload, start_ns, end_ns, duration_ns, batch_key, cache_hit, cache_name)
    VALUES ($t, $s, $p, 'op', $kind, 'unset', $tier, 'declared', 'x', 'w', $start, $start + 1000, 1000, 'test',
            $hit, $cache)"""


def test_a_lookup_costs_its_whole_trace_and_a_trace_without_requests_costs_nothing() -> None:
    """Two lookups in one trace each cost that trace ($15 edge + $12 hyperscale); a lookup whose trace has no request
    span costs $0 and still counts in the miss average; a cache with misses only saves nothing known (NULL)."""
    con = duckdb.connect(":memory:")
    store.migrate(con)
    start = 1767225600 * 10**9  # 2026-01-01
    spans = (  # trace, span, parent, kind, tier, cache_hit, cache_name
        ("a", "a1", None, "server", "edge", True, "sem"),         # a request and a hit
        ("a", "a2", "a1", "internal", "edge", False, "sem"),      # a miss in the same trace
        ("a", "a3", "a1", "server", "hyperscale", None, None),    # the trace's second request
        ("b", "b1", "zz", "internal", "edge", False, "sem"),      # a miss in a trace without request spans
        ("c", "c1", None, "consumer", "edge", False, "kv"),       # a request and the only lookup of cache kv
    )
    for t, s, p, kind, tier, hit, cache in spans:
        con.execute(SPAN, {"t": t * 32, "s": s * 8, "p": p and p * 8, "kind": kind, "tier": tier, "start": start,
                           "hit": hit, "cache": cache})
    insert_cost(con, BilledCost=30, EffectiveCost=30, ChargePeriodStart="2026-01-01", x_Tier="edge")
    insert_cost(con, BilledCost=12, EffectiveCost=12, ChargePeriodStart="2026-01-01", x_Tier="hyperscale")
    kv, sem = registry.run(DuckDBEngine(con), "cache_savings").iter_rows(named=True)
    assert (sem["cache_name"], sem["lookups"], sem["hits"], sem["hits_adjusted"]) == ("sem", 3, 1, 1.0)
    assert sem["hit_request_usd"] == pytest.approx(27.0)            # $30 / 2 edge requests + $12 / 1 hyperscale
    assert sem["miss_request_usd"] == pytest.approx((27.0 + 0.0) / 2)
    assert sem["cost_saved_usd"] == pytest.approx(-13.5)
    assert (kv["cache_name"], kv["lookups"], kv["hits"], kv["hits_adjusted"]) == ("kv", 1, 0, 0.0)
    assert kv["hit_request_usd"] is None and kv["cost_saved_usd"] is None
    assert kv["miss_request_usd"] == pytest.approx(15.0)
