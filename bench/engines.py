"""Benchmark: the dashboard's latency queries, exact vs roll-up, on DuckDB vs ClickHouse (chdb), at 10M and 100M spans.

Usage: .venv/bin/python bench/engines.py [--spans 10000000 100000000] [--days 90] [--runs 3] [--only by_group ...]
For each size it builds, straight in SQL (no OTLP ingest), a skewed synthetic span table — 4 tiers, 10 workloads,
50 services, 200 operations (Zipf-like: a few hot ones), lognormal durations with per-operation medians, 90 days —
into (a) a DuckDB store with tierwise's migrations and its latency_rollup filled as migration 0005 backfills it, and
(b) a chdb MergeTree table loaded from the same rows via Parquet, with the same roll-up (ClickHouse schema 0090's
table) and the day-histogram tables of schema 0091 (added to an existing store without a rebuild). Each query then
runs in a fresh child process per engine: "cold" is the first run, "warm" the median of the rest; CPU seconds and
the child's peak RSS (VmHWM) are recorded. Ratios are against DuckDB's raw exact-quantile scan (p50/p95/p99 per tier
over every request span) of the same rows, run in the same way.
ClickHouse runs go through queries/engines/engine.py: queries/engines/clickhouse/<query>.sql where it exists (the roll-ups),
else the .sql file transpiled by queries/engines/dialect.py (exact quantile_cont becomes quantileExactInclusive); only the
reference scan is hand-written here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engines_build import add_chdb_rollup_days, build_chdb, build_duckdb  # noqa: E402
from bench.engines_checks import accuracy, fold_overhead  # noqa: E402
from bench.engines_run import measure  # noqa: E402

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


ENGINES = ("duckdb", "chdb")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, nargs="+", default=[10_000_000, 100_000_000])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "engines")
    ap.add_argument("--rebuild", action="store_true", help="rebuild stores that already exist")
    ap.add_argument("--only", nargs="+", default=[], metavar="TEXT", help="measure only cases whose label has TEXT")
    ap.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES),
                    help="build and measure only these engines (chdb's build dominates at 100M spans)")
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
        with_chdb = "chdb" in args.engines
        if not db.exists() or (with_chdb and not chdir.exists()):
            shutil.rmtree(chdir, ignore_errors=True)
            db.unlink(missing_ok=True)
            before = resource.getrusage(resource.RUSAGE_SELF)
            t = time.perf_counter()
            built = build_duckdb(db, n, args.days)
            if with_chdb:
                built |= build_chdb(chdir, db)
            after = resource.getrusage(resource.RUSAGE_SELF)
            built["build_wall_s"] = time.perf_counter() - t
            built["build_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            (work / "build.json").write_text(json.dumps(built, indent=1))
        built = json.loads((work / "build.json").read_text())
        if with_chdb and (added := add_chdb_rollup_days(chdir)):  # a store built before schema 0091
            built |= added
            (work / "build.json").write_text(json.dumps(built, indent=1))
        print(f"\n## {n:,} spans over {args.days} days — load {os.getloadavg()[0]:.2f}")
        print(json.dumps(built))
        print("| query | engine | cold s | warm s | CPU s (child) | peak RSS MB | rows | warm / DuckDB reference |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        reference = None
        for label, name, params in CASES:
            if args.only and name != "@reference" and not any(s in label for s in args.only):
                continue
            for engine, path in ((e, db if e == "duckdb" else chdir) for e in args.engines):
                r = measure(engine, path, name, params, args.runs)
                if reference is None:
                    reference = r["warm"]
                print(f"| {label} | {engine} | {r['cold']:.3f} | {r['warm']:.3f} | {r['cpu_s']:.2f} | "
                      f"{r['rss_mb']:.0f} | {r['rows']} | {r['warm'] / reference:.2f} |", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if with_chdb:
            accuracy(db, chdir)


if __name__ == "__main__":
    main()
