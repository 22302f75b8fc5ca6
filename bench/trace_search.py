"""Benchmark of trace search (`tierwise traces`): the common filters on a store, against a raw DuckDB reference.

Usage: .venv/bin/python bench/trace_search.py --db STORE [--runs 5]
Each search runs through queries.traces.search on the store opened read-only, as the CLI and the page open it; the
time is the median of `--runs` warm runs after one cold run. The reference, measured in the same process, is the
least a search by service must do, in hand-written DuckDB SQL: one service's 20 latest trace ids, then the span count
of each of those traces (a second scan of the spans, as every trace list needs). Windows
end at the store's last trace start, so the figures do not depend on when the benchmark runs. The target is under
1 s per common filter at 10M spans.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from queries import traces  # noqa: E402
from queries.engines.duckdb_engine import DuckDBEngine  # noqa: E402

HOUR = 3600 * 10**9


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    t = time.perf_counter()
    fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    engine = DuckDBEngine.open(args.db)
    con = engine.con
    ((last, spans),) = con.execute("SELECT max(start_ns), (SELECT count(*) FROM spans) FROM trace_root_keys").fetchall()
    ((service, model),) = con.execute(
        "SELECT mode(service_name), mode(gen_ai_model) FROM (SELECT service_name, gen_ai_model FROM spans LIMIT 100000)"
    ).fetchall()
    day = (last - 24 * HOUR, last + 1)
    cases: dict[str, traces.TraceFilter] = {
        "latest (no filter)": traces.TraceFilter(),
        "last 1 h": traces.TraceFilter(start_ns=last - HOUR, end_ns=last + 1),
        f"service={service}": traces.TraceFilter(service=service),
        f"service={service}, >500 ms, 24 h, slowest": traces.TraceFilter(service=service, min_ms=500, start_ns=day[0],
                                                                          end_ns=day[1], sort="slowest"),
        "status=error": traces.TraceFilter(status="error"),
        "tier=edge, status=error, 24 h": traces.TraceFilter(tier="edge", status="error", start_ns=day[0], end_ns=day[1]),
        f"gen_ai.request.model={model}, 24 h": traces.TraceFilter(
            where=(traces.parse_condition(f"gen_ai.request.model={model}"),), start_ns=day[0], end_ns=day[1]),
        "gen_ai.usage.input_tokens>1000, 24 h": traces.TraceFilter(
            where=(traces.parse_condition("gen_ai.usage.input_tokens>1000"),), start_ns=day[0], end_ns=day[1]),
        f"gen_ai.request.model={model}, all time": traces.TraceFilter(
            where=(traces.parse_condition(f"gen_ai.request.model={model}"),)),
    }
    ref_cold, ref = timed(lambda: con.execute(
        "SELECT trace_id, count(*) FROM spans WHERE trace_id IN (SELECT trace_id FROM spans WHERE service_name = $s "
        "ORDER BY start_ns DESC LIMIT 20) GROUP BY trace_id", {"s": service}).fetchall(), args.runs)
    print(f"store {args.db}: {spans:,} spans; reference (one service's 20 latest traces with their span counts): "
          f"{ref * 1000:.1f} ms warm, {ref_cold * 1000:.1f} ms cold")
    print(f"{'search':52s} {'cold ms':>9s} {'warm ms':>9s} {'× ref':>7s}")
    for name, f in cases.items():
        cold, warm = timed(lambda f=f: traces.search(engine, f), args.runs)  # type: ignore[misc]
        print(f"{name:52s} {cold * 1000:9.1f} {warm * 1000:9.1f} {warm / ref:7.1f}")
    engine.close()


if __name__ == "__main__":
    main()
