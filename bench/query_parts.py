"""Where the time of the slowest composite queries goes: @recommend's eight queries (in turn, and from a thread pool),
escalations with and without its JSON attribute read, and slow_path's SQL against its polars critical-path walk.

Usage: .venv/bin/python bench/query_parts.py --db STORE [--runs 3]
Everything runs warm in one process on one read-only connection (one untimed run first); each figure is the median
wall time of --runs runs, printed with its ratio to DuckDB's own exact p50/p95/p99 per (workload, tier, service),
measured the same way in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from queries import registry, slow_path  # noqa: E402
from queries.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from queries.recommend import engine  # noqa: E402

REFERENCE = ("SELECT workload, tier, service_name, quantile_cont(duration_ns, [0.5, 0.95, 0.99]) "
             "FROM spans GROUP BY ALL")
# escalations.sql's first step, with and without the root's tierwise.pattern read out of its JSON attributes
DEVICE_ROOTS = ("SELECT count(*), count(pattern) FROM (SELECT trace_id, workload, {pattern} AS pattern FROM spans "
                "WHERE parent_span_id IS NULL AND trace_id IS NOT NULL AND tier = 'device')")
# what queries/recommend/engine.collect runs, in its order
RECOMMEND_PARTS = ("scorecard_inputs", "scorecard_hops", "critical_path_shares", "latency_budgets",
                   "trust_zone_violations", "gpu_idle_hours", "cache_hit_rate", "gpu_starved_hosts")


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median wall seconds of `runs` calls after one untimed call."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    duck = DuckDBEngine.open(args.db)
    con = duck.con

    def pool(threads: int) -> Callable[[], object]:
        def one(name: str) -> object:
            cur = DuckDBEngine(con.cursor())
            try:
                return registry.run(cur, name)
            finally:
                cur.close()

        def run() -> object:
            with ThreadPoolExecutor(threads) as ex:
                return list(ex.map(one, RECOMMEND_PARTS))
        return run

    band_args = {p.name: p.resolved_default() for p in registry.get("slow_path").params}
    spans = registry.fetch(duck, "band_trace_spans", band_args)
    figures: list[tuple[str, Callable[[], object]]] = [
        ("reference: DuckDB exact p50/p95/p99", lambda: con.sql(REFERENCE).fetchall()),
        ("@recommend: collect the evidence", lambda: engine.collect(duck)),
        *[(f"  {name}", (lambda n=name: registry.run(duck, n))) for name in RECOMMEND_PARTS],
        *[(f"  the eight on {n} threads", pool(n)) for n in (1, 2, 4, 8)],
        ("escalations", lambda: registry.run(duck, "escalations")),
        ("  device roots with tierwise.pattern",
         lambda: con.sql(DEVICE_ROOTS.format(pattern="attributes->>'tierwise.pattern'")).fetchall()),
        ("  device roots without it", lambda: con.sql(DEVICE_ROOTS.format(pattern="NULL")).fetchall()),
        ("slow_path", lambda: registry.run(duck, "slow_path")),
        (f"  band_trace_spans ({spans.height:,} spans)", lambda: registry.fetch(duck, "band_trace_spans", band_args)),
        ("  the polars job over them", lambda: slow_path.slow_path(spans.lazy()).collect()),
        ("  critical_path_shares' job over the same rows",
         lambda: registry.derive("critical_path_shares", spans, band_args)),
    ]
    print(f"store {args.db}; median of {args.runs} warm runs")
    reference = 0.0
    for label, fn in figures:
        took = timed(fn, args.runs)
        reference = reference or took
        print(f"{label:44} {took:7.3f} s {took / reference:7.2f}× reference", flush=True)
    duck.close()


if __name__ == "__main__":
    main()
