"""Benchmark: the dashboard's latency queries, exact vs roll-up, on DuckDB vs ClickHouse (chdb), at 10M and 100M spans.

Usage: .venv/bin/python bench/engines.py [--spans 10000000 100000000] [--days 90] [--runs 3] [--only by_group ...]
For each size it builds, straight in SQL (no OTLP ingest), a skewed synthetic span table — 4 tiers, 10 workloads,
50 services, 200 operations (Zipf-like: a few hot ones), lognormal durations with per-operation medians, 90 days —
into (a) a DuckDB store with tierwise's migrations and its latency_rollup filled as migration 0005 backfills it, and
(b) a chdb MergeTree table loaded from the same rows via Parquet, with the same roll-up (ClickHouse schema 0090's
table). Each query then runs in a fresh child process per engine: "cold" is the first run, "warm" the median of the
rest; CPU seconds and the child's peak RSS (VmHWM) are recorded. Ratios are against DuckDB's raw exact-quantile scan
(p50/p95/p99 per tier over every request span) of the same rows, run in the same way.
ClickHouse runs go through queries/engine.py: each query's .sql file transpiled by queries/dialect.py (exact
quantile_cont becomes quantileExactInclusive); only the reference scan is hand-written ClickHouse.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END_NS = 1_795_824_000_000_000_000  # 2026-11-28T00:00:00Z
DAY_NS = 86_400_000_000_000

# Deterministic pseudo-random columns from hash(i, k) so generation runs in parallel and reruns are identical.
GENERATE = """
WITH g AS (
    SELECT i,
           (hash(i, 1) % 1000000007) / 1000000007.0 AS u1, (hash(i, 2) % 1000000007) / 1000000007.0 AS u2,
           (hash(i, 3) % 1000000007) / 1000000007.0 AS u3, (hash(i, 4) % 1000000007) / 1000000007.0 AS u4,
           (hash(i, 5) % 1000000007) / 1000000007.0 AS u5, (hash(i, 7) % 1000000007) / 1000000007.0 AS u6
    FROM range($n) t(i)
), o AS (
    SELECT *, CAST(floor(200 * u1 * u1) AS INTEGER) AS op FROM g  -- skew: low operation ids are hot
)
SELECT
    CASE WHEN u3 < 0.1 THEN NULL ELSE 'p' END                        AS parent_span_id,  -- only NULL-ness is read
    'op-' || op                                                      AS name,
    CASE WHEN u4 < 0.55 THEN 'server' WHEN u4 < 0.60 THEN 'consumer' WHEN u4 < 0.80 THEN 'client'
         ELSE 'internal' END                                         AS kind,
    CASE WHEN u5 < 0.01 THEN 'error' ELSE 'ok' END                   AS status_code,
    'svc-' || (op // 4)                                              AS service_name,
    ['device', 'edge', 'regional', 'hyperscale'][(op // 20) % 4 + 1] AS tier,
    'declared'                                                       AS tier_source,
    CASE (op // 20) % 4 WHEN 1 THEN 'store-' || (hash(i, 6) % 20) WHEN 0 THEN NULL
         ELSE ['eu-west-1', 'us-east-1'][CAST(hash(i, 6) % 2 AS INTEGER) + 1] END    AS site,
    'wl-' || (op // 20)                                              AS workload,
    CASE WHEN op // 20 = 9 THEN 'batch' ELSE 'inference' END         AS workload_type,
    CAST($end_ns - $days * 86400000000000 + floor(u2 * $days * 86400000000000) AS BIGINT) AS start_ns,
    -- lognormal: median 2 ms × 1.6^(op % 12), σ = 0.8, from a Box–Muller normal
    CAST(greatest(1, 2e6 * pow(1.6, op % 12) * exp(0.8 * sqrt(-2 * ln(greatest(u3, 1e-12))) * cos(6.283185307179586 * u6)))
         AS BIGINT)                                                  AS duration_ns
FROM o
"""

CH_REFERENCE = """
SELECT tier, quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns) FROM spans
WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL GROUP BY tier"""

# (label, registry query or @reference, parameters): the dashboard's 90-day latency views.
CASES: list[tuple[str, str, dict[str, object]]] = [
    ("reference: exact p50/95/99 per tier", "@reference", {}),
    ("latency_by_tier (exact)", "latency_by_tier", {}),
    ("latency_rollup_by_tier", "latency_rollup_by_tier", {}),
    ("latency_over_time, day (exact)", "latency_over_time", {"bucket": "day"}),
    ("latency_rollup_over_time, day", "latency_rollup_over_time", {"bucket": "day"}),
    ("latency_by_group, day (exact)", "latency_by_group", {"bucket": "day"}),
    ("latency_rollup_by_group, day", "latency_rollup_by_group", {"bucket": "day"}),
]

CHILD = r"""
import json, resource, sys, time
engine, path, name, runs, params = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
sys.path.insert(0, sys.argv[6])
times, rows = [], 0
if engine == "duckdb":
    from ingest import store
    from queries import registry
    con = store.connect(path, read_only=True)
    for _ in range(runs):
        t = time.perf_counter()
        if name == "@reference":
            rows = len(con.execute("SELECT tier, quantile_cont(duration_ns, [0.5, 0.95, 0.99]) FROM spans "
                                   "WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL GROUP BY tier").fetchall())
        else:
            rows = registry.run(con, name, params).height
        times.append(time.perf_counter() - t)
else:
    from bench.engines import clickhouse_run
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
    queries/engine.py (the .sql file transpiled by queries/dialect.py), the reference is hand-written."""
    from queries import engine, registry

    eng = engine.ClickHouseEngine.open(f"chdb://{path}")
    if name == "@reference":
        return lambda: eng.client.query_arrow(CH_REFERENCE).num_rows
    query = registry.get(name)
    assert query.sql is not None
    values = {p.name: params.get(p.name, p.resolved_default()) for p in query.params}
    sql = query.sql
    return lambda: eng.fetch(sql, values).height


def build_duckdb(db: Path, spans: int, days: int) -> dict[str, float]:
    from ingest import rollup, store

    con = store.open_writer(db)
    t = time.perf_counter()
    con.execute(f"INSERT INTO spans BY NAME SELECT *, start_ns + duration_ns AS end_ns, 'bench' AS batch_key "
                f"FROM ({GENERATE}) ORDER BY start_ns", {"n": spans, "days": days, "end_ns": END_NS}).fetchall()
    spans_s = time.perf_counter() - t
    t = time.perf_counter()
    con.execute("DELETE FROM latency_rollup").fetchall()
    con.execute(f"INSERT INTO latency_rollup {rollup.histogram_sql('spans')} ORDER BY width_ns, period_ns").fetchall()
    rollup_s = time.perf_counter() - t
    con.execute("CHECKPOINT").fetchall()
    rows = dict(con.execute("SELECT width_ns // 60000000000, count(*) FROM latency_rollup GROUP BY 1").fetchall())
    selected = con.execute(f"SELECT count(*) FROM spans WHERE {rollup.REQUESTS_SQL}").fetchall()[0][0]
    con.close()
    return {"spans_s": spans_s, "duckdb_rollup_s": rollup_s, "rollup_rows_minute": rows.get(1, 0),
            "rollup_rows_day": rows.get(1440, 0), "request_spans": selected,
            "file_mb": db.stat().st_size / 1e6}


def build_chdb(chdir: Path, db: Path) -> dict[str, float]:
    import duckdb

    from ingest import rollup
    from ingest.clickhouse.client import ClickHouseClient

    parquet = chdir.parent / "spans.parquet"
    cols = ("parent_span_id, name, kind, status_code, service_name, tier, site, workload, "
            "workload_type, start_ns, duration_ns")
    t = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"COPY (SELECT {cols} FROM spans) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
    con.close()
    export_s = time.perf_counter() - t
    ch = ClickHouseClient(f"chdb://{chdir}")
    table_ddl = (ROOT / "ingest/clickhouse/schema/0090_latency_rollup.sql").read_text("utf-8")
    start = table_ddl.index("CREATE TABLE")
    table_ddl = table_ddl[start:table_ddl.index(";", start)]
    t = time.perf_counter()
    ch.command("""CREATE TABLE spans (parent_span_id Nullable(String),
        name LowCardinality(String), kind LowCardinality(String), status_code LowCardinality(String),
        service_name LowCardinality(Nullable(String)), tier LowCardinality(String), site LowCardinality(Nullable(String)),
        workload LowCardinality(Nullable(String)), workload_type LowCardinality(Nullable(String)), start_ns Int64,
        duration_ns Int64) ENGINE = MergeTree ORDER BY start_ns""")
    ch.command(f"INSERT INTO spans SELECT * FROM file('{parquet}', Parquet)")
    ch.command("OPTIMIZE TABLE spans FINAL")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    ch.command(table_ddl)
    keys = ", ".join(rollup.KEYS)
    ch.command("INSERT INTO latency_rollup " + rollup.histogram_sql("spans").replace("GROUP BY ALL", f"GROUP BY {keys}"))
    ch.command("OPTIMIZE TABLE latency_rollup FINAL")
    rollup_s = time.perf_counter() - t
    ch.close()
    parquet.unlink()
    return {"export_s": export_s, "chdb_load_s": load_s, "chdb_rollup_s": rollup_s}


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


def fold_overhead(files: list[Path], work: Path) -> None:
    """Ingest the same OTLP files with and without the roll-up step: CPU seconds of each, rows per million spans."""
    from ingest import derived, loader, rollup, store
    from ingest.settings import load_settings

    steps = derived.STEPS
    for label, chosen in (("without roll-up step", tuple(s for s in steps if s is not rollup.fold_batch)),
                          ("with roll-up step", steps)):
        db = work / f"fold-{len(chosen)}.duckdb"
        db.unlink(missing_ok=True)
        derived.STEPS = chosen
        con = store.open_writer(db)
        cpu, t = time.process_time(), time.perf_counter()
        for f in files:
            loader.ingest_file(con, f, load_settings(db=db, env={}), workers=1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - t
        spans = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {rollup.REQUESTS_SQL}) FROM spans").fetchall()[0]
        rows = dict(con.execute("SELECT width_ns // 60000000000, count(*) FROM latency_rollup GROUP BY 1").fetchall())
        batches = con.execute("SELECT count(*) FROM ingest_batches").fetchall()[0][0]
        con.close()
        print(f"{label}: {spans[0]:,} spans ({spans[1]:,} requests) in {batches} batches, {cpu:.1f} CPU s, "
              f"{wall:.1f} s wall; roll-up rows minute {rows.get(1, 0):,} day {rows.get(1440, 0):,} "
              f"({rows.get(1, 0) / spans[0] * 1e6:,.0f} and {rows.get(1440, 0) / spans[0] * 1e6:,.0f} per million spans)")
    derived.STEPS = steps


def accuracy(db: Path, chdir: Path) -> None:
    """How far the roll-up's percentiles are from exact ones, and whether chdb's roll-up answers equal DuckDB's."""
    import polars as pl

    from queries import engine, registry

    duck = engine.DuckDBEngine.open(db)
    ch = engine.ClickHouseEngine.open(f"chdb://{chdir}")
    for exact, rolled, params, keys in (("latency_by_tier", "latency_rollup_by_tier", {}, ["tier"]),
                                        ("latency_by_group", "latency_rollup_by_group", {"bucket": "day"},
                                         ["day", "tier", "site", "workload", "service_name", "operation"])):
        values = {p.name: params.get(p.name, p.resolved_default()) for p in registry.get(rolled).params}
        r = duck.fetch(rolled, values)
        e = duck.fetch(exact, {p.name: params.get(p.name, p.resolved_default()) for p in registry.get(exact).params})
        if "bucket_start_ns" in r.columns:
            r = r.with_columns(pl.from_epoch("bucket_start_ns", "ns").dt.date().alias("day"))
            e = e.with_columns(pl.col("bucket_start").dt.date().alias("day"))
        j = r.join(e, on=keys, how="inner", nulls_equal=True)
        errs = {c: float(j.select(((pl.col(c) - pl.col(f"{c}_right")) / pl.col(f"{c}_right")).abs().max()).item() or 0)
                for c in ("p50_ms", "p95_ms", "p99_ms")}
        same_n = bool((j["requests"] == j["requests_right"]).all()) and j.height == e.height == r.height
        c = ch.fetch(rolled, values)
        ordered = c.columns[:len(keys)]
        both = pl.concat([c.sort(ordered, nulls_last=True).select(pl.col("p50_ms", "p95_ms", "p99_ms")),
                          r.sort(ordered, nulls_last=True).select(pl.col("p50_ms", "p95_ms", "p99_ms").name.suffix("_d"))],
                         how="horizontal")
        drift = max(float(both.select((pl.col(x) - pl.col(f"{x}_d")).abs().max()).item() or 0)
                    for x in ("p50_ms", "p95_ms", "p99_ms"))
        print(f"{rolled} vs {exact}: {j.height} groups, same requests: {same_n}, max relative error "
              + ", ".join(f"{k} {v:.5%}" for k, v in errs.items()) + f"; chdb vs DuckDB roll-up max |Δ| {drift:.3g} ms")
    ch.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, nargs="+", default=[10_000_000, 100_000_000])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "engines")
    ap.add_argument("--rebuild", action="store_true", help="rebuild stores that already exist")
    ap.add_argument("--only", nargs="+", default=[], metavar="TEXT", help="measure only cases whose label has TEXT")
    ap.add_argument("--fold-overhead", type=Path, nargs="+", metavar="OTLP_FILE",
                    help="instead: ingest these files with and without the roll-up step and compare")
    args = ap.parse_args()
    if args.fold_overhead:
        args.out.mkdir(parents=True, exist_ok=True)
        fold_overhead(args.fold_overhead, args.out)
        return
    for n in args.spans:
        work = args.out / f"spans-{n}"
        db, chdir = work / "store.duckdb", work / "chdb"
        if args.rebuild and work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        if not db.exists() or not chdir.exists():
            shutil.rmtree(chdir, ignore_errors=True)
            db.unlink(missing_ok=True)
            before = resource.getrusage(resource.RUSAGE_SELF)
            t = time.perf_counter()
            built = build_duckdb(db, n, args.days)
            built |= build_chdb(chdir, db)
            after = resource.getrusage(resource.RUSAGE_SELF)
            built["build_wall_s"] = time.perf_counter() - t
            built["build_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            (work / "build.json").write_text(json.dumps(built, indent=1))
        built = json.loads((work / "build.json").read_text())
        print(f"\n## {n:,} spans over {args.days} days — load {os.getloadavg()[0]:.2f}")
        print(json.dumps(built))
        print("| query | engine | cold s | warm s | CPU s (child) | peak RSS MB | rows | warm / DuckDB reference |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        reference = None
        for label, name, params in CASES:
            if args.only and name != "@reference" and not any(s in label for s in args.only):
                continue
            for engine, path in (("duckdb", db), ("chdb", chdir)):
                r = measure(engine, path, name, params, args.runs)
                if reference is None:
                    reference = r["warm"]
                print(f"| {label} | {engine} | {r['cold']:.3f} | {r['warm']:.3f} | {r['cpu_s']:.2f} | "
                      f"{r['rss_mb']:.0f} | {r['rows']} | {r['warm'] / reference:.2f} |", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        accuracy(db, chdir)


if __name__ == "__main__":
    main()
