"""The OTLP file writer: idempotent, batch-transactional loads with a ledger and a quarantine."""

from __future__ import annotations

import functools
import gc
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from ingest import derived, fast_json, fast_proto, otlp_json, otlp_proto, parallel
from ingest.otlp_values import Issue
from ingest.rows import PointColumns, Rejection, SpanColumns
from ingest.settings import Settings
from ingest.sources import Opened, Record, SourceError, iter_records, open_source, raw_position

BATCH_BYTES = 16 * 1024 * 1024
JSON_SIGNALS = {"resourceSpans": "traces", "resourceMetrics": "metrics", "resourceLogs": "logs"}
Progress = Callable[[int], None]


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


@dataclass
class _Batch:
    spans: SpanColumns = field(default_factory=SpanColumns)
    points: PointColumns = field(default_factory=PointColumns)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0
    signals: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Decoded:
    """One decoded batch, ready to commit: Arrow tables (picklable, so a worker process can build it)."""

    spans: pa.Table | None
    points: pa.Table | None
    rejections: tuple[Rejection, ...]
    skipped: int
    signals: frozenset[str]

    @property
    def accepted(self) -> int:
        return (self.spans.num_rows if self.spans is not None else 0) + (
            self.points.num_rows if self.points is not None else 0)


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


def _decode_json(rec: Record, out: _Batch, settings: Settings, hint: str | None) -> None:
    try:
        doc = orjson.loads(rec.payload)
    except orjson.JSONDecodeError as e:
        out.rejections.append(Rejection(rec.record_no, "record", "json", f"invalid JSON: {e}",
                                        excerpt=rec.payload[:200].decode("utf-8", "replace")))
        return
    if not isinstance(doc, dict):
        out.rejections.append(Rejection(rec.record_no, "record", "json", "expected a JSON object"))
        return
    signal = next((s for k, s in JSON_SIGNALS.items() if k in doc), None)
    if signal is None:
        keys = ", ".join(sorted(doc)[:5]) or "none"
        out.rejections.append(Rejection(rec.record_no, "record", "signal",
                                        f"unknown signal: no resourceSpans, resourceMetrics or resourceLogs (keys: {keys})"))
        return
    out.signals.add(signal)
    try:
        if signal == "traces":
            out.rejections.extend(otlp_json.decode_traces(doc, rec.record_no, settings, out.spans))
        elif signal == "metrics":
            out.rejections.extend(otlp_json.decode_metrics(doc, rec.record_no, settings, out.points))
        else:
            out.skipped += otlp_json.count_logs(doc)
    except Issue as e:
        out.rejections.append(Rejection(rec.record_no, "record", e.field, e.reason))


def _decode_proto(rec: Record, out: _Batch, settings: Settings, signal: str) -> None:
    try:
        msg = otlp_proto.parse(signal, rec.payload)
    except Issue as e:
        out.rejections.append(Rejection(rec.record_no, "record", e.field, e.reason))
        return
    out.signals.add(signal)
    if signal == "traces":
        out.rejections.extend(otlp_proto.decode_traces(msg, rec.record_no, settings, out.spans))
    elif signal == "metrics":
        out.rejections.extend(otlp_proto.decode_metrics(msg, rec.record_no, settings, out.points))
    else:
        out.skipped += otlp_proto.count_logs(msg)


def decode_batch(records: list[Record], fmt: str, settings: Settings, signal: str | None = None,
                 fast: bool | None = None) -> Decoded:
    """Decode records into span and point tables plus rejections (pure: no store access).

    Trace batches first try a fast path (ingest.fast_json in DuckDB, ingest.fast_proto columnar), which
    declines any batch it cannot prove it decodes exactly as the Python decoders below do.
    """
    if fmt in ("jsonl", "json") and (fast_json.enabled() if fast is None else fast):
        spans = fast_json.decode_traces(records, settings)
        if spans is not None:
            return Decoded(spans if spans.num_rows else None, None, (), 0, frozenset({"traces"}))
    if fmt == "proto" and signal in (None, "traces") and (fast_json.enabled() if fast is None else fast):
        spans = fast_proto.decode_traces(records, settings)
        if spans is not None:
            return Decoded(spans if spans.num_rows else None, None, (), 0, frozenset({"traces"}))
    out = _Batch()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived dicts make the cyclic collector the main cost
    try:
        for rec in records:
            if fmt == "proto":
                sig = signal or otlp_proto.sniff_signal(rec.payload)
                if sig is None:
                    out.rejections.append(Rejection(rec.record_no, "record", "signal",
                                                    "not an OTLP traces, metrics or logs protobuf message"))
                    continue
                signal = sig
                _decode_proto(rec, out, settings, sig)
            else:
                _decode_json(rec, out, settings, signal)
        return Decoded(out.spans.to_arrow() if len(out.spans) else None,
                       out.points.to_arrow() if len(out.points) else None,
                       tuple(out.rejections), out.skipped, frozenset(out.signals))
    finally:
        if gc_was_enabled:
            gc.enable()


def _rejection_table(rejections: tuple[Rejection, ...], sha: str, source: str, batch_index: int) -> pa.Table:
    return pa.table({
        "content_sha256": [sha] * len(rejections), "source": [source] * len(rejections),
        "batch_index": [batch_index] * len(rejections), "record_no": [r.record_no for r in rejections],
        "item": [r.item for r in rejections], "field": [r.field for r in rejections],
        "reason": [r.reason for r in rejections], "excerpt": [r.excerpt or None for r in rejections],
    })


def commit_batch(con: duckdb.DuckDBPyConnection, sha: str, source: str, batch_index: int, batch: Decoded) -> None:
    """Write one decoded batch and its ledger row in a single transaction."""
    key = f"{sha[:16]}:{batch_index}"
    rejected = sum(r.rows for r in batch.rejections)
    con.execute("BEGIN TRANSACTION")
    try:
        if batch.spans is not None:
            con.register("span_batch", batch.spans)
            con.execute("INSERT INTO spans BY NAME SELECT *, $k AS batch_key FROM span_batch", {"k": key})
            derived.refresh(con, "span_batch")
            con.unregister("span_batch")
        if batch.points is not None:
            con.register("point_batch", batch.points)
            con.execute("INSERT INTO metric_points BY NAME SELECT *, $k AS batch_key FROM point_batch", {"k": key})
            con.unregister("point_batch")
        if batch.rejections:
            con.register("reject_batch", _rejection_table(batch.rejections, sha, source, batch_index))
            con.execute("INSERT INTO quarantine BY NAME SELECT *, now() AS quarantined_at FROM reject_batch")
            con.unregister("reject_batch")
        con.execute(
            "INSERT INTO ingest_batches VALUES ($sha, $i, $k, $src, $acc, $rej, $skip, now())",
            {"sha": sha, "i": batch_index, "k": key, "src": source,
             "acc": batch.accepted, "rej": rejected, "skip": batch.skipped},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _record_file(con: duckdb.DuckDBPyConnection, r: FileResult, size: int) -> None:
    totals = con.execute(
        "SELECT coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0), coalesce(sum(rows_skipped), 0) "
        "FROM ingest_batches WHERE content_sha256 = $h", {"h": r.content_sha256}).fetchone()
    acc, rej, skip = totals if totals else (0, 0, 0)
    con.execute(
        "INSERT INTO ingest_files VALUES ($h, $src, $sig, $fmt, $size, $st, $msg, $acc, $rej, $skip, now(), "
        "CASE WHEN $st = 'complete' THEN now() END) "
        "ON CONFLICT (content_sha256) DO UPDATE SET source = excluded.source, signal = excluded.signal, "
        "format = excluded.format, status = excluded.status, message = excluded.message, "
        "rows_accepted = excluded.rows_accepted, rows_rejected = excluded.rows_rejected, "
        "rows_skipped = excluded.rows_skipped, completed_at = excluded.completed_at",
        {"h": r.content_sha256, "src": r.source, "sig": ",".join(r.signals) or None, "fmt": r.fmt or None,
         "size": size, "st": r.status, "msg": r.message or None, "acc": acc, "rej": rej, "skip": skip},
    )


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, signal: str | None = None,
                progress: Progress | None = None, workers: int | None = None) -> FileResult:
    """Load one OTLP file; committed batches are never written twice, so a rerun resumes.

    Batches are decoded by `workers` processes (default: one per core, see ingest.parallel) and
    committed here in file order, each in its own transaction.
    """
    source = str(path)
    sha = sha256_file(path)
    size = path.stat().st_size
    prior = con.execute("SELECT status FROM ingest_files WHERE content_sha256 = $h", {"h": sha}).fetchone()
    if prior and prior[0] == "complete":
        return FileResult(source, sha, "already-ingested", message="same content was ingested before")
    done = {int(i) for (i,) in con.execute(
        "SELECT batch_index FROM ingest_batches WHERE content_sha256 = $h", {"h": sha}).fetchall()}
    try:
        opened: Opened = open_source(path)
    except (SourceError, OSError) as e:
        res = FileResult(source, sha, "unreadable", message=str(e))
        _record_file(con, res, size)
        return res
    signals: set[str] = set()
    rejections: list[Rejection] = []
    committed = resumed = accepted = skipped = 0
    status, message = "complete", ""
    try:
        decode = functools.partial(decode_batch, fmt=opened.fmt, settings=settings, signal=signal)
        for index, batch in parallel.decoded(_batches(iter_records(opened), settings.batch_bytes), decode, done, workers):
            if progress:
                progress(raw_position(opened))
            if batch is None:
                resumed += 1
                continue
            commit_batch(con, sha, source, index, batch)
            committed += 1
            signals |= batch.signals
            rejections.extend(batch.rejections)
            accepted += batch.accepted
            skipped += batch.skipped
    except SourceError as e:
        nothing_read = e.record_no == 0 and not committed and not done
        status, message = ("unreadable" if nothing_read else "partial"), str(e)
    finally:
        opened.close()
    if not signals and not done and status == "complete":
        status = "unreadable"
        message = rejections[0].reason if rejections else "no OTLP records found"
    res = FileResult(source, sha, status, opened.fmt, tuple(sorted(signals)), accepted,
                     sum(r.rows for r in rejections), skipped, committed, resumed, message, tuple(rejections))
    _record_file(con, res, size)
    return res


def quarantined(con: duckdb.DuckDBPyConnection, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent quarantined items with their file, record and reason."""
    rel = con.sql(
        "SELECT source, record_no, item, field, reason, excerpt, quarantined_at FROM quarantine "
        "ORDER BY quarantined_at DESC, source, record_no LIMIT $n", params={"n": limit})
    rows: list[dict[str, Any]] = rel.pl().to_dicts()
    return rows
