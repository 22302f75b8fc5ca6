"""Builds bench/engines.py's stores: the skewed synthetic span table in DuckDB (with its latency roll-up) and in chdb."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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
    $tiers[(op // 20) % len($tiers) + 1]                             AS tier,  -- store.contract.TIERS in turn
    'declared'                                                       AS tier_source,
    CASE (op // 20) % len($tiers) WHEN 1 THEN 'store-' || (hash(i, 6) % 20) WHEN 0 THEN NULL
         ELSE ['eu-west-1', 'us-east-1'][CAST(hash(i, 6) % 2 AS INTEGER) + 1] END    AS site,
    'wl-' || (op // 20)                                              AS workload,
    CASE WHEN op // 20 = 9 THEN 'batch' ELSE 'inference' END         AS workload_type,
    CAST($end_ns - $days * 86400000000000 + floor(u2 * $days * 86400000000000) AS BIGINT) AS start_ns,
    -- lognormal: median 2 ms × 1.6^(op % 12), σ = 0.8, from a Box–Muller normal
    CAST(greatest(1, 2e6 * pow(1.6, op % 12) * exp(0.8 * sqrt(-2 * ln(greatest(u3, 1e-12))) * cos(6.283185307179586 * u6)))
         AS BIGINT)                                                  AS duration_ns
FROM o
"""

def build_duckdb(db: Path, spans: int, days: int) -> dict[str, float]:
    import store
    from store.contract import TIERS
    from store.derived import rollup

    con = store.open_writer(db)
    t = time.perf_counter()
    con.execute(f"INSERT INTO spans BY NAME SELECT *, start_ns + duration_ns AS end_ns, 'bench' AS batch_key "
                f"FROM ({GENERATE}) ORDER BY start_ns",
                {"n": spans, "days": days, "end_ns": END_NS, "tiers": list(TIERS)}).fetchall()
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

    from store.clickhouse.client import ClickHouseClient
    from store.derived import rollup

    parquet = chdir.parent / "spans.parquet"
    cols = ("parent_span_id, name, kind, status_code, service_name, tier, site, workload, "
            "workload_type, start_ns, duration_ns")
    t = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"COPY (SELECT {cols} FROM spans) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
    con.close()
    export_s = time.perf_counter() - t
    ch = ClickHouseClient(f"chdb://{chdir}")
    table_ddl = (ROOT / "store/clickhouse/schema/0090_latency_rollup.sql").read_text("utf-8")
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
    return {"export_s": export_s, "chdb_load_s": load_s, "chdb_rollup_s": rollup_s} | add_chdb_rollup_days(chdir)


def add_chdb_rollup_days(chdir: Path) -> dict[str, float]:
    """Schema 0091's day-histogram tables and views over the chdb roll-up, filled from its day rows as the schema step
    fills them (a store built before 0091 gets them here without a rebuild); {} when they are already there."""
    from store.clickhouse import schema
    from store.clickhouse.client import ClickHouseClient

    ch = ClickHouseClient(f"chdb://{chdir}")
    try:
        if ch.query_arrow("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() "
                          "AND name = 'latency_rollup_day_groups'").to_pylist()[0]["n"]:
            return {}
        t = time.perf_counter()
        for statement in schema.rollup_days().statements():
            ch.command(statement)
        return {"chdb_rollup_days_s": time.perf_counter() - t}
    finally:
        ch.close()
