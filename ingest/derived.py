"""Tables derived from spans, kept current inside the transaction that commits each span batch."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest import link_maps, rollup

# A step reads the batch being committed through the registered relation `view` (the rows of the
# batch, with the spans table's columns minus batch_key) and updates its own derived table.
Step = Callable[[duckdb.DuckDBPyConnection, str], None]

STEPS: tuple[Step, ...] = (link_maps.fold, rollup.fold_batch)


def refresh(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Fold one committed span batch into every derived table, in the caller's transaction."""
    for step in STEPS:
        step(con, view)
