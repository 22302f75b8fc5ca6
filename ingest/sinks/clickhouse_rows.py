"""Where tierwise's ClickHouse loader writes a batch's rows: each exporter table in the layout it has, and, on a table
that does not deduplicate repeated inserts, a batch written again after a crash only with the rows not there yet.

An insert's deduplication token only works on a table with a deduplication window (or a Replicated one). tierwise
gives its own tables one, and never alters a table the Collector made; on such a table without a window, each batch
first records an intent (`ingest_batch_intents`, schema 0102). A batch found with an intent but no ledger row was cut
short: its rows go through a scratch copy of the table and only those whose full-row hash the table lacks (within
the batch's time range) are inserted. The price: a row identical to one already there is not written again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from store.clickhouse import layouts, otel_layout, schema
from store.clickhouse.client import ClickHouseClient

_WINDOW = re.compile(r"non_replicated_deduplication_window = (\d+)")


@dataclass(frozen=True)
class Target:
    """One exporter table as the loader writes it: its layout, and whether a repeated insert must be checked."""

    layout: layouts.Layout
    guarded: bool  # neither owned by tierwise nor deduplicating: a resumed batch is checked against what is there

    def fit(self, rows: pa.Table) -> pa.Table:
        if self.layout.problem is not None:
            raise ValueError(f"{self.layout.table}: tierwise cannot write this table ({self.layout.problem})")
        return otel_layout.fit(rows, self.layout.table, self.layout.types())


def targets(client: ClickHouseClient) -> dict[str, Target]:
    """Every exporter table of the database as the loader writes it."""
    found = layouts.read(client)
    mine = schema.owned(client)
    rows = client.query_arrow("SELECT name, engine, engine_full FROM system.tables WHERE database = currentDatabase() "
                              "AND name IN {t:Array(String)}", {"t": list(found)}).to_pylist()
    dedups = {str(r["name"]): str(r["engine"]).startswith("Replicated")
              or any(int(w) > 0 for w in _WINDOW.findall(str(r["engine_full"]))) for r in rows}
    return {t: Target(lay, not dedups.get(t, False) and t not in mine) for t, lay in found.items()}


def started_before(client: ClickHouseClient, sha: str, index: int) -> bool:
    """Record that this batch is being written; True when an earlier run had started it already."""
    key = {"h": sha, "i": index}
    seen = client.query_arrow("SELECT count() AS n FROM ingest_batch_intents WHERE content_sha256 = {h:String} "
                              "AND batch_index = {i:Int32}", key).column("n")[0].as_py()
    if not seen:
        client.command("INSERT INTO ingest_batch_intents VALUES ({h:String}, {i:Int32}, now64(6))", key)
    return bool(seen)


def insert_missing(client: ClickHouseClient, table: str, rows: pa.Table) -> None:
    """Insert the rows of `rows` that `table` does not hold yet (compared by a hash of the whole row)."""
    scratch = f"tierwise_resume_{table}"
    at = "Timestamp" if table == "otel_traces" else "TimeUnix"
    client.command(f"DROP TABLE IF EXISTS `{scratch}`")
    client.command(f"CREATE TABLE `{scratch}` ENGINE = Memory AS SELECT * FROM `{table}` WHERE 0")
    try:
        client.insert_arrow(scratch, rows)
        client.command(f"INSERT INTO `{table}` SELECT * FROM `{scratch}` WHERE cityHash64(*) NOT IN ("
                       f"SELECT cityHash64(*) FROM `{table}` WHERE `{at}` >= (SELECT min(`{at}`) FROM `{scratch}`) "
                       f"AND `{at}` <= (SELECT max(`{at}`) FROM `{scratch}`))")
    finally:
        client.command(f"DROP TABLE IF EXISTS `{scratch}`")
