"""Per-tier latency is request latency of serving paths: hours-long batch and training roots stay out by default."""

from __future__ import annotations

import duckdb
import pytest

import store
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine

INSERT = """INSERT INTO spans (trace_id, span_id, name, kind, status_code, tier, tier_source, workload, workload_type,
    start_ns, end_ns, duration_ns, batch_key)
    VALUES ($t, 's', 'op', $k, 'unset', 'regional', 'declared', $w, $wt, $start, $start + $d, $d, 'test')"""


@pytest.fixture
def duck() -> DuckDBEngine:
    """Regional: 19 interactive requests of 100 ms, one undeclared of 200 ms, and a 2-hour batch and training root."""
    c = duckdb.connect(":memory:")
    store.migrate(c)
    rows = [("chat", "inference", "server", 100_000_000)] * 19 + [("legacy", None, "server", 200_000_000)]
    rows += [("rollup", "batch", "internal", 7_200 * 10**9), ("train", "training", "internal", 7_200 * 10**9)]
    for i, (w, wt, kind, d) in enumerate(rows):
        c.execute(INSERT, {"t": f"{i:032x}", "k": kind, "w": w, "wt": wt, "start": 10**18 + i, "d": d})
    return DuckDBEngine(c)


def test_default_is_interactive(duck: DuckDBEngine) -> None:
    (row,) = registry.run(duck, "latency_by_tier").iter_rows(named=True)
    assert row["requests"] == 20 and row["p99_ms"] <= 200.0  # undeclared types count as serving work
    assert row["p95_ms"] == pytest.approx(100 + 0.05 * 100)  # rank 18.05 of 0..19: between 100 and 200 ms


def test_batch_and_all_on_request(duck: DuckDBEngine) -> None:
    (batch,) = registry.run(duck, "latency_by_tier", {"workload_class": "batch"}).iter_rows(named=True)
    assert batch["requests"] == 2 and batch["p50_ms"] == 7_200_000.0
    (everything,) = registry.run(duck, "latency_by_tier", {"workload_class": "all"}).iter_rows(named=True)
    assert everything["requests"] == 22 and everything["p99_ms"] == 7_200_000.0
