"""A billing file's charges as one fingerprint: a file holding exactly the charges of one ingested before adds nothing.

The same bill saved again (other line endings, quoting or compression) or downloaded again has other bytes, so its
content hash is new, but its charges are not. A charge is its ledger row without the columns that say where it was
read from or that are derived from the others at ingest; a file's fingerprint adds up a hash of each (identical rows
count as often as they occur) and of each rejected row's field and excerpt, so it does not depend on row order.
It is compared among files of the same format and kind (CSV with or without gzip, Parquet, JSON lines, YAML): the
same charges exported once as CSV and once as Parquet are two exports, and so are files that share only some charges.
"""

from __future__ import annotations

import duckdb

from ingest.billing import ledger
from ingest.billing.source import ident

NOT_IDENTITY = frozenset({"x_SourceFile", "x_SourceFormat", "x_SourceRow", "batch_key", "x_Workload", "x_Tier",
                          "x_TransferDirection"})
TABLE = "billing_charge_sets"  # migration 0014


def fingerprint(con: duckdb.DuckDBPyConnection, key: str, rejects: str) -> tuple[str, int]:
    """(Σ of the charge hashes as text, rows) of batch `key`'s ledger rows and the rejects in table `rejects`."""
    columns = [str(r[0]) for r in con.execute("DESCRIBE costs").fetchall() if str(r[0]) not in NOT_IDENTITY]
    charge = "struct_pack(" + ", ".join(f"{ident(c)} := c.{ident(c)}" for c in columns) + ")"
    got = con.execute(
        f"SELECT coalesce(sum(h), 0)::VARCHAR, count(*) FROM (SELECT hash({charge})::HUGEINT AS h FROM costs c "
        f"WHERE c.batch_key = $k UNION ALL SELECT hash(__reject, __excerpt)::HUGEINT FROM {rejects})",
        {"k": key}).fetchall()
    return str(got[0][0]), int(got[0][1])


def kind(container: str) -> str:
    """The kind of file a fingerprint is compared within: compression does not make another kind."""
    return container.removesuffix(".gz")


def same_charges(con: duckdb.DuckDBPyConnection, sha: str, fmt: str, container: str, fp: tuple[str, int]) -> str | None:
    """Record the file's fingerprint; the source of a completely ingested file with the same one, if any."""
    con.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES ($sha, $fmt, $kind, $charges, $rows)",
                {"sha": sha, "fmt": fmt, "kind": kind(container), "charges": fp[0], "rows": fp[1]})
    if not fp[1]:
        return None
    got = con.execute(
        f"SELECT f.source FROM {TABLE} s JOIN ingest_files f USING (content_sha256) WHERE s.content_sha256 <> $sha "
        "AND s.source_format = $fmt AND s.container = $kind AND s.charges = $charges AND s.rows = $rows "
        "AND f.status = 'complete' ORDER BY f.first_seen_at LIMIT 1",
        {"sha": sha, "fmt": fmt, "kind": kind(container), "charges": fp[0], "rows": fp[1]}).fetchall()
    return str(got[0][0]) if got else None


def remove(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Delete the ledger rows of batch `key` (a repeat); inside the caller's transaction."""
    con.execute(f"DELETE FROM {ledger.WIDE} WHERE batch_key = $k", {"k": key})
    files = f"SELECT {ledger.FILE_KEY} FROM {ledger.FILES} WHERE batch_key = $k"
    con.execute(f"DELETE FROM {ledger.NARROW} WHERE {ledger.FILE_KEY} IN ({files})", {"k": key})
    con.execute(f"DELETE FROM {ledger.FILES} WHERE batch_key = $k", {"k": key})
