"""The per-trace index of migration 0006 (trace_roots, trace_parts), folded in with each committed span batch."""

from __future__ import annotations

import duckdb

from ingest import appended
from ingest.appended import Appended
from ingest.contract import TIERS

# A tier's bit in trace_parts.tier_bits: the contract's tiers in order, then one bit for any other tier.
TIER_BITS = {tier: 1 << i for i, tier in enumerate(TIERS)}
OTHER_TIER_BIT = 1 << len(TIERS)
TIER_BIT_SQL = ("CASE tier " + " ".join(f"WHEN '{t}' THEN {b}" for t, b in TIER_BITS.items())
                + f" ELSE {OTHER_TIER_BIT} END")
ROOT_COLUMNS = ("trace_id", "span_id", "name", "tier", "site", "workload", "workload_type", "data_class", "start_ns",
                "duration_ns", "status_code")


def roots_sql(source: str) -> str:
    """SELECT: the trace_roots rows of the spans of relation `source`."""
    return (f"SELECT {', '.join(ROOT_COLUMNS)} FROM {source} "
            "WHERE parent_span_id IS NULL AND trace_id IS NOT NULL")


def parts_sql(source: str) -> str:
    """SELECT: one trace_parts row per trace among the spans of relation `source`."""
    return (f"SELECT trace_id, count(*) AS spans, bit_or({TIER_BIT_SQL})::UTINYINT AS tier_bits FROM {source} "
            "WHERE trace_id IS NOT NULL GROUP BY trace_id")


TABLES = (Appended("trace_roots", roots_sql), Appended("trace_parts", parts_sql))


def mismatches(con: duckdb.DuckDBPyConnection) -> int:
    """Traces whose index differs from a fresh recomputation over spans (0 when the index is exact)."""
    merged = "SELECT trace_id, sum(spans)::BIGINT AS spans, bit_or(tier_bits) AS tier_bits FROM {} GROUP BY trace_id"
    roots = f"SELECT {', '.join(ROOT_COLUMNS)} FROM trace_roots"
    return (appended.differing_rows(con, merged.format("trace_parts"),
                                    merged.format(f"({parts_sql('spans')})"))
            + appended.differing_rows(con, roots, roots_sql("spans")))
