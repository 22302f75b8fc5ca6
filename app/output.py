"""Terminal rendering of the reading commands: the query list, tables fitted to the terminal, the per-tier summary,
metric frames."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
import polars as pl

from app.table_text import render_table
from queries import registry
from queries.semantic import metric as metrics
from queries.semantic import present

if TYPE_CHECKING:
    from queries.engine import Engine

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


def print_summary(source: Path | Engine) -> None:
    """Requests, errors and latency by tier through the semantic model (what the Overview page shows), from the store
    at a path or an open DuckDB engine; ClickHouse still answers with the registered latency_by_tier query. Closes
    what it opened or was given."""
    from queries.engine import DuckDBEngine, open_engine  # the engines (sqlglot, chdb) load only when asked for
    from queries.loader import fetch

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
