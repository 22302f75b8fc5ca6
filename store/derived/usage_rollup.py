"""The usage roll-up (migration 0011): per-day adjusted usage sums per workload, tier and site."""

from __future__ import annotations

from store.derived.model import Derived, Kind
from store.derived.request_entries import THRESHOLD, WEIGHT
from store.derived.rollup import DAY_NS, REQUESTS_SQL


# A span's adjusted-count weight (request_entries' WEIGHT: 2^56 / (2^56 - T) for a trace_state threshold ot=...th:T,
# 1 without one), computed once per distinct trace_state of the relation.
def weights_sql(source: str) -> str:
    """SELECT: (trace_state, w) for each distinct trace_state of relation `source`."""
    return (f"SELECT trace_state, {WEIGHT} AS w FROM (SELECT trace_state, {THRESHOLD} AS th "
            f"FROM (SELECT DISTINCT trace_state FROM {source} WHERE trace_state IS NOT NULL))")
KEYS = ("day_ns", "workload", "tier", "site", "workload_type", "data_class", "latency_budget_ms")
SUMS = ("spans", "weight", "request_weight", "token_weight", "model_weight_ns")
COLUMNS = (*KEYS, "spans", "max_duration_ns", *SUMS[1:])


def rows_sql(source: str) -> str:
    """SELECT: the roll-up rows of the spans of relation `source` (a batch view or `spans`)."""
    w = "coalesce(wt.w, 1.0)"
    return (
        f"WITH weights AS ({weights_sql(source)}) "
        f"SELECT s.start_ns - s.start_ns % {DAY_NS} AS day_ns, s.workload, s.tier, s.site, s.workload_type, "
        "s.data_class, s.latency_budget_ms, count(*) AS spans, max(s.duration_ns) AS max_duration_ns, "
        f"sum({w}) AS weight, "
        f"coalesce(sum({w}) FILTER (WHERE {REQUESTS_SQL}), 0) "
        "AS request_weight, "
        f"sum((coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) * {w}) AS token_weight, "
        f"coalesce(sum(s.duration_ns * {w}) FILTER (WHERE s.gen_ai_model IS NOT NULL), 0) AS model_weight_ns "
        f"FROM {source} s LEFT JOIN weights wt ON wt.trace_state = s.trace_state GROUP BY ALL"
    )


# The same rows as a view over ClickHouse's spans (ClickHouse spells the weight with its own functions).
CLICKHOUSE = """
SELECT day_ns, workload, tier, site, workload_type, data_class, latency_budget_ms,
       toInt64(count()) AS spans, max(duration_ns) AS max_duration_ns, sum(w) AS weight,
       coalesce(sumIf(w, kind IN ('server', 'consumer') OR parent_span_id IS NULL), 0) AS request_weight,
       sum((coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) * w) AS token_weight,
       coalesce(sumIf(duration_ns * w, gen_ai_model IS NOT NULL), 0) AS model_weight_ns
FROM (SELECT *, start_ns - start_ns % 86400000000000 AS day_ns,
             if(th = '', 1.0, 72057594037927936.0
                              / (72057594037927936.0 - toFloat64(reinterpretAsUInt64(reverse(unhex(rightPad(th, 14, '0')))))))
                 AS w
      FROM (SELECT *, regexpExtract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th FROM spans))
GROUP BY day_ns, workload, tier, site, workload_type, data_class, latency_budget_ms
"""

TABLE = Derived("usage_rollup", Kind.MERGE, COLUMNS, rows_sql, keys=KEYS, sums=SUMS, maxima=("max_duration_ns",),
                approx=SUMS[1:], clickhouse=CLICKHOUSE)
