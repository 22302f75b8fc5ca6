"""`tierwise map apply`: placement derived again over everything stored, in one transaction, derived tables rebuilt."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest.remap.costs import remap_costs
from ingest.remap.stored import remap_points, remap_spans
from store import derived
from store.settings import Settings


@dataclass(frozen=True)
class Applied:
    """Rows whose placement changed, and the derived tables rebuilt because spans did."""

    spans: int
    points: int
    cost_rows: int
    rebuilt: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.spans or self.points or self.cost_rows)


def apply(con: duckdb.DuckDBPyConnection, settings: Settings) -> Applied:
    """Derive tier, site, workload and data class again (built-in rules, then settings' [[map]] and [[cost_map]]).

    All or nothing: one transaction, so an interrupted run leaves the store as it was; a second run changes nothing.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        spans = remap_spans(con, settings)
        points = remap_points(con, settings)
        cost_rows = remap_costs(con, settings.cost_rules)
        rebuilt = tuple(derived.rebuild(con, None, own_transactions=False)) if spans else ()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Applied(spans, points, cost_rows, rebuilt)
