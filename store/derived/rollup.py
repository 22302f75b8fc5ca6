"""The latency roll-up: log-bucketed duration histograms per minute and per day of the request spans."""

from __future__ import annotations

import math

from store.derived.model import Derived, Kind

# DDSketch-style buckets: bucket i holds durations d with γ^(i-1) < d ≤ γ^i, γ = (1+α)/(1-α). Reporting a
# bucket as 2γ^i/(γ+1) is within α of every value it holds. The engines compute ceil(ln(d) · K) with K the
# literal below (1/ln γ to the last bit), so DuckDB and ClickHouse agree on the bucket of every duration.
# Error bound of the latency_rollup_* queries, against interpolated quantile_cont over the same spans: with
# ranks h = floor((n-1)q), h+1 and f = (n-1)q - h, they report (1-f)·rep(x_h) + f·rep(x_h+1); each rep is within α
# of its x, so the convex combination is within α·quantile_cont when every duration is > 0 (a duration ≤ 0 reports
# as 0). The same holds for nearest-rank percentiles (f = 0). tests/test_rollup_bound.py checks it.
ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
INV_LN_GAMMA = 49.99833328888678
LN_GAMMA = 0.020000666706669435
ZERO_BUCKET = -1  # durations ≤ 0 ns (clock skew, instant spans): reported as 0

BUCKET_SQL = ("CASE WHEN duration_ns <= 0 THEN -1 "
              "ELSE CAST(ceil(ln(duration_ns) * 49.99833328888678) AS INTEGER) END")
# The spans the latency queries count as requests (see queries/latency_by_tier.sql).
REQUESTS_SQL = "(kind IN ('server', 'consumer') OR parent_span_id IS NULL)"
MINUTE_NS = 60_000_000_000
DAY_NS = 86_400_000_000_000
KEYS = ("width_ns", "period_ns", "tier", "site", "workload", "workload_type", "service_name", "name", "bucket")


def bucket_of(duration_ns: int) -> int:
    """The bucket the SQL expression assigns (same double arithmetic), for tests and checks."""
    return ZERO_BUCKET if duration_ns <= 0 else math.ceil(math.log(duration_ns) * INV_LN_GAMMA)


def representative_ns(bucket: int) -> float:
    """The value a bucket reports: within ALPHA (relative) of every duration the bucket holds."""
    return 0.0 if bucket < 0 else math.exp(bucket * LN_GAMMA) * 2 / (1 + GAMMA)


def histogram_sql(source: str) -> str:
    """Rows of the roll-up (both widths) for the spans of `source` (a table, view or batch); DuckDB and ClickHouse."""
    return (
        "SELECT w.width_ns, start_ns - start_ns % w.width_ns AS period_ns, "
        "tier, site, workload, workload_type, service_name, name, "
        f"{BUCKET_SQL} AS bucket, count(*) AS n, "
        "sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS errors, sum(duration_ns) AS sum_duration_ns "
        f"FROM {source} CROSS JOIN (SELECT {MINUTE_NS} AS width_ns UNION ALL SELECT {DAY_NS}) AS w "
        f"WHERE {REQUESTS_SQL} GROUP BY {', '.join(KEYS)}"
    )


# ClickHouse keeps it with materialized views over the Collector's own table (schema 0090, 0091).
TABLE = Derived("latency_rollup", Kind.MERGE, (*KEYS, "n", "errors", "sum_duration_ns"), histogram_sql, keys=KEYS,
                sums=("n", "errors", "sum_duration_ns"))
