"""Catalogue entries for the latency roll-up queries: long windows from mergeable histograms instead of raw spans."""

from __future__ import annotations

from queries.catalog import END, SITE, START, TIER, WORKLOAD, Param, Query, workload_class

ROLLUP_BUCKET = Param("bucket", str, "time bucket (UTC; weeks start Monday)", "hour", ("minute", "hour", "day", "week"),
                      nullable=False)


def _workload_class(default: str) -> Param:
    return workload_class(default, "interactive (serving paths), batch (training/batch/embedding) or all")


ROLLUP_UNITS = (("error_rate", "fraction 0-1"), ("p50_ms", "ms, within 1 % of quantile_cont"),
                ("p95_ms", "ms, within 1 %"), ("p99_ms", "ms, within 1 %"), ("mean_ms", "ms, exact"),
                ("bucket_start_ns", "Unix ns"))

ROLLUP: tuple[Query, ...] = (
    Query("latency_rollup_by_tier", "latency_by_tier from the per-minute histograms: fast on long windows, p* ±1 %.",
          (START, END, TIER, WORKLOAD, _workload_class("interactive")), ROLLUP_UNITS, sql="latency_rollup_by_tier"),
    Query("latency_rollup_over_time", "Requests, errors and p50/p95/p99 per time bucket and tier from the histograms.",
          (ROLLUP_BUCKET, TIER, SITE, WORKLOAD, _workload_class("all"), START, END), ROLLUP_UNITS,
          sql="latency_rollup_over_time"),
    # fine groups at 100M spans (docs/benchmarks/history/engines.md, Round 4): ClickHouse answers from one histogram per
    # group and day (schema 0091) in ~1 s; DuckDB walks one row per bucket, about as costly as latency_by_group
    Query("latency_rollup_by_group", "latency_by_group (bucket, tier, site, workload, service, operation) from histograms.",
          (ROLLUP_BUCKET, TIER, SITE, WORKLOAD, _workload_class("all"), START, END), ROLLUP_UNITS,
          sql="latency_rollup_by_group"),
)
