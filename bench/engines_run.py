"""Runs one bench/engines.py case in a fresh child process per engine: timings, CPU seconds and peak RSS."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CH_REFERENCE = """
SELECT tier, quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns) FROM spans
WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL GROUP BY tier"""

CHILD = r"""
import json, resource, sys, time
engine, path, name, runs, params = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
sys.path.insert(0, sys.argv[6])
times, rows = [], 0
if engine == "duckdb":
    from queries import registry
    from queries.engines.duckdb_engine import DuckDBEngine
    duck = DuckDBEngine.open(path)
    con = duck.con
    for _ in range(runs):
        t = time.perf_counter()
        if name == "@reference":
            rows = len(con.execute("SELECT tier, quantile_cont(duration_ns, [0.5, 0.95, 0.99]) FROM spans "
                                   "WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL GROUP BY tier").fetchall())
        else:
            rows = registry.run(duck, name, params).height
        times.append(time.perf_counter() - t)
else:
    from bench.engines_run import clickhouse_run
    run = clickhouse_run(path, name, params)
    for _ in range(runs):
        t = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - t)
u = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"times": times, "rows": rows, "cpu_s": u.ru_utime + u.ru_stime, "rss_mb": hwm / 1024}))
"""


def clickhouse_run(path: str, name: str, params: dict[str, object]) -> Callable[[], int]:
    """A callable running one case on chdb at `path` and returning its row count: registry queries go through
    queries/engines/engine.py (the .sql file transpiled by queries/engines/dialect.py), the reference is hand-written."""
    from queries import registry
    from queries.engines import engine

    eng = engine.ClickHouseEngine.open(f"chdb://{path}")
    if name == "@reference":
        return lambda: eng.client.query_arrow(CH_REFERENCE).num_rows
    query = registry.get(name)
    assert query.sql is not None
    values = {p.name: params.get(p.name, p.resolved_default()) for p in query.params}
    sql, types = query.sql, registry.types(query)
    return lambda: eng.fetch(sql, values, types).height


def measure(engine: str, path: Path, name: str, params: dict[str, object], runs: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, engine, str(path), name, str(runs), json.dumps(params),
                          str(ROOT)], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return {"cold": float("nan"), "warm": float("nan"), "cpu_s": float("nan"), "rss_mb": float("nan"), "rows": 0}
    r = json.loads(out.stdout.strip().splitlines()[-1])
    times = r["times"]
    return {"cold": times[0], "warm": statistics.median(times[1:]) if len(times) > 1 else times[0],
            "cpu_s": r["cpu_s"], "rss_mb": r["rss_mb"], "rows": r["rows"]}
