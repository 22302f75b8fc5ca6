"""Terminal rendering for the CLI: progress bars, ingest summaries and tables."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import polars as pl
from tqdm import tqdm

from app.table_text import render_table
from ingest import loader, route, store
from ingest.settings import Settings, load_settings
from ingest.sources import expand_paths
from queries.engine import DuckDBEngine, Engine, open_engine
from queries.loader import fetch
from queries.semantic import metric as metrics
from queries.semantic import present
from sample_data.generate import ensure_estate


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


SUMMARY = ("requests", "errors", "error_rate_pct", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


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


def print_quarantine(rows: list[dict[str, Any]]) -> None:
    """One line per quarantined item, never truncated, newest first."""
    if not rows:
        click.echo("nothing quarantined")
        return
    for r in rows:
        click.echo(rejection_line(r["source"], r["record_no"], r["item"], r["field"], r["reason"]))


def print_frame(df: pl.DataFrame, labels: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> None:
    """A table fitted to the terminal (app/table_text.py): long cells are cut with "…", never wrapped. `labels` renames
    headers; `units` formats columns as queries.units does (money in the frame's `currency`); the other columns keep
    two decimals, except fractions (`*_rate`, `*_share`), which keep four so that an error rate of 0.3 % does not
    read as 0.00."""
    click.echo(render_table(df, shutil.get_terminal_size((160, 24)).columns, labels, units))


def print_summary(source: Path | Engine) -> None:
    """Requests, errors and latency by tier through the semantic model (what the Overview page shows), from the store
    at a path or an open DuckDB engine; ClickHouse still answers with the registered latency_by_tier query. Closes
    what it opened or was given."""
    engine = open_engine("duckdb", source) if isinstance(source, Path) else source
    try:
        if isinstance(engine, DuckDBEngine):
            click.echo("Requests entering each tier, errors and latency (sampling-adjusted; batch and training left out):")
            print_metric(metrics.run(engine.con, metrics.Request(SUMMARY, ("tier",))), ("tier",))
        else:
            click.echo("Latency and errors by tier (server, consumer and root spans of interactive workloads):")
            print_frame(fetch(engine, "latency_by_tier", start_ns=None, end_ns=None, workload_class="interactive"))
    finally:
        engine.close()


def print_metric(frame: pl.DataFrame, keys: Sequence[str]) -> None:
    """A semantic-model frame as a terminal table: labels for headers, cells by unit, money totals per currency."""
    shown = present.with_totals(frame, keys)
    print_frame(shown, labels=present.labels(shown.columns), units=present.units(shown.columns))


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
    print_summary(settings.db_path)
    con = store.connect(settings.db_path, read_only=True)
    try:
        if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'costs'").fetchall() == [(1,)]:
            click.echo("Effective cost by tier (linked by tag, resource or site; per billing currency):")
            print_metric(metrics.run(con, metrics.Request(("effective_cost",), ("tier",))), ("tier",))
    finally:
        con.close()
    click.echo(f"demo ready in {time.perf_counter() - t:.1f} s")
