"""The requests the semantic model counts, kept at ingest (migration 0013): every root and SERVER/CONSUMER span once,
with its sampling weight and where its parent ran, so `requests` and latency read one narrow table; and the few spans
delivered more than once, so the model's other span measures count each once without grouping every span."""

from __future__ import annotations

from store.derived.model import Derived, Kind

TRACE_KEY = "CASE WHEN length(trace_id) = 32 THEN try_cast('0x' || trace_id AS UHUGEINT) END"
SPAN_KEY = "CASE WHEN length(span_id) = 16 THEN try_cast('0x' || span_id AS UBIGINT) END"
PARENT_KEY = "CASE WHEN length(parent_span_id) = 16 THEN try_cast('0x' || parent_span_id AS UBIGINT) END"
# A parent counts only when it started within a day of its child: the bound that lets each commit look parents up in
# the few row groups of its own time instead of every span (docs/data-contract.md).
PARENT_WINDOW_NS = 86_400 * 10**9
# A span's sampling weight from its W3C tracestate threshold `ot=th:T` (`th` = THRESHOLD's group): 2^56 / (2^56 − T),
# else 1.
THRESHOLD = "regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{1,14})', 1)"
WEIGHT = ("CASE WHEN th = '' THEN 1.0 "
          "ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END")
COLUMNS = ("trace_key", "span_key", "parent_key", "is_root", "tier", "site", "service_name", "name", "workload",
           "workload_type", "data_class", "start_ns", "duration_ns", "status_code", "w", "parent_tier", "parent_site",
           "parent_service", "parent_found")


def places_sql(source: str) -> str:
    """SELECT: the span_places rows (every span with well-formed ids: where it ran) of relation `source`."""
    return (f"SELECT trace_key, span_key, start_ns, tier, site, service_name FROM (SELECT {TRACE_KEY} AS trace_key, "
            f"{SPAN_KEY} AS span_key, start_ns, tier, site, service_name FROM {source}) "
            "WHERE trace_key IS NOT NULL AND span_key IS NOT NULL")


def entries_sql(source: str, known: str | None) -> str:
    """SELECT: the request_entries rows of relation `source`'s roots and SERVER/CONSUMER spans: one per (trace, span)
    id pair, leaving out those already in `known` (a table of such rows, or None), each with where its parent ran when
    span_places holds the parent. Spans whose ids are not lowercase hex are kept as they are, each once per row."""
    fresh, near = "keyed k", ""
    if known is not None:  # a copy of a span has its start: only the row groups of the batch's times are read
        fresh = (f"keyed k WHERE NOT EXISTS (SELECT 1 FROM (SELECT trace_key, span_key FROM {known} "
                 "WHERE start_ns BETWEEN (SELECT min(start_ns) FROM keyed) AND (SELECT max(start_ns) FROM keyed) "
                 "AND trace_key IN (SELECT trace_key FROM keyed)) e "
                 "WHERE e.trace_key = k.trace_key AND e.span_key = k.span_key)")
        near = (f" AND start_ns BETWEEN (SELECT min(start_ns) FROM fresh) - {PARENT_WINDOW_NS} "
                f"AND (SELECT max(start_ns) FROM fresh) + {PARENT_WINDOW_NS}")
    return f"""
WITH cand AS (
    SELECT {TRACE_KEY} AS trace_key, {SPAN_KEY} AS span_key, {PARENT_KEY} AS parent_key,
           parent_span_id IS NULL AS is_root, tier, site, service_name, name, workload, workload_type, data_class,
           start_ns, duration_ns, status_code, trace_state
    FROM {source}
    WHERE parent_span_id IS NULL OR kind IN ('server', 'consumer')
),
keyed AS (SELECT DISTINCT ON (trace_key, span_key) * FROM cand WHERE trace_key IS NOT NULL AND span_key IS NOT NULL),
fresh AS (
    SELECT k.* FROM {fresh}
    UNION ALL
    SELECT * FROM cand WHERE trace_key IS NULL OR span_key IS NULL
),
weights AS (
    SELECT trace_state, {WEIGHT} AS w
    FROM (SELECT trace_state, {THRESHOLD} AS th
          FROM (SELECT DISTINCT trace_state FROM fresh WHERE trace_state IS NOT NULL))
),
parents AS (
    SELECT trace_key, span_key, any_value(start_ns) AS start_ns, any_value(tier) AS tier, any_value(site) AS site,
           any_value(service_name) AS service
    FROM span_places
    WHERE trace_key IN (SELECT trace_key FROM fresh WHERE parent_key IS NOT NULL){near}
    GROUP BY trace_key, span_key
)
SELECT f.trace_key, f.span_key, f.parent_key, f.is_root, f.tier, f.site, f.service_name, f.name, f.workload,
       f.workload_type, f.data_class, f.start_ns, f.duration_ns, f.status_code, coalesce(wt.w, 1.0) AS w,
       p.tier AS parent_tier, p.site AS parent_site, p.service AS parent_service, p.span_key IS NOT NULL AS parent_found
FROM fresh f
LEFT JOIN weights wt ON wt.trace_state = f.trace_state
LEFT JOIN parents p ON p.trace_key = f.trace_key AND p.span_key = f.parent_key
    AND abs(p.start_ns - f.start_ns) <= {PARENT_WINDOW_NS}"""


def _late_parents(view: str) -> str:
    """UPDATE: entries stored before their parent arrived learn where it ran from this batch's spans."""
    batch = f"SELECT start_ns FROM ({places_sql(view)})"
    return (f"UPDATE request_entries AS e SET parent_tier = p.tier, parent_site = p.site, parent_service = p.service, "
            f"parent_found = true FROM (SELECT trace_key, span_key, any_value(start_ns) AS start_ns, "
            f"any_value(tier) AS tier, any_value(site) AS site, any_value(service_name) AS service "
            f"FROM ({places_sql(view)}) GROUP BY trace_key, span_key) p "
            f"WHERE e.start_ns BETWEEN (SELECT min(start_ns) FROM ({batch})) - {PARENT_WINDOW_NS} "
            f"AND (SELECT max(start_ns) FROM ({batch})) + {PARENT_WINDOW_NS} "
            "AND NOT e.parent_found AND e.parent_key IS NOT NULL AND e.trace_key = p.trace_key "
            f"AND e.parent_key = p.span_key AND abs(p.start_ns - e.start_ns) <= {PARENT_WINDOW_NS}")


def dups_sql(source: str, stored: str | None) -> str:
    """SELECT: the (trace_id, span_id) of spans in relation `source` delivered more than once: twice within it, or
    already in `stored` (span_places before `source` is added; None when `source` is every span). A copy has its
    original's start, so only the row groups of `source`'s times are read."""
    keyed = f"SELECT trace_id, span_id, {TRACE_KEY} AS trace_key, {SPAN_KEY} AS span_key, start_ns FROM {source}"
    twice = (f"SELECT trace_id, span_id FROM ({keyed}) WHERE trace_key IS NOT NULL AND span_key IS NOT NULL "
             "GROUP BY trace_id, span_id HAVING count(*) > 1")
    if stored is None:
        return twice
    again = (f"SELECT b.trace_id, b.span_id FROM ({keyed}) b JOIN (SELECT trace_key, span_key FROM {stored} "
             f"WHERE start_ns BETWEEN (SELECT min(start_ns) FROM {source}) AND (SELECT max(start_ns) FROM {source})) s "
             "ON s.trace_key = b.trace_key AND s.span_key = b.span_key")
    return f"SELECT DISTINCT trace_id, span_id FROM ({twice} UNION ALL {again})"


# span_dups reads span_places as it stood before the batch; request_entries reads the batch's places as parents.
# The semantic model that reads these runs on DuckDB only, so ClickHouse has none of them.
TABLES = (
    Derived("span_dups", Kind.NEW_KEYS, ("trace_id", "span_id"), lambda source: dups_sql(source, None),
            batch_rows=lambda view: dups_sql(view, "span_places"), reads_before=("span_places",)),
    Derived("span_places", Kind.APPEND, ("trace_key", "span_key", "start_ns", "tier", "site", "service_name"),
            places_sql),
    Derived("request_entries", Kind.APPEND, COLUMNS, lambda source: entries_sql(source, None),
            batch_rows=lambda view: entries_sql(view, "request_entries"), reads=("span_places",),
            revisit=_late_parents),
)
