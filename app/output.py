"""Terminal rendering of the reading commands: the query list, tables fitted to the terminal, the per-tier summary,
metric frames."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click
import polars as pl

from app.table_text import render_table
from queries import registry
from queries.holdings import Held, holdings
from queries.semantic import metric as metrics
from queries.semantic import present

if TYPE_CHECKING:
    from queries.engines.engine import Engine

SUMMARY = ("requests", "errors", "error_rate_pct", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")


def query_list() -> list[str]:
    """What `tierwise query --list` prints: each query, its parameters with the values they allow and their defaults,
    its units."""
    lines = []
    for q in registry.queries():
        kind = f"sql: queries/{q.sql}.sql" if q.sql else f"polars over {q.source}"
        lines.append(f"{q.name}  ({kind})\n    {q.description}")
        for p in q.params:
            value = p.resolved_default()
            default = "NULL (no filter)" if value is None else repr(value)
            lines.append(f"    --param {p.name}=<{p.type.__name__}>: {p.allowed()}; default {default}: {p.help}")
        if q.units:
            lines.append("    units: " + ", ".join(f"{c} = {u}" for c, u in q.units))
    return lines


def print_frame(df: pl.DataFrame, labels: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> None:
    """A table fitted to the terminal (app/table_text.py): long cells are cut with "…", never wrapped. `labels` renames
    headers; `units` formats columns as queries.units does (money in the frame's `currency`); the other columns keep
    two decimals, except fractions (`*_rate`, `*_share`), which keep four so that an error rate of 0.3 % does not
    read as 0.00."""
    click.echo(render_table(df, shutil.get_terminal_size((160, 24)).columns, labels, units))


def print_summary(engine: Engine) -> None:
    """Requests, errors and latency by tier through the semantic model (what the Overview page shows) on the DuckDB
    store; ClickHouse still answers with the registered latency_by_tier query."""
    semantic = engine.name == "duckdb"  # the semantic model runs on the DuckDB store only
    if semantic:
        frame = metrics.run(engine, metrics.Request(SUMMARY, ("tier",)))
    else:
        frame = registry.run(engine, "latency_by_tier", {"start_ns": None, "end_ns": None,
                                                         "workload_class": "interactive"})
    if frame.height == 0:
        click.echo("\n".join(holdings_lines(holdings(engine.first_row))))
    elif semantic:
        click.echo("Requests entering each tier, errors and latency (sampling-adjusted; batch and training left out):")
        print_metric(frame, ("tier",))
    else:
        click.echo("Latency and errors by tier (server, consumer and root spans of interactive workloads):")
        print_frame(frame)


# What each kind of row gives, and how to bring it in, for a store that lacks it.
MISSING = {
    "spans": "OTLP traces give the requests, errors and latency by tier shown here, hops and slow paths "
             "(`tierwise ingest traces.jsonl`, or `tierwise receive`)",
    "metric points": "OTLP metrics give GPU use and queue depth (`tierwise ingest metrics.jsonl`, or `tierwise receive`)",
    "cost rows": "billing exports give costs, reconciliation and unit costs (`tierwise ingest` a FOCUS, CUR, Azure, GCP "
                 "or OCI export, or a rate card)",
}


def holdings_lines(held: Sequence[Held]) -> list[str]:
    """What `tierwise summary` says instead of an empty table: why it has no row, what the store holds (rows and the
    time they cover, UTC) and what is missing."""
    spans = next(h.rows for h in held if h.kind == "spans")
    if not any(h.rows for h in held):
        return ["The store is empty: nothing has been ingested yet.", "Missing:",
                *(f"  {h.kind}: {MISSING[h.kind]}." for h in held)]
    why = ("the store holds no spans" if not spans else
           f"its {spans:,} spans hold no request entering a tier (no root, server or consumer span outside batch and "
           "training work)")
    lines = [f"No requests, errors or latency by tier to show: {why}.", "The store holds:"]
    width = max(len(f"{h.rows:,}") for h in held)
    for h in held:
        covers = (f"  {h.first:%Y-%m-%d %H:%M} to {h.last:%Y-%m-%d %H:%M} UTC" if h.first and h.last else "")
        lines.append(f"  {h.kind:<13} {h.rows:>{width},}{covers}")
    missing = [h for h in held if not h.rows]
    if missing:
        lines.append("Missing:")
        lines += [f"  {h.kind}: {MISSING[h.kind]}." for h in missing]
    return lines


def print_metric(frame: pl.DataFrame, keys: Sequence[str]) -> None:
    """A semantic-model frame as a terminal table: labels for headers, cells by unit, money totals per currency."""
    shown = present.with_totals(frame, keys)
    print_frame(shown, labels=present.labels(shown.columns), units=present.units(shown.columns))
