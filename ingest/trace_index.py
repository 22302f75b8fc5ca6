"""The per-trace index (0009: trace_profiles; 0010: trace_root_keys, trace_part_keys, the roots and per-batch parts of
each trace keyed by numbers; 0012: the traces with several root rows), folded in with each committed span batch. 0006's
trace_roots and trace_parts, the same rows keyed by text, were read by no query and are dropped by 0015."""

from __future__ import annotations

import duckdb

from ingest import appended
from ingest.appended import Appended
from ingest.contract import TIERS

# A tier's bit in trace_part_keys.tier_bits: the contract's tiers in order, then one bit for any other tier.
TIER_BITS = {tier: 1 << i for i, tier in enumerate(TIERS)}
OTHER_TIER_BIT = 1 << len(TIERS)
TIER_BIT_SQL = ("CASE tier " + " ".join(f"WHEN '{t}' THEN {b}" for t, b in TIER_BITS.items())
                + f" ELSE {OTHER_TIER_BIT} END")


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


def fold_dups(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """List the batch's traces that now hold several root rows, in the caller's transaction, after the batch's
    trace_root_keys rows were appended (one scan of trace_root_keys' keys per commit)."""
    keys = f"SELECT {', '.join(TRACE_KEYS)} FROM {view} WHERE parent_span_id IS NULL AND trace_id IS NOT NULL"
    where = (f"WHERE trace_key IN (SELECT trace_key FROM ({keys}) WHERE trace_key IS NOT NULL) "
             f"OR odd_id IN (SELECT odd_id FROM ({keys}) WHERE odd_id IS NOT NULL)")
    con.execute(f"INSERT INTO trace_root_dups ({DUPS_SQL.format(where=where)} "
                "EXCEPT SELECT trace_key, odd_id FROM trace_root_dups)")


def rebuild_dups(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute trace_root_dups from trace_root_keys (after those were rebuilt)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM trace_root_dups")
        con.execute(f"INSERT INTO trace_root_dups {DUPS_SQL.format(where='')}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


TABLES = (Appended("trace_profiles", profiles_sql), Appended("trace_root_keys", root_keys_sql),
          Appended("trace_part_keys", part_keys_sql))


def profile_values_sql(source: str) -> str:
    """SELECT: each trace's values over all its rows of `source` (trace_profiles rows), one row per (trace, attribute,
    value), and one (trace, NULL, NULL) row so that a trace without values is compared too."""
    schema = "{" + ", ".join(f'"{k}": ["VARCHAR"]' for k in PROFILE_KEYS) + "}"
    pairs = ", ".join(f"('{k}', d.{k})" for k in PROFILE_KEYS)
    return (f"SELECT * FROM (SELECT trace_id, a.attribute, unnest(a.vals) AS value "
            f"FROM (SELECT trace_id, json_transform(profile, '{schema}') AS d FROM {source}), "
            f"LATERAL (VALUES {pairs}) AS a(attribute, vals) "
            f"UNION SELECT trace_id, NULL, NULL FROM {source})")


def mismatches(con: duckdb.DuckDBPyConnection) -> int:
    """Rows by which the index differs from a fresh recomputation over spans (0 when the index is exact): a trace's
    parts and profiles are compared added up, as the queries read them."""
    profile_roots = "SELECT trace_id, workload, start_ns, duration_ns FROM {} WHERE start_ns IS NOT NULL"
    fresh = f"({profiles_sql('spans')})"
    keys = "SELECT * FROM trace_root_keys"
    merged_keys = ("SELECT trace_key, odd_id, sum(spans)::BIGINT AS spans, bit_or(tier_bits) AS tier_bits FROM {} "
                   "GROUP BY trace_key, odd_id")
    return (appended.differing_rows(con, merged_keys.format("trace_part_keys"),
                                    merged_keys.format(f"({part_keys_sql('spans')})"))
            + appended.differing_rows(con, keys, root_keys_sql("spans"))
            + appended.differing_rows(con, "SELECT * FROM trace_root_dups", DUPS_SQL.format(where=""))
            + appended.differing_rows(con, profile_roots.format("trace_profiles"), profile_roots.format(fresh))
            + appended.differing_rows(con, profile_values_sql("trace_profiles"), profile_values_sql(fresh)))
