"""The usage roll-up (migration 0011): per-day adjusted usage sums per workload, tier and site, folded in per batch."""

from __future__ import annotations

import duckdb

from ingest import appended
from ingest.appended import Appended
from ingest.rollup import DAY_NS, REQUESTS_SQL

# A span's adjusted-count weight from its trace_state threshold (OpenTelemetry probability sampling, ot=...th:T):
# 2^56 / (2^56 - T), 1 without one. The regex runs once per distinct trace_state of the relation.
WEIGHTS_SQL = (
    "SELECT trace_state, CASE WHEN th = '' THEN 1.0 ELSE 72057594037927936.0 / "
    "(72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w "
    "FROM (SELECT trace_state, regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{{1,14}})', 1) AS th "
    "FROM (SELECT DISTINCT trace_state FROM {source} WHERE trace_state IS NOT NULL))"
)
KEYS = ("day_ns", "workload", "tier", "site", "workload_type", "data_class", "latency_budget_ms")
SUMS = ("spans", "weight", "request_weight", "token_weight", "model_weight_ns")
COLUMNS = (*KEYS, "spans", "max_duration_ns", *SUMS[1:])


def rows_sql(source: str) -> str:
    """SELECT: the roll-up rows of the spans of relation `source` (a batch view or `spans`)."""
    w = "coalesce(wt.w, 1.0)"
    return (
        f"WITH weights AS ({WEIGHTS_SQL.format(source=source)}) "
        f"SELECT s.start_ns - s.start_ns % {DAY_NS} AS day_ns, s.workload, s.tier, s.site, s.workload_type, "
        "s.data_class, s.latency_budget_ms, count(*) AS spans, max(s.duration_ns) AS max_duration_ns, "
        f"sum({w}) AS weight, "
        f"coalesce(sum({w}) FILTER (WHERE {REQUESTS_SQL}), 0) "
        "AS request_weight, "
        f"sum((coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) * {w}) AS token_weight, "
        f"coalesce(sum(s.duration_ns * {w}) FILTER (WHERE s.gen_ai_model IS NOT NULL), 0) AS model_weight_ns "
        f"FROM {source} s LEFT JOIN weights wt ON wt.trace_state = s.trace_state GROUP BY ALL"
    )


_SAME_KEY = " AND ".join(f"r.{k} IS NOT DISTINCT FROM b.{k}" for k in KEYS)


def fold_batch(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Add one committed span batch (relation `view`) to the roll-up, one row per key, in the caller's transaction.

    The ledger that skips committed batches keeps a re-ingest or a resumed file from counting a batch twice.
    """
    sums = ", ".join(f"{c} = r.{c} + b.{c}" for c in SUMS)
    con.execute(
        f"MERGE INTO usage_rollup r USING ({rows_sql(view)}) b ON ({_SAME_KEY}) "
        f"WHEN MATCHED THEN UPDATE SET {sums}, max_duration_ns = greatest(r.max_duration_ns, b.max_duration_ns) "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(COLUMNS)}) VALUES ({', '.join('b.' + c for c in COLUMNS)})"
    )


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the roll-up from every span (for stores whose spans were written around the loader)."""
    appended.rebuild(con, (Appended("usage_rollup", rows_sql),))


def mismatches(con: duckdb.DuckDBPyConnection, rel: float = 1e-9) -> int:
    """Keys missing on either side, or whose counts or sums differ from a recomputation over spans (0 when exact).

    Sums of weights are doubles added in another order, so they may differ in the last bits: within `rel`.
    """
    differs = " OR ".join(
        [f"r.{c} IS DISTINCT FROM b.{c}" for c in ("spans", "max_duration_ns")]
        + [f"abs(r.{c} - b.{c}) > {rel} * greatest(abs(r.{c}), abs(b.{c}), 1.0)" for c in SUMS[1:]])
    row = con.execute(
        f"SELECT count(*) FROM usage_rollup r FULL OUTER JOIN ({rows_sql('spans')}) b ON ({_SAME_KEY}) "
        f"WHERE r.tier IS NULL OR b.tier IS NULL OR {differs}").fetchall()
    return int(row[0][0])
