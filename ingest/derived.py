"""Tables derived from spans, kept current inside the transaction that commits each span batch."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest import appended, hop_spans, link_maps, request_entries, rollup, trace_index, usage_rollup

# Tables that only grow by the rows of each batch: the per-trace index (0006, 0009) and the call ends (0007).
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


def refresh(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Fold one committed span batch into every derived table, in the caller's transaction."""
    for step in STEPS:
        step(con, view)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every derived table from the spans table, each group in its own transaction."""
    for step in REBUILDS:
        step(con)
