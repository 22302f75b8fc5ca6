"""Benchmark of the semantic layer (`tierwise metric`): `metric.run` per case against a hand-written DuckDB query.

Usage: .venv/bin/python bench/metric.py [--db FILE] [--runs N]

The store is opened read-only (default /work/demo/tierwise.duckdb, the 1M-span demo store) by one connection in this
process, as the CLI does. Every case asks for the store's whole window: from the UTC day of the first span start to
the day after the last one (what `--from`/`--to` would give). Per case, `1 + N` rounds each run `metric.run` and then
the reference on the same connection, interleaved so both see the same machine load; the first round is discarded
(warm-up) and the table shows the median of the other N: wall seconds and process CPU seconds (`time.process_time`,
which on Linux sums every thread of the process, DuckDB's workers included).

The reference is the simplest related hand-written query, not the same answer:
- spans: `SELECT tier, count(*), quantile_cont(duration_ns, 0.95) FROM spans WHERE parent_span_id IS NULL OR kind IN
  ('server','consumer') GROUP BY tier` — the per-tier query before the model: no (trace id, span id) deduplication,
  no sampling weights, no check that the parent is across the boundary, no batch exclusion, no time window;
- cost: `SELECT coalesce(link_tier,'unallocated'), BillingCurrency, sum(EffectiveCost) FROM cost_links GROUP BY ALL`
  — no proration to the window or to time buckets;
- spans+cost (cost_per_1k_requests): both of the above, one after the other.
A case whose metric answer has no rows stops the run (a benchmark of an empty answer measures nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

import store  # noqa: E402
from queries.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from queries.semantic import metric  # noqa: E402

DAY_NS = 86_400 * 10**9
REF_SPANS = ("SELECT tier, count(*), quantile_cont(duration_ns, 0.95) FROM spans "
             "WHERE parent_span_id IS NULL OR kind IN ('server','consumer') GROUP BY tier")
REF_COST = "SELECT coalesce(link_tier,'unallocated'), BillingCurrency, sum(EffectiveCost) FROM cost_links GROUP BY ALL"
REF_TOKENS = "SELECT tier, sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) FROM spans GROUP BY tier"
REF_HOPS = "SELECT from_tier, to_tier, count(*), sum(request_bytes + response_bytes) FROM hops GROUP BY ALL"
REFERENCES = {"spans": (REF_SPANS,), "cost": (REF_COST,), "spans+cost": (REF_SPANS, REF_COST), "tokens": (REF_TOKENS,),
              "hops": (REF_HOPS,)}
CASES = (  # (label, measures, by, reference)
    ("requests by tier", ("requests",), ("tier",), "spans"),
    ("latency_p95_ms by tier", ("latency_p95_ms",), ("tier",), "spans"),
    ("requests,latency_p95_ms,error_rate_pct by workload", ("requests", "latency_p95_ms", "error_rate_pct"),
     ("workload",), "spans"),
    ("effective_cost by tier", ("effective_cost",), ("tier",), "cost"),
    ("effective_cost by time (day)", ("effective_cost",), ("time",), "cost"),
    ("cost_per_1k_requests by tier", ("cost_per_1k_requests",), ("tier",), "spans+cost"),
    ("requests,latency_p95_ms by tier,workload (heatmap)", ("requests", "latency_p95_ms"), ("tier", "workload"),
     "spans"),
    ("latency p50,p95,p99 by tier,workload", ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"),
     ("tier", "workload"), "spans"),
    ("tokens by tier", ("tokens",), ("tier",), "tokens"),
    ("calls,egress_gb_observed by tier,to_tier", ("calls", "egress_gb_observed"), ("tier", "to_tier"), "hops"),
)


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """(wall s, process CPU s, rows) of one call."""
    t, c = time.perf_counter(), time.process_time()
    rows = fn()
    return time.perf_counter() - t, time.process_time() - c, rows


def window(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """[first span's UTC day, the day after the last span's) in Unix ns."""
    lo, hi = con.execute("SELECT min(start_ns), max(start_ns) FROM spans").fetchall()[0]
    if lo is None:
        raise SystemExit("the store has no spans")
    return lo // DAY_NS * DAY_NS, (hi // DAY_NS + 1) * DAY_NS


def day(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/work/demo/tierwise.duckdb"))
    ap.add_argument("--runs", type=int, default=5, help="warm runs per query after one discarded run (default 5)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    try:
        duck = DuckDBEngine.open(args.db)
    except store.StoreError as e:
        raise SystemExit(str(e)) from None
    con = duck.con
    spans = con.execute("SELECT count(*) FROM spans").fetchall()[0][0]
    lo, hi = window(con)
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(f"store {args.db}: {spans:,} spans; window {day(lo)} to {day(hi)} (exclusive), {(hi - lo) // DAY_NS} days")
    print(f"duckdb {duckdb.__version__}, threads={threads}, {os.cpu_count()} CPUs; "
          f"1 discarded + {args.runs} timed runs per query, medians shown")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    header = (f"{'case':52} {'rows':>4} {'metric s':>9} {'ref s':>7} {'ratio':>6} "
              f"{'metric CPU s':>12} {'ref CPU s':>9} {'CPU ratio':>9}  reference")
    print(header)
    for label, measures, by, ref in CASES:
        req = metric.Request(measures, by, from_ns=lo, to_ns=hi)

        def run_metric(req: metric.Request = req) -> int:
            return metric.run(duck, req).height

        def run_ref(ref: str = ref) -> int:
            return sum(len(con.execute(sql).fetchall()) for sql in REFERENCES[ref])

        m_runs, r_runs = [], []
        for _ in range(1 + args.runs):
            m_runs.append(timed(run_metric))
            r_runs.append(timed(run_ref))
        rows = m_runs[-1][2]
        if rows == 0:
            raise SystemExit(f"{label}: metric.run returned no rows over {day(lo)}..{day(hi)}")
        m_wall, m_cpu = (statistics.median(r[i] for r in m_runs[1:]) for i in (0, 1))
        r_wall, r_cpu = (statistics.median(r[i] for r in r_runs[1:]) for i in (0, 1))
        print(f"{label:52} {rows:4d} {m_wall:9.3f} {r_wall:7.3f} {m_wall / r_wall:6.1f} "
              f"{m_cpu:12.3f} {r_cpu:9.3f} {m_cpu / r_cpu:9.1f}  {ref}", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    duck.close()


if __name__ == "__main__":
    main()
