"""Benchmark of every registered query: cold and warm wall time and peak RSS per query, against a raw DuckDB reference.

Usage: .venv/bin/python bench/queries.py [--db STORE | --spans 1000000 --days 30] [--scale 10] [--runs 3]
       [--only NAME,NAME:param=value:param=value,@recommend]
Without --db a store is generated and ingested with the real CLI under bench/out/queries-<spans>/ and reused.
--scale N copies the store and appends N−1 shifted copies of its spans (new trace and span ids, times moved by
whole windows) straight in DuckDB — a synthetic of the same schema, used for 10M spans while ingest is slow; bills
and metrics are kept as they are. Each query runs in its own child process: "cold" is the first run after opening
the store (fresh process, empty DuckDB buffer cache), "warm" the median of the next runs, "cpu" the warm median of
CPU seconds over all the child's threads (steadier than wall time on a shared machine); RSS is the child's peak.
The reference is DuckDB's own exact p50/p95/p99 of span duration per (workload, tier, service) over the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
t0 = time.perf_counter()
duck = DuckDBEngine.open(sys.argv[1])
con = duck.con
times, cpus = [], []
for _ in range(int(sys.argv[3])):
    t, c = time.perf_counter(), time.process_time()
    if sys.argv[2] == "@reference":
        con.execute("SELECT workload, tier, service_name, quantile_cont(duration_ns, [0.5, 0.95, 0.99]) "
                    "FROM spans GROUP BY ALL").fetchall()
    elif sys.argv[2] == "@recommend":
        from queries import recommend
        recommend.run(duck)
    else:
        name, *pairs = sys.argv[2].split(":")
        registry.run(duck, name, registry.parse_params(registry.get(name), pairs))
    times.append(time.perf_counter() - t)
    cpus.append(time.process_time() - c)
print(json.dumps([times, cpus]))
"""


def tierwise(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, cwd=ROOT)


def ensure_store(spans: int, days: int) -> Path:
    work = ROOT / "bench" / "out" / f"queries-{spans}"
    db = work / "store.duckdb"
    if not db.exists():
        tierwise("generate", "--out", str(work / "estate"), "--spans", str(spans), "--days", str(days),
                 "--end", "2026-11-28", "--workers", "2")
        tierwise("ingest", "--quiet", "--db", str(db), str(work / "estate"))
    return db


def scaled(db: Path, factor: int) -> Path:
    """A copy of the store whose spans table holds `factor` shifted copies of the original spans."""
    import duckdb

    from store import derived

    out = db.with_name(f"{db.stem}-x{factor}.duckdb")
    if out.exists():
        return out
    partial = out.with_suffix(".partial")
    shutil.copy(db, partial)
    con = duckdb.connect(str(partial))
    try:
        lo, hi = con.execute("SELECT min(start_ns), max(end_ns) FROM spans").fetchone() or (0, 0)
        for i in range(1, factor):
            con.execute("""
                INSERT INTO spans SELECT * REPLACE (
                    substr(md5(trace_id || $i), 1, 32) AS trace_id, substr(md5(span_id || $i), 1, 16) AS span_id,
                    CASE WHEN parent_span_id IS NULL THEN NULL ELSE substr(md5(parent_span_id || $i), 1, 16) END
                        AS parent_span_id,
                    start_ns + $shift AS start_ns, end_ns + $shift AS end_ns)
                FROM spans WHERE start_ns < $hi AND start_ns >= $lo
            """, {"i": str(i), "shift": (hi - lo) * i, "lo": lo, "hi": hi})
        derived.rebuild(con)  # the spans above bypassed the loader, so its derived tables are recomputed here
        con.execute("CHECKPOINT")
    finally:
        con.close()
    partial.rename(out)
    return out


def measure(db: Path, name: str, runs: int) -> tuple[float, float, float, float]:
    """(cold s, warm median s, warm median CPU s of all threads, peak RSS MB) of one query in a fresh child process."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), name, str(runs)], cwd=ROOT,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read() if proc.stdout else b"[]"
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        return float("nan"), float("nan"), float("nan"), usage.ru_maxrss / 1024
    times, cpus = json.loads(out.decode().strip().splitlines()[-1])
    warm = times[1:] or times
    return times[0], statistics.median(warm), statistics.median(cpus[1:] or cpus), usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated query names, @recommend included (default: every "
                    "registered query, then @recommend); NAME:key=value:key=value runs NAME with those parameters")
    args = ap.parse_args()
    from queries import registry

    db = args.db or ensure_store(args.spans, args.days)
    if args.scale > 1:
        db = scaled(db, args.scale)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    n = (con.execute("SELECT count(*) FROM spans").fetchone() or (0,))[0]
    con.close()
    names = [x.strip() for x in args.only.split(",") if x.strip()] or [q.name for q in registry.queries()]
    print(f"store {db} — {n:,} spans; {args.runs} runs per query (first = cold)")
    print(f"load average at start: {os.getloadavg()}")
    ref_cold, ref_warm, ref_cpu, ref_rss = measure(db, "@reference", args.runs)
    print(f"{'query':32} {'cold s':>8} {'warm s':>8} {'cpu s':>8} {'RSS MB':>8} {'warm/ref':>9} {'cpu/ref':>8}")
    print(f"{'(reference: duckdb exact p50/95/99)':32} {ref_cold:8.3f} {ref_warm:8.3f} {ref_cpu:8.3f} {ref_rss:8.0f} "
          f"{1.0:9.2f} {1.0:8.2f}")
    for name in [*names, "@recommend"] if not args.only else names:
        cold, warm, cpu, rss = measure(db, name, args.runs)
        print(f"{name:32} {cold:8.3f} {warm:8.3f} {cpu:8.3f} {rss:8.0f} {warm / ref_warm:9.2f} {cpu / ref_cpu:8.2f}",
              flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
