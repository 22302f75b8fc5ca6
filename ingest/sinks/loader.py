"""The OTLP file writer: idempotent, batch-transactional loads with a ledger and a quarantine."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from ingest.files import parallel
from ingest.files.sources import Opened, Record, SourceError, iter_records, open_source, raw_position
from ingest.otlp.decode import Decoded, decode_batch
from ingest.otlp.rows import Rejection
from ingest.receiver import spooled
from ingest.remap.batches import place_decoded
from ingest.sinks import ledger
from store import derived
from store.map_rules import Rule
from store.settings import Settings

__all__ = ["BATCH_BYTES", "Decoded", "FileResult", "Progress", "batch_key", "commit_batch", "commit_batches",
           "commit_files", "decode_batch", "group_full", "ingest_file", "Part", "quarantined",
           "sha256_file"]

BATCH_BYTES = 16 * 1024 * 1024
Progress = Callable[[int], None]
MAX_COMMIT_BATCHES = 8  # bounds what one transaction holds in memory when batches carry few rows (rejects, sparse)


@dataclass(frozen=True)
class FileResult:
    """What one ingest did with one file."""

    source: str
    content_sha256: str
    status: str  # complete | partial | unreadable | already-ingested
    fmt: str = ""
    signals: tuple[str, ...] = ()
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    batches_committed: int = 0
    batches_resumed: int = 0
    message: str = ""
    rejections: tuple[Rejection, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("complete", "already-ingested")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _batches(records: Iterator[Record], batch_bytes: int = BATCH_BYTES) -> Iterator[list[Record]]:
    """Group records into batches whose boundaries depend only on the file's content (and batch_bytes).

    When the file turns out truncated, the records read before the damage still form a last batch
    (so they are kept) before the SourceError is raised.
    """
    batch: list[Record] = []
    size = 0
    try:
        for r in records:
            batch.append(r)
            size += len(r.payload)
            if size >= batch_bytes:
                yield batch
                batch, size = [], 0
    except SourceError:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _rejection_table(rejections: tuple[Rejection, ...], sha: str, source: str, batch_index: int) -> pa.Table:
    return pa.table({
        "content_sha256": [sha] * len(rejections), "source": [source] * len(rejections),
        "batch_index": [batch_index] * len(rejections), "record_no": [r.record_no for r in rejections],
        "item": [r.item for r in rejections], "field": [r.field for r in rejections],
        "reason": [r.reason for r in rejections], "excerpt": [r.excerpt or None for r in rejections],
    })


def batch_key(sha: str, batch_index: int) -> str:
    """The key a batch's rows carry in the store: which file (by content) and which batch of it."""
    return f"{sha[:16]}:{batch_index}"


def group_full(pending: Sequence[tuple[int, Decoded]], commit_spans: int) -> bool:
    """Whether the batches waiting for one transaction should commit now."""
    return sum(b.accepted for _, b in pending) >= commit_spans or len(pending) >= MAX_COMMIT_BATCHES


def commit_batch(con: duckdb.DuckDBPyConnection, sha: str, source: str, batch_index: int, batch: Decoded) -> None:
    """Write one decoded batch and its ledger row in a single transaction."""
    commit_batches(con, sha, source, ((batch_index, batch),))


@dataclass(frozen=True)
class Part:
    """One decoded batch with the file (by content) it belongs to and its place in that file."""

    sha: str
    source: str
    index: int
    batch: Decoded


def _keyed_spans(parts: Sequence[Part]) -> list[pa.Table]:
    """Each batch's spans with its batch key, as one table when the batches share a schema (they do, decoded alike)."""
    tables = [p.batch.spans.append_column("batch_key", pa.array([batch_key(p.sha, p.index)] * p.batch.spans.num_rows,
                                                                pa.string()))
              for p in parts if p.batch.spans is not None]
    if len(tables) > 1 and all(t.schema == tables[0].schema for t in tables):
        return [pa.concat_tables(tables)]
    return tables


def _write_parts(con: duckdb.DuckDBPyConnection, parts: Sequence[Part]) -> None:
    """Insert the batches' spans (folding the derived tables once for all of them), points, rejections and ledger rows."""
    for spans in _keyed_spans(parts):
        con.register("span_batch", spans)
        con.execute("INSERT INTO spans BY NAME SELECT * FROM span_batch")
        derived.refresh(con, "span_batch")
        con.unregister("span_batch")
    for p in parts:
        key, batch = batch_key(p.sha, p.index), p.batch
        if batch.points is not None:
            con.register("point_batch", batch.points)
            con.execute("INSERT INTO metric_points BY NAME SELECT *, $k AS batch_key FROM point_batch", {"k": key})
            con.unregister("point_batch")
        if batch.rejections:
            con.register("reject_batch", _rejection_table(batch.rejections, p.sha, p.source, p.index))
            con.execute("INSERT INTO quarantine BY NAME SELECT *, now() AS quarantined_at FROM reject_batch")
            con.unregister("reject_batch")
    ledger.insert_batches(con, [ledger.BatchRow(p.sha, p.index, batch_key(p.sha, p.index), p.source, p.batch.accepted,
                                                sum(r.rows for r in p.batch.rejections), p.batch.skipped)
                                for p in parts])


def commit_batches(con: duckdb.DuckDBPyConnection, sha: str, source: str,
                   items: Sequence[tuple[int, Decoded]]) -> None:
    """Write decoded batches, each with its own ledger row and batch key, in a single transaction.

    A resumed load still skips by batch index; grouping only decides how many batches one transaction holds.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        _write_parts(con, [Part(sha, source, i, b) for i, b in items])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def commit_files(con: duckdb.DuckDBPyConnection, files: Sequence[tuple[Part, int]]) -> None:
    """Write whole one-batch files (the receiver's spooled requests, with their sizes) and their ledger rows at once.

    One transaction and one fold of the derived tables for all of them, so the fold's fixed cost per transaction is
    paid once per group, not once per request. Files already complete in the ledger must be left out by the caller.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        _write_parts(con, [p for p, _ in files])
        ledger.record_files(con, [_file_row(_spooled_result(p), size) for p, size in files])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _spooled_result(p: Part) -> FileResult:
    b = p.batch
    return FileResult(p.source, p.sha, "complete", "spooled", tuple(sorted(b.signals)), b.accepted,
                      sum(r.rows for r in b.rejections), b.skipped, 1, 0, "", b.rejections)


def _file_row(r: FileResult, size: int) -> ledger.FileRow:
    return ledger.FileRow(r.content_sha256, r.source, r.signals, r.fmt, size, r.status, r.message)


class Sink(Protocol):
    """Where ingest_file writes one file's batches and ledger: the DuckDB store, or ClickHouse (ingest.sinks.clickhouse)."""

    def file_status(self, sha: str) -> str | None: ...
    def committed_batches(self, sha: str) -> set[int]: ...
    def commit_batches(self, sha: str, source: str, items: Sequence[tuple[int, Decoded]]) -> None: ...
    def record_file(self, result: FileResult, size: int) -> None: ...


@dataclass(frozen=True)
class DuckDBSink:
    """The DuckDB store as a Sink: each batch with its ledger row in one transaction."""

    con: duckdb.DuckDBPyConnection

    def file_status(self, sha: str) -> str | None:
        row = self.con.execute("SELECT status FROM ingest_files WHERE content_sha256 = $h", {"h": sha}).fetchone()
        return str(row[0]) if row else None

    def committed_batches(self, sha: str) -> set[int]:
        return {int(i) for (i,) in self.con.execute(
            "SELECT batch_index FROM ingest_batches WHERE content_sha256 = $h", {"h": sha}).fetchall()}

    def commit_batches(self, sha: str, source: str, items: Sequence[tuple[int, Decoded]]) -> None:
        commit_batches(self.con, sha, source, items)

    def record_file(self, result: FileResult, size: int) -> None:
        ledger.record_files(self.con, [_file_row(result, size)])


def decode_placed(records: list[Record], fmt: str, settings: Settings, signal: str | None = None) -> Decoded:
    """decode_batch, then the settings' [[map]] rules over the batch (in the decoding worker)."""
    return place_decoded(decode_batch(records, fmt, settings, signal), settings.map_rules)


def ingest_file(con: duckdb.DuckDBPyConnection | Sink, path: Path, settings: Settings, signal: str | None = None,
                progress: Progress | None = None, workers: int | None = None) -> FileResult:
    """Load one OTLP file into a store (a DuckDB connection or any Sink); a rerun resumes after the last committed batch.

    Batches are decoded by `workers` processes (default: one per core, see ingest.files.parallel) and
    committed here in file order, each atomically with its ledger row as far as the sink allows.
    """
    sink = DuckDBSink(con) if isinstance(con, duckdb.DuckDBPyConnection) else con
    source = str(path)
    if path.suffix == spooled.SUFFIX:
        return _ingest_spooled(sink, path, settings.map_rules)
    sha = sha256_file(path)
    size = path.stat().st_size
    if sink.file_status(sha) == "complete":
        return FileResult(source, sha, "already-ingested", message="same content was ingested before")
    done = sink.committed_batches(sha)
    try:
        opened: Opened = open_source(path)
    except (SourceError, OSError) as e:
        res = FileResult(source, sha, "unreadable", message=str(e))
        sink.record_file(res, size)
        return res
    signals: set[str] = set()
    rejections: list[Rejection] = []
    committed = resumed = accepted = skipped = 0
    status, message = "complete", ""
    pending: list[tuple[int, Decoded]] = []

    def flush() -> None:
        nonlocal committed
        if pending:
            sink.commit_batches(sha, source, pending)
            committed += len(pending)
            pending.clear()

    try:
        decode = functools.partial(decode_placed, fmt=opened.fmt, settings=settings, signal=signal)
        for index, batch in parallel.decoded(_batches(iter_records(opened), settings.batch_bytes), decode, done, workers):
            if progress:
                progress(raw_position(opened))
            if batch is None:
                resumed += 1
                continue
            pending.append((index, batch))
            if group_full(pending, settings.commit_spans):
                flush()
            signals |= batch.signals
            rejections.extend(batch.rejections)
            accepted += batch.accepted
            skipped += batch.skipped
        flush()
    except SourceError as e:
        flush()  # the batches read before the damage are kept
        nothing_read = e.record_no == 0 and not committed and not done
        status, message = ("unreadable" if nothing_read else "partial"), str(e)
    finally:
        opened.close()
    if not signals and not done and status == "complete":
        status = "unreadable"
        message = rejections[0].reason if rejections else "no OTLP records found"
    res = FileResult(source, sha, status, opened.fmt, tuple(sorted(signals)), accepted,
                     sum(r.rows for r in rejections), skipped, committed, resumed, message, tuple(rejections))
    sink.record_file(res, size)
    return res


def _ingest_spooled(sink: Sink, path: Path, rules: Sequence[Rule]) -> FileResult:
    """A receiver spool file named directly (recovery by hand: `tierwise ingest <db>.spool`)."""
    size = path.stat().st_size
    try:
        held = spooled.from_ipc(path.read_bytes())
    except (spooled.SpooledError, OSError) as e:
        res = FileResult(str(path), sha256_file(path), "unreadable", "spooled", message=str(e))
        sink.record_file(res, size)
        return res
    if sink.file_status(held.sha256) == "complete":
        return FileResult(str(path), held.sha256, "already-ingested", message="same request was ingested before")
    part = Part(held.sha256, str(path), 0, place_decoded(held.decoded, rules))
    if 0 not in sink.committed_batches(held.sha256):
        sink.commit_batches(part.sha, part.source, [(0, part.batch)])
    res = _spooled_result(part)
    sink.record_file(res, size)
    return res


def quarantined(con: duckdb.DuckDBPyConnection, limit: int = 100) -> list[dict[str, Any]]:
    """What ingest set aside, newest first: at most `limit` files that failed as a whole (status partial or unreadable,
    with the reason and the rows kept; telemetry and bills alike, until a later run completes the same content), then
    at most `limit` quarantined items with their file, record and reason. File rows have a `status`, items None."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    files = con.sql(
        "SELECT source, NULL::BIGINT AS record_no, NULL::VARCHAR AS item, NULL::VARCHAR AS field, "
        "coalesce(message, status) AS reason, NULL::VARCHAR AS excerpt, first_seen_at AS quarantined_at, status, "
        "rows_accepted FROM ingest_files WHERE status <> 'complete' "
        "ORDER BY first_seen_at DESC, source LIMIT $n", params={"n": limit})
    items = con.sql(
        "SELECT source, record_no, item, field, reason, excerpt, quarantined_at, NULL::VARCHAR AS status, "
        "NULL::BIGINT AS rows_accepted FROM quarantine "
        "ORDER BY quarantined_at DESC, source, record_no LIMIT $n", params={"n": limit})
    rows: list[dict[str, Any]] = files.pl().to_dicts() + items.pl().to_dicts()
    return rows
