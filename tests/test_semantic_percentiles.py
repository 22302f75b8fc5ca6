"""The model's weighted percentiles (log-bucketed, then ranked within one bucket) equal a brute-force computation."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric
from store import migrate

ROWS = st.lists(st.tuples(st.sampled_from(["edge", "device", "regional"]),
                          st.one_of(st.integers(-5_000, 5_000), st.integers(0, 10**12), st.sampled_from([0, 1, 7, 10**9])),
                          st.sampled_from([1.0, 2.0, 4.0, 1.0 / 0.3, 16.0])), min_size=1, max_size=300)


def brute(rows: list[tuple[int, float]], q: float) -> float:
    """The smallest duration whose cumulative weight reaches q × the total (with the model's float tolerance)."""
    total = sum(w for _, w in rows)
    seen = 0.0
    for d, w in sorted(rows):
        seen += w
        if seen >= q * total * (1 - 1e-12):
            return d / 1e6
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    migrate(c)
    return c


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_bucketed_percentiles_equal_brute_force(con: duckdb.DuckDBPyConnection,
                                                rows: list[tuple[str, int, float]]) -> None:
    con.execute("DELETE FROM request_entries")
    con.executemany("INSERT INTO request_entries (is_root, tier, name, start_ns, duration_ns, status_code, w, "
                    "parent_found) VALUES (true, $1, 'op', 0, $2, 'ok', $3, false)", [list(r) for r in rows])
    duck = DuckDBEngine(con)
    got = metric.run(duck, metric.Request(("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"), ("tier",)))
    for r in got.iter_rows(named=True):
        mine = [(d, w) for t, d, w in rows if t == r["tier"]]
        assert (r["latency_p50_ms"], r["latency_p95_ms"], r["latency_p99_ms"]) == pytest.approx(
            (brute(mine, 0.5), brute(mine, 0.95), brute(mine, 0.99)), rel=0, abs=0)
    whole = metric.run(duck, metric.Request(("latency_p95_ms",))).row(0, named=True)
    assert whole["latency_p95_ms"] == brute([(d, w) for _, d, w in rows], 0.95)
