"""Catalogue entry for trace search (queries/traces.py reads `tierwise traces` flags and the page's filters into it)."""

from __future__ import annotations

from queries.catalog import END, SITE, START, TIER, WORKLOAD, Param, Query, setting

SLACK_NS = 3600 * 10**9  # spans are searched up to an hour either side of the window their trace starts in
MAX_LIMIT = 10_000

TRACES: tuple[Query, ...] = (
    Query("trace_search", "Traces matching span conditions (service, operation, tier, site, workload on one span), "
          "status, duration and start time; most recent or slowest first.",
          (Param("service", str, "a span of this service"), Param("operation", str, "a span of this operation"),
           TIER, SITE, WORKLOAD,
           Param("where", str, 'attribute conditions on the same span, as JSON: [{"k": "key", "op": "=", "v": "x"}]'),
           Param("status", str, "error: a span failed; ok: none did", choices=("error", "ok")),
           Param("min_ms", float, "trace at least this long (ms)", low=0.0),
           Param("max_ms", float, "trace at most this long (ms)", low=0.0), START, END,
           Param("sort", str, "recent or slowest first", "recent", ("recent", "slowest"), nullable=False),
           Param("limit_count", int, "at most this many traces", 20, low=1, high=MAX_LIMIT),
           setting("slack_ns", int, "spans are searched this far either side of the window (ns)", SLACK_NS, 0)),
          (("start_ns", "Unix ns"), ("duration_ms", "ms"), ("span_count", "spans"), ("error_count", "spans")),
          sql="trace_search"),
)
