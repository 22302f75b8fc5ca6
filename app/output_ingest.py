"""Terminal output of the commands that bring data in: ingest progress and summaries, quarantine, the demo run.

Kept apart from app/output.py so that the reading commands start without the loaders' imports."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

import store
from app.output import print_metric, print_summary
from ingest.files import route
from ingest.files.sources import expand_paths
from ingest.sinks import loader
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as metrics
from sample_data.generate import ensure_estate
from store.settings import Settings, load_settings


def run_ingest(paths: list[Path], settings: Settings, signal: str | None, progress: bool) -> list[loader.FileResult]:
    """Ingest every file below `paths` with a byte-progress bar per file."""
    con = store.open_writer(settings.db_path, settings.writer_memory)
    results = []
    try:
        for f in expand_paths(paths):
            with tqdm(total=f.stat().st_size, unit="B", unit_scale=True, desc=f.name, leave=False,
                      disable=not progress) as bar:
                def tick(pos: int, bar: Any = bar) -> None:
                    bar.update(pos - bar.n)
                results.append(route.ingest_any(con, f, settings, signal, tick))
    finally:
        con.close()
    return results


def print_ingest(results: Sequence[loader.FileResult]) -> None:
    """One line per file, the first rejections with file, record and field, and the totals."""
    for r in results:
        detail = f" ({r.message})" if r.message else ""
        click.echo(f"{r.status:>16}  {r.source}: {r.accepted} accepted, {r.rejected} rejected, "
                   f"{r.skipped} skipped{detail}")
        for q in r.rejections[:5]:
            click.echo(f"{'':>18}{rejection_line(r.source, q.record_no, q.item, q.field, q.reason)}", err=True)
        if len(r.rejections) > 5:
            click.echo(f"{'':>18}… {len(r.rejections) - 5} more (see `tierwise quarantine`)", err=True)
    acc = sum(f.accepted for f in results)
    rej = sum(f.rejected for f in results)
    skip = sum(f.skipped for f in results)
    bad = sum(not f.ok for f in results)
    click.echo(f"total: {len(results)} files, {acc} accepted, {rej} rejected, {skip} skipped"
               + (f", {bad} files could not be read completely" if bad else ""))


def rejection_line(source: str, record_no: int, item: str | None, field: str, reason: str) -> str:
    """`file:record: item field: reason`, the form editors and grep understand."""
    return f"{source}:{record_no}: {item or 'record'} {field}: {reason}"


def file_failure_line(source: str, status: str, rows_kept: int | None, reason: str) -> str:
    """`file: status file, N rows kept: reason` for a file that failed as a whole (partial or unreadable)."""
    return f"{source}: {status} file, {rows_kept or 0} rows kept: {reason.removeprefix(f'{source}: ')}"


def _one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces as single spaces (a reason from DuckDB can span lines)."""
    return " ".join(text.split())


def print_quarantine(rows: list[dict[str, Any]]) -> None:
    """One line per file that failed as a whole, then one per quarantined item, never truncated, newest first;
    "nothing quarantined" only when there is neither."""
    if not rows:
        click.echo("nothing quarantined")
        return
    for r in rows:
        reason = _one_line(str(r["reason"]))
        if r.get("status"):
            click.echo(file_failure_line(r["source"], r["status"], r.get("rows_accepted"), reason))
        else:
            click.echo(rejection_line(r["source"], r["record_no"], r["item"], r["field"], reason))


def run_demo(workdir: Path, spans: int = 1_000_000, days: int = 30) -> None:
    """Generate the demo estate under `workdir` (reused when present), ingest it and print latency and cost by tier."""
    settings = load_settings(db=workdir / "tierwise.duckdb")
    t = time.perf_counter()
    click.echo(f"tierwise demo: estate {workdir / 'estate'}, store {settings.db_path}")
    reused, made = ensure_estate(workdir / "estate", spans, days, workers=min(2, os.cpu_count() or 1))
    click.echo("reusing the generated estate" if reused or made is None else
               f"generated {made.spans:,} spans in {made.traces:,} traces in {time.perf_counter() - t:.0f} s")
    results = run_ingest([workdir / "estate"], settings, None, progress=True)
    fresh = [r for r in results if r.status != "already-ingested"]
    if fresh:
        print_ingest(fresh)
    else:
        click.echo(f"already ingested: {len(results)} files")
    engine = DuckDBEngine.open(settings.db_path)
    try:
        print_summary(engine)
        if engine.first_row("SELECT count(*) FROM information_schema.tables WHERE table_name = 'costs'") == (1,):
            click.echo("Effective cost by tier (linked by tag, resource or site; per billing currency):")
            print_metric(metrics.run(engine, metrics.Request(("effective_cost",), ("tier",))), ("tier",))
    finally:
        engine.close()
    click.echo(f"demo ready in {time.perf_counter() - t:.1f} s")
