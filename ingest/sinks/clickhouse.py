"""`tierwise ingest --engine clickhouse`: OTLP files into the exporter's otel_* tables, bills into `costs`, with a ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import pyarrow as pa

import store
from ingest.billing.detect import detect
from ingest.billing.load import ingest_billing
from ingest.files.sources import expand_paths
from ingest.otlp.rows import Rejection
from ingest.sinks import loader
from ingest.sinks.clickhouse_rows import Target, insert_missing, started_before, targets
from ingest.sinks.loader import Decoded, FileResult, Progress
from store.clickhouse import backfill, otel_layout, schema
from store.clickhouse.client import ClickHouseClient
from store.settings import Settings

UTC = dt.UTC
BILLING_TABLES = ("costs", "billing_source_totals")


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


def batch_token(sha: str, index: int) -> str:
    """The insert_deduplication_token of every insert of one batch: the same on each rerun of the same content."""
    return f"tierwise-{sha}-{index}"


def _record_file(client: ClickHouseClient, r: FileResult, size: int, signal: str | None = None) -> None:
    """The file's ledger row; counts are summed from its committed batches, as on DuckDB."""
    totals = client.query_arrow(
        "SELECT sum(rows_accepted) AS a, sum(rows_rejected) AS r, sum(rows_skipped) AS s "
        "FROM ingest_batches FINAL WHERE content_sha256 = {h:String}", {"h": r.content_sha256}).to_pylist()[0]
    now = _now()
    client.insert_arrow("ingest_files", pa.table({
        "content_sha256": [r.content_sha256], "source": [r.source],
        "signal": pa.array([signal or ",".join(r.signals) or None], pa.string()),
        "format": pa.array([r.fmt or None], pa.string()), "size_bytes": pa.array([size], pa.int64()),
        "status": [r.status], "message": pa.array([r.message or None], pa.string()),
        "rows_accepted": pa.array([int(totals["a"] or 0)], pa.int64()),
        "rows_rejected": pa.array([int(totals["r"] or 0)], pa.int64()),
        "rows_skipped": pa.array([int(totals["s"] or 0)], pa.int64()),
        "first_seen_at": pa.array([now], pa.timestamp("us", "UTC")),
        "completed_at": pa.array([now if r.status == "complete" else None], pa.timestamp("us", "UTC")),
    }))


def _record_batch(client: ClickHouseClient, sha: str, source: str, index: int, accepted: int, rejected: int,
                  skipped: int) -> None:
    client.insert_arrow("ingest_batches", pa.table({
        "content_sha256": [sha], "batch_index": pa.array([index], pa.int32()), "batch_key": [loader.batch_key(sha, index)],
        "source": [source], "rows_accepted": pa.array([accepted], pa.int64()),
        "rows_rejected": pa.array([rejected], pa.int64()), "rows_skipped": pa.array([skipped], pa.int64()),
        "committed_at": pa.array([_now()], pa.timestamp("us", "UTC"))}))


def _quarantine(client: ClickHouseClient, rejections: Sequence[Rejection], sha: str, source: str, index: int) -> None:
    n = len(rejections)
    if n:
        client.insert_arrow("quarantine", dedup_token=batch_token(sha, index), data=pa.table({
            "content_sha256": [sha] * n, "source": [source] * n, "batch_index": pa.array([index] * n, pa.int32()),
            "record_no": pa.array([r.record_no for r in rejections], pa.int64()),
            "item": pa.array([r.item for r in rejections], pa.string()), "field": [r.field for r in rejections],
            "reason": [r.reason for r in rejections],
            "excerpt": pa.array([r.excerpt or None for r in rejections], pa.string()),
            "quarantined_at": pa.array([_now()] * n, pa.timestamp("us", "UTC"))}))


def commit_batch(client: ClickHouseClient, sha: str, source: str, index: int, batch: Decoded,
                 tables: Mapping[str, Target] | None = None) -> None:
    """Write one decoded batch into the exporter's tables, each in the layout it has (`tables`; read from the
    database when not given), then its quarantine rows, then its ledger row.

    ClickHouse has no multi-table transaction, so every insert of the batch carries the batch's deduplication
    token: after a crash before the ledger row, the rerun repeats the same inserts and a table with a deduplication
    window (tierwise's own, schema 0102) drops them as duplicates; only the ledger row is new. On an exporter table
    the Collector made without one, the rerun inserts only the rows not there yet (clickhouse_rows.py). See
    docs/scale-out.md.
    """
    token = batch_token(sha, index)
    found = tables if tables is not None else targets(client)
    rows = []
    if batch.spans is not None:
        rows.append(("otel_traces", otel_layout.spans_to_otel(batch.spans)))
    if batch.points is not None:
        rows += list(otel_layout.points_to_otel(batch.points).items())
    resumed = any(found[t].guarded for t, _ in rows) and started_before(client, sha, index)
    for table, data in rows:
        fitted = found[table].fit(data)
        if resumed and found[table].guarded:
            insert_missing(client, table, fitted)
        else:
            client.insert_arrow(table, fitted, token)
    _quarantine(client, batch.rejections, sha, source, index)
    _record_batch(client, sha, source, index, batch.accepted, sum(r.rows for r in batch.rejections), batch.skipped)


@dataclass(frozen=True)
class ClickHouseSink:
    """ClickHouse as the loader's Sink: the same file loop, ledger and resume rules as the DuckDB store."""

    client: ClickHouseClient

    @cached_property
    def tables(self) -> dict[str, Target]:
        """The exporter tables as this sink writes them, read once."""
        return targets(self.client)

    def file_status(self, sha: str) -> str | None:
        rows = self.client.query_arrow("SELECT status FROM ingest_files FINAL WHERE content_sha256 = {h:String}",
                                       {"h": sha}).to_pylist()
        return str(rows[0]["status"]) if rows else None

    def committed_batches(self, sha: str) -> set[int]:
        rows = self.client.query_arrow(
            "SELECT DISTINCT batch_index FROM ingest_batches WHERE content_sha256 = {h:String}", {"h": sha}).to_pylist()
        return {int(r["batch_index"]) for r in rows}

    def commit_batches(self, sha: str, source: str, items: Sequence[tuple[int, Decoded]]) -> None:
        for index, batch in items:  # each batch is its own set of deduplicated inserts: no transaction to share
            commit_batch(self.client, sha, source, index, batch, self.tables)

    def record_file(self, result: FileResult, size: int) -> None:
        _record_file(self.client, result, size)


def ingest_otlp(client: ClickHouseClient, path: Path, settings: Settings, signal: str | None = None,
                progress: Progress | None = None, workers: int | None = None) -> FileResult:
    """Load one OTLP file through the DuckDB path's loop (decoders, batches, ledger rules); a rerun resumes."""
    return loader.ingest_file(ClickHouseSink(client), path, settings, signal, progress, workers)


def ingest_bills(client: ClickHouseClient, path: Path, settings: Settings) -> FileResult:
    """Load one billing file: the DuckDB billing mapping runs in a scratch in-memory store, its rows go to ClickHouse.

    Detection, FOCUS mapping, reject rules, messages and source totals are therefore exactly the DuckDB path's.
    """
    det = detect(path)
    if det is None:
        raise ValueError(f"{path} is not a billing file tierwise recognises")
    sha, size = loader.sha256_file(path), path.stat().st_size
    if ClickHouseSink(client).file_status(sha) == "complete":
        fmt = f"{det.fmt}-{det.version}" if det.version else det.fmt
        return FileResult(str(path), sha, "already-ingested", fmt, ("costs",),
                          message="same content was ingested before")
    scratch = duckdb.connect()
    try:
        store.migrate(scratch)
        res = ingest_billing(scratch, path, settings, det)
        if res.status == "complete":
            token = batch_token(sha, 0)  # as commit_batch: a rerun after a crash before the ledger row adds nothing
            for table in BILLING_TABLES:
                client.insert_arrow(table, _arrow(scratch, table), token)
            q = _arrow(scratch, "quarantine")
            client.insert_arrow("quarantine", q.drop_columns(["quarantined_at"]).append_column(
                "quarantined_at", pa.array([_now()] * q.num_rows, pa.timestamp("us", "UTC"))), token)
            _record_batch(client, sha, str(path), 0, res.accepted, res.rejected, 0)
    finally:
        scratch.close()
    _record_file(client, res, size, "costs")
    return res


def _arrow(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """A scratch table as Arrow with JSON columns as plain text (ClickHouse stores JSON text in String)."""
    t: pa.Table = con.sql(f"SELECT * FROM {table}").to_arrow_table()
    return t.cast(pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type)
                             or (f.type != pa.string() and "json" in str(f.type).lower()) else f for f in t.schema]))


def ingest_any(client: ClickHouseClient, path: Path, settings: Settings, signal: str | None = None,
               progress: Progress | None = None) -> FileResult:
    """Ingest `path` as billing (recognised by its header) or as OTLP telemetry, as ingest.files.route does for DuckDB."""
    if signal is None and detect(path) is not None:
        res = ingest_bills(client, path, settings)
        if progress:
            progress(path.stat().st_size)
        return res
    return ingest_otlp(client, path, settings, signal, progress)


@dataclass(frozen=True)
class MigrateResult:
    """`tierwise migrate --engine clickhouse`: where (never with a password), the schema step, and the roll-up
    backfill it ran (None when it ran none)."""

    target: str
    schema: schema.SchemaReport
    backfill: backfill.BackfillReport | None


def _prepare(client: ClickHouseClient, settings: Settings, fill: bool,
             progress: Callable[[backfill.DayDone], None] | None = None) -> MigrateResult:
    """Apply pending schema files, put the tier rules of `settings` in place, then (with `fill`, or when this step
    created the roll-up) backfill the roll-ups' days not done yet; the rules come first, as the roll-up uses them."""
    report = schema.apply(client)
    schema.write_rules(client, settings.tier_rules)
    fill = fill or report.applied_version(schema.ROLLUP_VERSION)
    filled = backfill.backfill(client, progress=progress) if fill and not report.files_failed else None
    return MigrateResult(client.target.describe(), report, filled)


def open_store(url: str, settings: Settings) -> ClickHouseClient:
    """A client with the schema applied and the tier rules of `settings` in place: every CH writer goes through here."""
    client = ClickHouseClient(url)
    try:
        failed = _prepare(client, settings, fill=False).schema.files_failed
        if failed:  # the tables a load writes may be missing; `tierwise migrate` says why
            raise schema.SchemaError(f"ClickHouse schema files not applied: {', '.join(failed)}: run "
                                     "`tierwise migrate --engine clickhouse` for ClickHouse's message")
    except BaseException:
        client.close()
        raise
    return client


def migrate(url: str, settings: Settings, progress: Callable[[backfill.DayDone], None] | None = None) -> MigrateResult:
    """`tierwise migrate --engine clickhouse`: the schema step and the backfill of every roll-up day not done yet
    (resumable: a rerun continues where an interrupted one stopped)."""
    with ClickHouseClient(url) as client:
        return _prepare(client, settings, fill=True, progress=progress)


def check(url: str, repair: bool = False) -> list[backfill.RollupCheck]:
    """`tierwise check --engine clickhouse`: each roll-up table against its source; `repair` first backfills every
    day again."""
    with ClickHouseClient(url) as client:
        if repair:
            backfill.backfill(client, redo=True)
        return backfill.check(client)


def ingest_paths(url: str, paths: Sequence[Path], settings: Settings, signal: str | None = None) -> list[FileResult]:
    """Ingest every file below `paths` (files or folders, as `tierwise ingest` takes them) into ClickHouse at `url`."""
    client = open_store(url, settings)
    try:
        return [ingest_any(client, f, settings, signal) for f in expand_paths(list(paths))]
    finally:
        client.close()
