"""Catalogue entries for the SRE analyses: latency over time, slow traces, GPU, cache, egress, escalation, trust zones,
budgets, slow paths, regressions."""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

from queries import policy, slow_path
from queries.catalog import (
    BAND,
    BUCKET,
    BUCKETS,
    END,
    LATENCY_UNITS,
    SITE,
    START,
    TIER,
    TIER_NAMES,
    TRACES_PER_BAND,
    WORKLOAD,
    Param,
    Query,
    Shape,
    setting,
    workload_class,
)

SLOW_QUANTILE = setting("slow_quantile", float, "slow = end-to-end above this quantile", 0.9, 0.0, 1.0)
DAY_BUCKET = Param("bucket", str, "time bucket (UTC)", "day", BUCKETS, nullable=False)
_ANY_TIER = "|".join(TIER_NAMES)
TIER_LIST = Shape(re.compile(f"(?:{_ANY_TIER})(?:,(?:{_ANY_TIER}))*"),
                  f"tiers from {', '.join(TIER_NAMES)}, comma-separated without spaces")
_MS = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
BUDGETS = Shape(re.compile(f"[^=,]+={_MS}(?:,[^=,]+={_MS})*"), "workload=ms pairs, comma-separated (chat=200,search=800)")


def _float(params: Mapping[str, object], name: str, default: float) -> float:
    value = params.get(name)
    return float(value) if isinstance(value, int | float) else default


def _slow_path(spans: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    return slow_path.slow_path(spans, band=_float(params, "band", 0.05))


def _slow_attributes(counts: pl.LazyFrame, params: Mapping[str, object]) -> pl.LazyFrame:
    support = params.get("min_support")
    return slow_path.attribute_lift(counts, min_support=support if isinstance(support, int) else 2)


def _zone(data_class: str) -> Param:
    return Param(f"{data_class}_tiers", str,
                 f"tiers `{data_class}` data may reach, comma-separated (NULL = anywhere; tierwise.toml [trust_zones])",
                 lambda: policy.configured().tiers_param(data_class), shape=TIER_LIST)


GPU_UNITS = (("*_ratio", "fraction 0-1"), ("*_bytes", "bytes"))
SRE: tuple[Query, ...] = (
    Query("latency_over_time", "Requests, errors, error rate and exact p50/p95 per time bucket and tier.",
          (BUCKET, TIER, SITE, WORKLOAD, START, END), LATENCY_UNITS, sql="latency_over_time"),
    Query("latency_by_tier_workload", "Requests, error rate and exact p50/p95/p99 per tier and workload (and site).",
          (Param("by_site", str, "yes splits each row by site", "no", ("yes", "no")), TIER, SITE, WORKLOAD, START, END),
          LATENCY_UNITS, sql="latency_by_tier_workload"),
    Query("slow_traces", "Example slow traces for a drill-down, slowest root spans first.",
          (Param("tier", str, "only traces with a span in this tier", choices=TIER_NAMES), SITE,
           Param("workload", str, "only traces whose root span has this workload"),
           workload_class("interactive", "interactive, batch or all; applies when no workload is named"),
           Param("start_ns", int, "root span from this time (inclusive)"),
           Param("end_ns", int, "root span until this time (exclusive)"),
           Param("min_tiers_count", int, "only traces crossing at least this many tiers (looked for among the 2,000 "
                 "slowest)", 1, low=1, high=len(TIER_NAMES)),
           Param("limit_count", int, "at most this many rows", 20, low=0, high=1_000_000_000)),
          (("duration_ms", "ms"), ("start_ns", "Unix ns")), sql="slow_traces"),
    Query("cell_traces", "The traces with a request in one heatmap cell (the model's entries), slowest request first.",
          (Param("tier", str, "the cell's tier, entries into it (NULL: no rows)", choices=TIER_NAMES), SITE, WORKLOAD,
           Param("by_site", str, "yes: entries into the tier at a site (the heatmap by site)", "no", ("yes", "no")),
           Param("workload_type", str, "only this workload type (NULL = training, batch and embedding left out)"),
           Param("start_ns", int, "entries from this time (inclusive)"),
           Param("end_ns", int, "entries until this time (exclusive)"),
           Param("limit_count", int, "at most this many rows", 20, low=0, high=1_000_000_000)),
          (("*_ms", "ms"), ("start_ns", "Unix ns"), ("requests", "requests, sampling-adjusted")), sql="cell_traces"),
    Query("data_extent", "The first and last span start in the store: where the dashboard's time presets end.", (),
          (("first_ns", "Unix ns"), ("last_ns", "Unix ns"), ("spans", "spans")), sql="data_extent"),
    Query("trace_detail", "Every span of one trace in start order, with status, attributes and events.",
          (Param("trace_id", str, "the trace (32 lowercase hex)"),),
          (("start_ns", "Unix ns"), ("end_ns", "Unix ns"), ("duration_ms", "ms"), ("*_bytes", "bytes")),
          sql="trace_detail"),
    Query("gpu_utilization_by_node", "GPU utilization (mean, p95) and memory per time bucket, tier, site and host.",
          (BUCKET, TIER, SITE, START, END), GPU_UNITS, sql="gpu_utilization_by_node"),
    Query("gpu_idle_hours", "GPU-hours observed and idle (hourly mean utilization below a threshold) per host.",
          (setting("idle_threshold_ratio", float, "an hour is idle below this mean utilization", 0.1, 0.0, 1.0),
           TIER, SITE, START, END), (("*_gpu_hours", "GPU-hours"), ("*_ratio", "fraction 0-1")),
          sql="gpu_idle_hours"),
    Query("gpu_starvation", "Buckets where a host's GPUs sat mostly idle while its queue was deep.",
          (setting("util_threshold_ratio", float, "starved below this mean utilization", 0.3, 0.0, 1.0),
           setting("queue_threshold", float, "while the mean queue depth exceeds this (requests)", 10.0, 0.0),
           BUCKET, TIER, SITE, START, END), (("*_ratio", "fraction 0-1"), ("*_queue_depth", "requests")),
          sql="gpu_starvation"),
    Query("gpu_starved_hosts", "Per GPU host: clock hours starved (low utilization, deep queue) and its main workload.",
          (setting("util_threshold_ratio", float, "starved below this hourly mean utilization", 0.3, 0.0, 1.0),
           setting("queue_threshold", float, "while the hourly mean queue depth exceeds this (requests)", 10.0, 0.0),
           TIER, SITE, START, END), (("*_hours", "clock hours"), ("*_ratio", "fraction 0-1"),
                                     ("*_queue_depth", "requests")), sql="gpu_starved_hosts"),
    Query("gpu_cost_vs_use", "Compute money allocated to each GPU host per day against the share its GPUs used.",
          (TIER, SITE, START, END), (("*_usd", "BillingCurrency (USD)"), ("*_ratio", "fraction 0-1")),
          sql="gpu_cost_vs_use"),
    Query("cache_hit_rate", "Cache lookups, hit rate, p50/p95 on hits vs misses and prompt-cache token rate.",
          (TIER, WORKLOAD, START, END), (("*_ratio", "fraction 0-1"), ("*_ms", "ms"), ("*_tokens", "tokens")),
          sql="cache_hit_rate"),
    Query("cache_savings", "Money cache hits saved: adjusted hits × (mean cost of a miss request − of a hit request).",
          (TIER, WORKLOAD, START, END), (("*_usd", "USD"), ("hits_adjusted", "requests")), sql="cache_savings"),
    Query("egress_by_tier_pair_spans", "Bytes each way between tiers from CLIENT→SERVER hops, as sampled and adjusted.",
          (WORKLOAD, START, END), (("*_bytes*", "bytes"), ("*_gb_*", "GB (1e9 bytes)")),
          sql="egress_by_tier_pair_spans"),
    Query("escalations", "Device-rooted traces (pattern 3) per bucket and workload: share reaching edge or cloud.",
          (DAY_BUCKET, WORKLOAD, START, END), (("*_ratio", "fraction 0-1 of device-rooted traces"),),
          sql="escalations"),
    Query("escalation_reasons", "Calls leaving a tier per bucket, workload, tier pair and tierwise.escalation.reason.",
          (DAY_BUCKET, WORKLOAD, START, END), (("calls", "CLIENT spans"), ("traces", "traces")),
          sql="escalation_reasons"),
    Query("trust_zone_violations", "Spans whose data class ran in a tier the trust-zone policy does not allow.",
          (_zone("public"), _zone("internal"), _zone("confidential"), _zone("regulated"), START, END),
          (("first_seen", "UTC"), ("last_seen", "UTC")), sql="trust_zone_violations"),
    Query("latency_budgets", "Each workload's budget and latency class against the p95 of every tier it runs in.",
          (Param("budgets", str, "budgets for workloads whose spans declare none: workload=ms,… (tierwise.toml "
                 "[latency_budgets])", lambda: policy.configured().budgets_param(), shape=BUDGETS),
           setting("edge_max_ms", float, "budgets below this are edge territory", policy.EDGE_MAX_MS, 0.0),
           setting("regional_max_ms", float, "budgets up to this are regional; above, asynchronous hyperscale",
                 policy.REGIONAL_MAX_MS, 0.0), START, END), (("*_ms", "ms"),), sql="latency_budgets"),
    Query("latency_regressions", "Daily p95 per workload and tier, flagged above a rolling median + k×MAD baseline.",
          (WORKLOAD, TIER, setting("k", float, "how many scaled MADs above the baseline is a regression", 3.0, 0.0),
           setting("window_days", int, "baseline: the previous this-many days", 7, 1, 3650),
           setting("min_history_days", int, "days with data needed before a day is judged", 3, 0, 3650),
           setting("min_rise_ratio", float, "and at least this relative rise over the baseline", 0.1, 0.0),
           setting("min_requests", int, "days with fewer requests are not judged", 10, 0)),
          (("*_ms", "ms"),), sql="latency_regressions"),
    Query("trace_attributes", "Attribute values (site, tier, model, device model, cache, data class) per trace.",
          (WORKLOAD, START, END), (("e2e_ns", "ns"),), sql="trace_attributes"),
    Query("slow_path", "Per tier, hop and operation: critical-path ms near p50 and p95 and share of the p95−p50 gap.",
          (WORKLOAD, START, END, BAND, TRACES_PER_BAND), (("*_ms", "ms"), ("*_pct", "%")),
          source="band_trace_spans", derive=_slow_path),
    Query("slow_attribute_counts", "Per workload and attribute value: slow (above the quantile) and typical traces.",
          (WORKLOAD, START, END, SLOW_QUANTILE), (("threshold_ms", "ms"),), sql="slow_attribute_counts"),
    Query("slow_attributes", "Attribute values over-represented in slow traces (above the p90) vs the rest: lift.",
          (WORKLOAD, START, END, SLOW_QUANTILE,
           setting("min_support", int, "keep values seen in at least this many slow traces", 2, 1)),
          (("share_*", "fraction 0-1"), ("threshold_ms", "ms")), source="slow_attribute_counts",
          derive=_slow_attributes),
)
