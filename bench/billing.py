"""Benchmark of billing ingest: a CUR 2.0 Parquet and a FOCUS CSV against DuckDB's raw read of the same file.

Run from the repository root:

    .venv/bin/python bench/billing.py --rows 5000000    # the figure in docs/benchmarks.md (## Billing)
    .venv/bin/python bench/billing.py --rows 200000     # a quick run

Each measurement runs in a fresh child process against a fresh store; peak RSS is sampled every 50 ms with
psutil, and CPU seconds (user + system of the child) are reported beside wall seconds because the shared VM's
load makes wall time noisy. "tierwise" is `ingest.files.route.ingest_any` (detection, hashing, mapping to FOCUS,
the ledger layout's per-file check, quarantine check, source totals, one transaction); "raw" is `CREATE TABLE t AS
SELECT * FROM read_parquet(...)` / `read_csv(...)` of the same file into a fresh DuckDB file.
Files are generated once into --data-dir and reused.

`--breakdown` adds three diagnostic rows per file, each timed after an untimed ingest in its own child, writing the
already-mapped rows (held in a temporary table) again without reading or mapping anything: "wide write" inserts all
77 ledger columns into `costs_wide` (the layout before migration 0008, and what a file whose per-file columns vary
still gets); "narrow write" inserts the columns of `costs_narrow` (what a file loaded narrow writes per row);
"varying columns only" writes just the columns whose value varies within this file (the floor for any layout).
Their peak RSS is not shown: it is the untimed ingest's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
FOCUS_SAMPLE = ROOT / "tests" / "fixtures" / "finops" / "focus-1.0-sample-1000.csv"


def make_focus_csv(path: Path, rows: int) -> None:
    """The 1000-row FOCUS 1.0 sample repeated to `rows` rows, with distinct charge hours."""
    con = duckdb.connect()
    rel = con.sql("SELECT s.* REPLACE (strftime(s.ChargePeriodStart::TIMESTAMP + to_hours(r.range % 720), "
                  "'%Y-%m-%d %H:%M:%S') AS ChargePeriodStart) "
                  "FROM read_csv($p, all_varchar = true) s, range(CAST(ceil($n / 1000) AS BIGINT)) r LIMIT $n",
                  params={"p": str(FOCUS_SAMPLE), "n": rows})
    rel.write_csv(str(path), header=True)


def make_cur2_parquet(path: Path, rows: int) -> None:
    """Synthetic CUR 2.0 rows (compute, storage, data transfer, tax) with map columns, as AWS Data Exports write."""
    con = duckdb.connect()
    rel = con.sql("""
        SELECT '111122223333' AS bill_payer_account_id, 'Amazon Web Services, Inc.' AS bill_invoicing_entity,
               'Anniversary' AS bill_bill_type, 'INV-' || (i % 3) AS bill_invoice_id,
               TIMESTAMP '2026-10-01' AS bill_billing_period_start_date,
               TIMESTAMP '2026-11-01' AS bill_billing_period_end_date,
               '4444' || (i % 7) AS line_item_usage_account_id,
               CASE WHEN i % 50 = 0 THEN 'Tax' ELSE 'Usage' END AS line_item_line_item_type,
               TIMESTAMP '2026-10-01' + to_hours(i % 744) AS line_item_usage_start_date,
               TIMESTAMP '2026-10-01' + to_hours(i % 744 + 1) AS line_item_usage_end_date,
               ['AmazonEC2', 'AmazonS3', 'AmazonEC2'][i % 3 + 1] AS line_item_product_code,
               ['USE1-BoxUsage:g5.xlarge', 'USE1-TimedStorage-ByteHrs', 'USE1-DataTransfer-Out-Bytes'][i % 3 + 1]
                   AS line_item_usage_type,
               'arn:aws:ec2:us-east-1:1111:instance/i-' || (i % 5000) AS line_item_resource_id,
               (i % 97) / 10.0 AS line_item_usage_amount, 'USD' AS line_item_currency_code,
               1.006 AS line_item_unblended_rate, round((i % 97) * 0.1006, 6) AS line_item_unblended_cost,
               'usage line ' || (i % 11) AS line_item_line_item_description,
               'Amazon Web Services, Inc.' AS line_item_legal_entity,
               map(['product_family', 'region_code', 'transfer_type'],
                   [['Compute Instance', 'Storage', 'Data Transfer'][i % 3 + 1], 'us-east-1',
                    CASE WHEN i % 3 = 2 THEN 'AWS Outbound' ELSE '' END]) AS product,
               'Hrs' AS pricing_unit, 'OnDemand' AS pricing_term, 1.2 AS pricing_public_on_demand_rate,
               round((i % 97) * 0.12, 6) AS pricing_public_on_demand_cost,
               map(['user_workload'], [['assistant', 'search', 'vision'][i % 3 + 1]]) AS resource_tags
        FROM range($n) t(i)""", params={"n": rows})
    rel.write_parquet(str(path))


def child(mode: str, path: Path, db: Path) -> dict[str, float]:
    """One measured run inside this process: returns rows, wall seconds and CPU seconds (user + system).

    tierwise's modules are imported before the clock starts, as duckdb is for the raw read: both time the load only.
    """
    sys.path.insert(0, str(ROOT))
    import store
    from ingest.files.route import ingest_any
    from store.settings import load_settings

    if mode in ("wide", "narrow", "varying"):
        return _rewrite(mode, path, db)
    start, cpu0 = time.perf_counter(), os.times()
    if mode == "raw":
        con = duckdb.connect(str(db))
        if path.suffix == ".parquet":
            con.execute("CREATE TABLE t AS SELECT * FROM read_parquet($p)", {"p": str(path)})
        else:  # as tierwise reads it: no type sniffing (its ids sniff as BIGINT), literal NULL is null
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv($p, all_varchar = true, nullstr = ['NULL', ''])",
                        {"p": str(path)})
        n = int(con.execute("SELECT count(*) FROM t").fetchall()[0][0])
        con.close()
    else:
        con = store.open_writer(db)
        res = ingest_any(con, path, load_settings(db=db, env={}))
        if res.status != "complete":
            raise SystemExit(f"ingest failed: {res}")
        n = res.accepted
        con.close()
    seconds, cpu1 = time.perf_counter() - start, os.times()
    return {"rows": n, "seconds": seconds, "cpu_seconds": cpu1.user + cpu1.system - cpu0.user - cpu0.system}


def _rewrite(mode: str, path: Path, db: Path) -> dict[str, float]:
    """Ingest untimed, then time writing the mapped rows again: all ledger columns, the narrow ones or the varying."""
    import store
    from ingest.billing import ledger
    from ingest.files.route import ingest_any
    from store.settings import load_settings

    con = store.open_writer(db)
    if ingest_any(con, path, load_settings(db=db, env={})).status != "complete":
        raise SystemExit(f"ingest failed: {path}")
    con.execute("CREATE TEMP TABLE mapped AS SELECT * FROM costs")
    table = {"wide": ledger.WIDE, "narrow": ledger.NARROW}.get(mode)
    cols = [str(r[0]) for r in con.execute(f"DESCRIBE {table or 'costs'}").fetchall() if r[0] != ledger.FILE_KEY]
    if mode == "varying":  # some row differs from another (NULL counts as a value)
        stats = con.execute("SELECT " + ", ".join(f'count(DISTINCT "{c}") > 1 OR count("{c}") NOT IN (0, count(*))'
                                                  for c in cols) + " FROM mapped").fetchall()[0]
        cols = [c for c, varies in zip(cols, stats, strict=True) if varies]
    names = ", ".join(f'"{c}"' for c in cols)
    sql = {"wide": f"INSERT INTO {ledger.WIDE} SELECT * FROM mapped",
           "narrow": f"INSERT INTO {ledger.NARROW} ({ledger.FILE_KEY}, {names}) SELECT 0, {names} FROM mapped",
           "varying": f"CREATE TABLE varying AS SELECT {names} FROM mapped"}[mode]
    con.execute("BEGIN TRANSACTION")
    start, cpu0 = time.perf_counter(), os.times()
    con.execute(sql)
    con.execute("COMMIT")
    seconds, cpu1 = time.perf_counter() - start, os.times()
    n = int(con.execute("SELECT count(*) FROM mapped").fetchall()[0][0])
    con.close()
    return {"rows": n, "seconds": seconds, "cpu_seconds": cpu1.user + cpu1.system - cpu0.user - cpu0.system,
            "columns": len(cols)}


def measure(mode: str, path: Path, work: Path) -> dict[str, float]:
    """Run one child; peak RSS is sampled every 50 ms (ru_maxrss would inherit this process's peak)."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(path), str(Path(tmp) / "s.duckdb")],
                                stdout=subprocess.PIPE, text=True)
        watched = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.05)
        out = proc.stdout.read() if proc.stdout else ""
        if proc.returncode:
            raise SystemExit(f"{mode} run failed on {path}")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 1e6
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--only", choices=["cur2", "focus"], default=None, help="Measure one of the two files.")
    ap.add_argument("--breakdown", action="store_true", help="Also time writing the mapped rows alone (diagnostic).")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return
    data = args.data_dir or Path(tempfile.gettempdir()) / f"tierwise-billing-bench-{args.rows}"
    data.mkdir(parents=True, exist_ok=True)
    files = {"CUR 2.0 Parquet": data / "cur2.parquet", "FOCUS 1.0 CSV": data / "focus.csv"}
    if not files["CUR 2.0 Parquet"].exists():
        make_cur2_parquet(files["CUR 2.0 Parquet"], args.rows)
    if not files["FOCUS 1.0 CSV"].exists():
        make_focus_csv(files["FOCUS 1.0 CSV"], args.rows)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| file | size | reader | rows | wall s | CPU s | rows/s (wall) | peak RSS MB | vs raw (wall) | vs raw (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, path in files.items():
        if args.only and args.only not in path.name:
            continue
        raw = measure("raw", path, data)
        runs = [("DuckDB raw read", raw), ("tierwise ingest", measure("tierwise", path, data))]
        if args.breakdown:
            runs += [(f"{what} ({int(r['columns'])} columns)", r) for what, r in (
                ("wide write only", measure("wide", path, data)), ("narrow write only", measure("narrow", path, data)),
                ("varying columns only", measure("varying", path, data)))]
        size = f"{path.stat().st_size / 1e6:.0f} MB"
        for name, r in runs:
            rss = "–" if "columns" in r else f"{r['peak_rss_mb']:.0f}"
            print(f"| {label} | {size} | {name} | {int(r['rows']):,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
                  f"{r['rows'] / r['seconds']:,.0f} | {rss} | {r['seconds'] / raw['seconds']:.2f}× | "
                  f"{r['cpu_seconds'] / raw['cpu_seconds']:.2f}× |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

if __name__ == "__main__":
    main()
