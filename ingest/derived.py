"""Tables derived from spans, kept current inside the transaction that commits each span batch."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest import appended, hop_spans, link_maps, request_entries, rollup, trace_index, usage_rollup

# Tables that only grow by the rows of each batch: the per-trace index (0009, 0010) and the call ends (0007).
APPENDED = (*trace_index.TABLES, *hop_spans.TABLES)


def append_batch(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """The step that appends a batch's rows to every APPENDED table."""
    appended.fold(con, view, APPENDED)


def rebuild_appended(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every APPENDED table from all spans."""
    appended.rebuild(con, APPENDED)


# A step reads the batch being committed through the registered relation `view` (the rows of the
# batch, with the spans table's columns minus batch_key) and updates its own derived tables.
Step = Callable[[duckdb.DuckDBPyConnection, str], None]

STEPS: tuple[Step, ...] = (link_maps.fold, rollup.fold_batch, usage_rollup.fold_batch, append_batch,
                           trace_index.fold_dups, request_entries.fold)
# Each table's recomputation from every span, for stores whose spans were written around the loader.
REBUILDS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (link_maps.rebuild, rollup.rebuild,
                                                                     usage_rollup.rebuild, rebuild_appended,
                                                                     trace_index.rebuild_dups, request_entries.rebuild)


# What `tierwise check` compares: each group of derived tables with a recomputation over spans (rows that differ).
CHECKS: tuple[tuple[str, Callable[[duckdb.DuckDBPyConnection], int]], ...] = (
    ("link maps (link_resource_counts, link_site_counts)", link_maps.mismatches),
    ("latency roll-up (latency_rollup)", rollup.mismatches),
    ("usage roll-up (usage_rollup)", usage_rollup.mismatches),
    ("call ends (hop_clients, hop_servers)", hop_spans.mismatches),
    ("trace index (trace_root_keys, trace_part_keys, trace_root_dups, trace_profiles)", trace_index.mismatches),
    ("request entries (request_entries, span_dups)", request_entries.mismatches),
)


def check(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Each group of derived tables and the rows by which it differs from a recomputation (all 0: the store holds)."""
    return [(name, mismatches(con)) for name, mismatches in CHECKS]


def refresh(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Fold one committed span batch into every derived table, in the caller's transaction."""
    for step in STEPS:
        step(con, view)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every derived table from the spans table, each group in its own transaction."""
    for step in REBUILDS:
        step(con)
