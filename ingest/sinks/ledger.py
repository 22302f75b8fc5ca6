"""The DuckDB store's ingest ledger: which batches and files are committed, written in the loader's transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa


@dataclass(frozen=True)
class BatchRow:
    """One committed batch: its file (by content), its place in that file and its row counts."""

    sha: str
    index: int
    key: str
    source: str
    accepted: int
    rejected: int
    skipped: int


@dataclass(frozen=True)
class FileRow:
    """One file's outcome, as `ingest_files` keeps it."""

    sha: str
    source: str
    signals: tuple[str, ...]
    fmt: str
    size_bytes: int
    status: str
    message: str


_UPSERT = (
    "ON CONFLICT (content_sha256) DO UPDATE SET source = excluded.source, signal = excluded.signal, "
    "format = excluded.format, status = excluded.status, message = excluded.message, "
    "rows_accepted = excluded.rows_accepted, rows_rejected = excluded.rows_rejected, "
    "rows_skipped = excluded.rows_skipped, completed_at = excluded.completed_at")


def insert_batches(con: duckdb.DuckDBPyConnection, rows: Sequence[BatchRow]) -> None:
    """Ledger rows for batches committed in the caller's transaction, in one statement however many there are."""
    if not rows:
        return
    table = pa.table({
        "content_sha256": pa.array([r.sha for r in rows], pa.string()),
        "batch_index": pa.array([r.index for r in rows], pa.int32()),
        "batch_key": pa.array([r.key for r in rows], pa.string()),
        "source": pa.array([r.source for r in rows], pa.string()),
        "rows_accepted": pa.array([r.accepted for r in rows], pa.int64()),
        "rows_rejected": pa.array([r.rejected for r in rows], pa.int64()),
        "rows_skipped": pa.array([r.skipped for r in rows], pa.int64()),
    })
    con.register("ledger_batches", table)
    try:
        con.execute("INSERT INTO ingest_batches BY NAME SELECT *, now() AS committed_at FROM ledger_batches")
    finally:
        con.unregister("ledger_batches")


def record_files(con: duckdb.DuckDBPyConnection, files: Sequence[FileRow]) -> None:
    """Each file's outcome, its row counts summed from the batches the ledger holds for it (this transaction's too).

    One statement for all of them: the receiver records a few hundred spooled requests per transaction.
    """
    if not files:
        return
    table = pa.table({
        "content_sha256": pa.array([f.sha for f in files], pa.string()),
        "source": pa.array([f.source for f in files], pa.string()),
        "signal": pa.array([",".join(f.signals) or None for f in files], pa.string()),
        "format": pa.array([f.fmt or None for f in files], pa.string()),
        "size_bytes": pa.array([f.size_bytes for f in files], pa.int64()),
        "status": pa.array([f.status for f in files], pa.string()),
        "message": pa.array([f.message or None for f in files], pa.string()),
    })
    con.register("ledger_files", table)
    try:
        con.execute(
            "INSERT INTO ingest_files BY NAME "
            "SELECT f.*, coalesce(b.acc, 0) AS rows_accepted, coalesce(b.rej, 0) AS rows_rejected, "
            "coalesce(b.skip, 0) AS rows_skipped, now() AS first_seen_at, "
            "CASE WHEN f.status = 'complete' THEN now() END AS completed_at "
            "FROM ledger_files f LEFT JOIN ("
            "  SELECT content_sha256, sum(rows_accepted) AS acc, sum(rows_rejected) AS rej, sum(rows_skipped) AS skip "
            "  FROM ingest_batches WHERE content_sha256 IN (SELECT content_sha256 FROM ledger_files) "
            "  GROUP BY content_sha256) b USING (content_sha256) " + _UPSERT)
    finally:
        con.unregister("ledger_files")


def complete_shas(con: duckdb.DuckDBPyConnection, shas: Sequence[str]) -> set[str]:
    """Which of these contents the ledger already holds as complete."""
    rows = con.execute("SELECT content_sha256 FROM ingest_files WHERE status = 'complete' "
                       "AND list_contains($shas, content_sha256)", {"shas": list(shas)}).fetchall()
    return {str(r[0]) for r in rows}
