"""The per-trace index: each trace's roots, parts and profile, and the traces with several roots (0009, 0010, 0012)."""

from __future__ import annotations

from store import tier_sql
from store.derived.model import Derived, Kind

# A span's bit in trace_part_keys.tier_bits, as tier_bit() gives it; spelled out rather than called, so that the fold
# also runs on connections opened without the macros. The same CASE runs on both engines.
TIER_BIT_SQL = tier_sql.case(tier_sql.BITS, tier_sql.OTHER_BIT, "tier")


# trace_root_keys (migration 0010): a lowercase-hex trace id as the number it spells (so it orders as the id), any
# other id kept as text, and md5(trace_id) as a number (so it orders as the digest's hex text).
_HEX_ID = "regexp_full_match(trace_id, '[0-9a-f]{32}')"
TRACE_KEYS = (f"CASE WHEN {_HEX_ID} THEN ('0x' || trace_id)::UHUGEINT END AS trace_key",
              f"CASE WHEN NOT {_HEX_ID} THEN trace_id END AS odd_id")
ROOT_KEYS = (*TRACE_KEYS, "('0x' || md5(trace_id))::UHUGEINT AS sample_key", "workload", "start_ns", "duration_ns",
             "name", "tier", "site", "workload_type", "status_code")


def root_keys_sql(source: str) -> str:
    """SELECT: the trace_root_keys rows of the spans of relation `source` (one per parentless span with a trace id)."""
    return (f"SELECT {', '.join(ROOT_KEYS)} FROM {source} "
            "WHERE parent_span_id IS NULL AND trace_id IS NOT NULL")


def part_keys_sql(source: str) -> str:
    """SELECT: one trace_part_keys row per trace among the spans of relation `source` (its span count and a bit per
    tier), keyed as trace_root_keys; a trace's rows over all committed batches add up to the trace."""
    return (f"SELECT {', '.join(TRACE_KEYS)}, count(*) AS spans, bit_or({TIER_BIT_SQL})::UTINYINT AS tier_bits "
            f"FROM {source} WHERE trace_id IS NOT NULL GROUP BY trace_id")


# The attribute values slow_attribute_counts compares, per span (cache and device model as that query names them).
PROFILE_VALUES = ("site", "tier", "gen_ai_model",
                  "CASE WHEN contains(resource_attributes::VARCHAR, 'device.model.identifier') "
                  "THEN resource_attributes->>'device.model.identifier' END AS device_model",
                  "CASE WHEN cache_hit THEN 'hit' WHEN NOT cache_hit THEN 'miss' END AS cache", "data_class")
PROFILE_KEYS = ("site", "tier", "gen_ai_model", "device_model", "cache", "data_class")


def profiles_sql(source: str) -> str:
    """SELECT: the trace_profiles rows of the spans of relation `source`: per trace, its roots there (or one row
    without a root) with the sorted distinct values of its spans there as one JSON object (migration 0009)."""
    lists = ", ".join(f"'{k}': list_sort(list_distinct(list({k})))" for k in PROFILE_KEYS)
    return (f"WITH vals AS (SELECT DISTINCT trace_id, {', '.join(PROFILE_VALUES)} FROM {source} "
            "WHERE trace_id IS NOT NULL), "
            f"profiles AS (SELECT trace_id, to_json({{{lists}}})::VARCHAR AS profile FROM vals GROUP BY trace_id) "
            "SELECT p.trace_id, r.workload, r.start_ns, r.duration_ns, p.profile FROM profiles p "
            "LEFT JOIN (SELECT trace_id, workload, start_ns, duration_ns FROM "
            f"{source} WHERE parent_span_id IS NULL AND trace_id IS NOT NULL) r ON r.trace_id = p.trace_id")


# trace_root_dups (migration 0012): the traces with more than one trace_root_keys row, so the trace-level queries group
# only them; a batch adds the traces among its roots that now have several rows and were not listed yet.
DUPS_SQL = "SELECT trace_key, odd_id FROM trace_root_keys {where} GROUP BY trace_key, odd_id HAVING count(*) > 1"


def profile_values_sql(source: str) -> str:
    """SELECT: each trace's values over all its rows of `source` (trace_profiles rows), one row per (trace, attribute,
    value), and one (trace, NULL, NULL) row so that a trace without values is compared too."""
    schema = "{" + ", ".join(f'"{k}": ["VARCHAR"]' for k in PROFILE_KEYS) + "}"
    pairs = ", ".join(f"('{k}', d.{k})" for k in PROFILE_KEYS)
    return (f"SELECT * FROM (SELECT trace_id, a.attribute, unnest(a.vals) AS value "
            f"FROM (SELECT trace_id, json_transform(profile, '{schema}') AS d FROM {source}), "
            f"LATERAL (VALUES {pairs}) AS a(attribute, vals) "
            f"UNION SELECT trace_id, NULL, NULL FROM {source})")




def _dups_of_batch(view: str) -> str:
    """SELECT: the traces among the batch's roots that now hold several trace_root_keys rows (the batch's own
    root rows appended first): one scan of trace_root_keys' keys per commit."""
    keys = f"SELECT {', '.join(TRACE_KEYS)} FROM {view} WHERE parent_span_id IS NULL AND trace_id IS NOT NULL"
    return DUPS_SQL.format(where=f"WHERE trace_key IN (SELECT trace_key FROM ({keys}) WHERE trace_key IS NOT NULL) "
                                 f"OR odd_id IN (SELECT odd_id FROM ({keys}) WHERE odd_id IS NOT NULL)")


# A trace's parts over all batches add up to the trace, and its profiles' values merge: `check` compares them so.
_MERGED_PARTS = ("SELECT trace_key, odd_id, sum(spans)::BIGINT AS spans, bit_or(tier_bits) AS tier_bits FROM {} "
                 "GROUP BY trace_key, odd_id")
_PROFILE_ROOTS = "SELECT trace_id, workload, start_ns, duration_ns FROM {} WHERE start_ns IS NOT NULL"

# ClickHouse keys ids by the same numbers (read big-endian, so they order as the hex text) and keeps one part per trace.
_CH_KEYS = """if(match(trace_id, '^[0-9a-f]{32}$'), reinterpretAsUInt128(reverse(unhex(trace_id))), NULL) AS trace_key,
       if(match(trace_id, '^[0-9a-f]{32}$'), NULL, trace_id) AS odd_id"""
CLICKHOUSE_ROOT_KEYS = f"""
SELECT {_CH_KEYS},
       reinterpretAsUInt128(reverse(MD5(trace_id))) AS sample_key, workload, start_ns, duration_ns, name, tier, site,
       workload_type, status_code
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL"""
CLICKHOUSE_PART_KEYS = f"""
SELECT {_CH_KEYS}, toInt64(count()) AS spans, toUInt8(groupBitOr({TIER_BIT_SQL})) AS tier_bits
FROM spans
WHERE trace_id IS NOT NULL
GROUP BY trace_id"""
CLICKHOUSE_ROOT_DUPS = "SELECT trace_key, odd_id FROM trace_root_keys GROUP BY trace_key, odd_id HAVING count() > 1"
# Each trace's values as the same JSON text DuckDB's to_json writes.
CLICKHOUSE_PROFILES = """
WITH profiles AS (
    SELECT trace_id,
           concat('{"site":', toJSONString(arraySort(groupUniqArray(site))),
                  ',"tier":', toJSONString(arraySort(groupUniqArray(tier))),
                  ',"gen_ai_model":', toJSONString(arraySort(groupUniqArray(gen_ai_model))),
                  ',"device_model":', toJSONString(arraySort(groupUniqArray(
                      if(position(resource_attributes, 'device.model.identifier') > 0,
                         multiIf(JSONType(resource_attributes, 'device.model.identifier') = 'String',
                                 JSONExtractString(resource_attributes, 'device.model.identifier'),
                                 JSONType(resource_attributes, 'device.model.identifier')
                                     IN ('Int64', 'UInt64', 'Double', 'Bool'),
                                 JSONExtractRaw(resource_attributes, 'device.model.identifier'), NULL),
                         NULL)))),
                  ',"cache":', toJSONString(arraySort(groupUniqArray(
                      multiIf(cache_hit, 'hit', NOT cache_hit, 'miss', NULL)))),
                  ',"data_class":', toJSONString(arraySort(groupUniqArray(data_class))), '}') AS profile
    FROM spans
    WHERE trace_id IS NOT NULL
    GROUP BY trace_id
)
SELECT p.trace_id AS trace_id, r.workload AS workload, r.start_ns AS start_ns, r.duration_ns AS duration_ns,
       p.profile AS profile
FROM profiles AS p
LEFT JOIN (SELECT trace_id, workload, start_ns, duration_ns FROM spans
           WHERE parent_span_id IS NULL AND trace_id IS NOT NULL) AS r ON r.trace_id = p.trace_id
SETTINGS join_use_nulls = 1, output_format_json_escape_forward_slashes = 0"""

TABLES = (
    Derived("trace_profiles", Kind.APPEND, ("trace_id", "workload", "start_ns", "duration_ns", "profile"),
            profiles_sql, compare=(_PROFILE_ROOTS.format, profile_values_sql), clickhouse=CLICKHOUSE_PROFILES),
    Derived("trace_root_keys", Kind.APPEND, ("trace_key", "odd_id", "sample_key", *ROOT_KEYS[3:]), root_keys_sql,
            clickhouse=CLICKHOUSE_ROOT_KEYS),
    Derived("trace_part_keys", Kind.APPEND, ("trace_key", "odd_id", "spans", "tier_bits"), part_keys_sql,
            compare=(_MERGED_PARTS.format,), clickhouse=CLICKHOUSE_PART_KEYS),
    Derived("trace_root_dups", Kind.NEW_KEYS, ("trace_key", "odd_id"), lambda _: DUPS_SQL.format(where=""),
            batch_rows=_dups_of_batch, reads=("trace_root_keys",), clickhouse=CLICKHOUSE_ROOT_DUPS),
)
