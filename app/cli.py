"""The `tierwise` command line: each command wires its flags to a plain function in ingest/ or queries/."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from app import output
from ingest import loader, store
from ingest.settings import ENV_CLICKHOUSE_URL, ENV_ENGINE, load_settings
from queries import engine as engines
from queries import registry
from queries.engine import Engine

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    """`--db FILE`, else TIERWISE_DB, else ./tierwise.duckdb."""
    return click.option("--db", type=click.Path(dir_okay=False), default=None,
                        help="DuckDB store (default: $TIERWISE_DB or ./tierwise.duckdb).")(f)


def engine_options(f: F) -> F:
    """`--engine duckdb|clickhouse` and `--clickhouse-url` (else TIERWISE_ENGINE, TIERWISE_CLICKHOUSE_URL)."""
    f = click.option("--clickhouse-url", "clickhouse_url", default=None,
                     help="With --engine clickhouse: chdb:///dir or clickhouse://user@host:8123/db "
                          "(default: $TIERWISE_CLICKHOUSE_URL; password: $TIERWISE_CLICKHOUSE_PASSWORD).")(f)
    return click.option("--engine", "engine_name", type=click.Choice(["duckdb", "clickhouse"]), default=None,
                        help="Where queries run (default: $TIERWISE_ENGINE or duckdb).")(f)


def open_engine(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> Engine:
    """The store or ClickHouse the flags name, as queries.engine opens it; bad flags are usage errors."""
    try:
        s = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
        return engines.open_engine(s.engine, s.db_path, s.clickhouse_url)
    except (ValueError, store.StoreError) as e:
        raise click.UsageError(str(e)) from None


@click.group()
@click.version_option(package_name="tierwise")
def cli() -> None:
    """tierwise: cross-tier latency, cost and placement for AI services on device, edge and cloud."""


@cli.command()
@db_option
@engine_options
def migrate(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Create the store or bring its schema up to date (with --engine clickhouse: the ClickHouse schema)."""
    try:
        settings = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if settings.engine == "clickhouse":
        from ingest.clickhouse import load as ch_load

        if not settings.clickhouse_url:
            raise click.UsageError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        where, applied = ch_load.migrate(settings.clickhouse_url, settings)
    else:
        where, applied = str(settings.db_path), store.migrate(store.connect(settings.db_path))
    click.echo(f"{where}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@db_option
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="tierwise.toml with tier derivation rules.")
@click.option("--signal", type=click.Choice(["traces", "metrics", "logs"]), default=None,
              help="Signal of protobuf files when it cannot be told from content.")
@click.option("--store-content/--no-store-content", default=None,
              help="Keep prompt and completion text (off unless you opt in).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--engine", type=click.Choice(["duckdb", "clickhouse"]), envvar="TIERWISE_ENGINE", default="duckdb",
              show_default=True, help="Store to load into (default: $TIERWISE_ENGINE or duckdb).")
@click.option("--clickhouse-url", envvar="TIERWISE_CLICKHOUSE_URL", default=None,
              help="With --engine clickhouse: chdb:///dir or clickhouse://user@host:8123/db (password: "
                   "$TIERWISE_CLICKHOUSE_PASSWORD; default: $TIERWISE_CLICKHOUSE_URL).")
def ingest(paths: tuple[Path, ...], db: str | None, config: str | None, signal: str | None,
           store_content: bool | None, quiet: bool, engine: str, clickhouse_url: str | None) -> None:
    """Load OTLP files or folders (JSON lines, JSON, protobuf; gzip or zstd) into the store."""
    settings = load_settings(db=db, config=config, store_content=store_content)
    if engine == "clickhouse":
        from ingest.clickhouse import load as ch_load

        if not clickhouse_url:
            raise click.UsageError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        results = ch_load.ingest_paths(clickhouse_url, list(paths), settings, signal)
    else:
        results = output.run_ingest(list(paths), settings, signal, progress=not quiet)
    output.print_ingest(results)
    if any(not r.ok for r in results):
        sys.exit(1)


@cli.command()
@db_option
@click.option("--limit", default=50, show_default=True)
def quarantine(db: str | None, limit: int) -> None:
    """Show quarantined records: file, record number, field and reason."""
    con = store.connect(load_settings(db=db).db_path, read_only=True)
    output.print_quarantine(loader.quarantined(con, limit))


@cli.command()
@db_option
@engine_options
def summary(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Per-tier requests, error rate and latency percentiles."""
    output.print_summary(open_engine(db, engine_name, clickhouse_url))


@cli.command("query")
@click.argument("name", required=False)
@db_option
@click.option("--list", "list_only", is_flag=True, help="List the queries, their parameters and units.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A query parameter (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@engine_options
def query(name: str | None, db: str | None, list_only: bool, params: tuple[str, ...], fmt: str,
          engine_name: str | None, clickhouse_url: str | None) -> None:
    """Run a query from queries/ (the numbers the dashboard shows): `tierwise query --list` names them."""
    if list_only or name is None:
        click.echo("\n".join(registry.describe()))
        return
    try:
        q = registry.get(name)
        values = registry.parse_params(q, params)
    except registry.QueryError as e:
        raise click.UsageError(str(e)) from None
    con = open_engine(db, engine_name, clickhouse_url)
    try:
        frame = registry.run(con, name, values)
    finally:
        con.close()
    if fmt == "table":
        output.print_frame(frame)
    else:
        text = registry.render(frame, fmt)
        click.echo(text, nl=not text.endswith("\n"))


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Where the demo store lives.")
@click.option("--spans", default=1_000_000, show_default=True, help="Spans of the generated estate.")
@click.option("--days", default=30, show_default=True, help="Days of the generated estate, ending today.")
@click.option("--serve/--no-serve", "serve_after", default=False, help="Then open the dashboard (as `make demo` does).")
@click.option("--port", default=8501, show_default=True, help="Dashboard port with --serve.")
def demo(workdir: Path, spans: int, days: int, serve_after: bool, port: int) -> None:
    """Generate an estate (reused when present), ingest it and show per-tier latency and cost."""
    output.run_demo(workdir, spans, days)
    if serve_after:
        from app.serve import serve as run

        sys.exit(run(workdir / "tierwise.duckdb", port))


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@click.option("--seed", default=42, show_default=True)
@click.option("--spans", default=1_000_000, show_default=True, help="About this many spans (10k to 100M).")
@click.option("--days", default=30, show_default=True, help="Length of the window, ending at --end.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Window end, UTC midnight (default: today).")
@click.option("--format", "fmt", type=click.Choice(["json", "proto"]), default="json", show_default=True)
@click.option("--gzip", "gz", is_flag=True, help="gzip every telemetry file.")
@click.option("--workers", default=1, show_default=True, help="Processes (output is identical for any count).")
def generate(out: Path, seed: int, spans: int, days: int, end: Any, fmt: str, gz: bool, workers: int) -> None:
    """Write a seeded hybrid AI estate: OTLP traces and metrics, cloud bills and an edge/device rate card."""
    from sample_data.generate import Options
    from sample_data.generate import generate as run

    opts = Options(seed=seed, spans=spans, days=days, fmt=fmt, gzip=gz, **({"end": end.date()} if end else {}))
    s = run(out, opts, workers)
    click.echo(f"{out}: {s.spans} spans in {s.traces} traces, {len(s.files)} files")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("sample_data/committed"),
              show_default=True)
def sample(out: Path) -> None:
    """Regenerate the small committed sample (fixed seed, October 2026)."""
    from sample_data.generate import write_sample

    s = write_sample(out)
    click.echo(f"{out}: {s.spans} spans in {s.traces} traces, {len(s.files)} files")


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4318, show_default=True, help="OTLP/HTTP port.")
@click.option("--token", default=None, help="Require `Authorization: Bearer TOKEN` (default: $TIERWISE_TOKEN).")
@click.option("--spool", "spool_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for accepted, not yet folded requests (default: <db>.spool beside the store).")
@click.option("--max-body-bytes", default=64 * 1024 * 1024, show_default=True,
              help="Largest request body, after decompression.")
@click.option("--max-backlog-bytes", default=1024 * 1024 * 1024, show_default=True,
              help="Spooled bytes not yet in the store above which clients get 503 + Retry-After.")
@click.option("--fold-interval", default=2.0, show_default=True, help="Seconds between folds of the spool into the store.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="tierwise.toml with tier derivation rules.")
@click.option("--store-content/--no-store-content", default=None,
              help="Keep prompt and completion text (off unless you opt in).")
def receive(db: str | None, host: str, port: int, token: str | None, spool_dir: Path | None, max_body_bytes: int,
            max_backlog_bytes: int, fold_interval: float, config: str | None, store_content: bool | None) -> None:
    """Receive OTLP/HTTP traces and metrics (POST /v1/traces, /v1/metrics) into the store."""
    from ingest.receiver import Receiver, ReceiverConfig

    settings = load_settings(db=db, config=config, store_content=store_content, token=token)
    rc = ReceiverConfig(host, port, spool_dir, max_body_bytes, max_backlog_bytes, fold_interval)
    receiver = Receiver(settings, rc)
    click.echo(f"receiving OTLP/HTTP on {receiver.url} → spool {receiver.spool.directory} → {settings.db_path}"
               + (" (bearer token required)" if settings.token else ""), err=True)
    receiver.run()


@cli.command()
@db_option
@click.option("--port", default=8501, show_default=True, help="HTTP port of the dashboard.")
@click.option("--address", default=None, help="Address to listen on (default: Streamlit's, all interfaces).")
@engine_options
def serve(db: str | None, port: int, address: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Open the dashboard on the store (read-only): http://localhost:PORT."""
    from app.serve import serve as run

    s = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
    if s.engine == "clickhouse":  # the dashboard process reads them back through ingest/settings.py
        os.environ.update({ENV_ENGINE: s.engine, ENV_CLICKHOUSE_URL: s.clickhouse_url or ""})
    sys.exit(run(s.db_path, port, address))


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@engine_options
def recommend(db: str | None, fmt: str, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Placement moves ranked by value (docs/scorecard.md); a well-placed workload gets none."""
    from queries import recommend as rec

    con = open_engine(db, engine_name, clickhouse_url)
    try:
        recs = rec.run(con)
    finally:
        con.close()
    if fmt == "json":
        click.echo(rec.to_json(recs))
    else:
        output.print_frame(rec.as_frame(recs))


@cli.command()
@db_option
@click.option("--workload", required=True, help="The workload to move.")
@click.option("--to", "to_tier", required=True, type=click.Choice(["device", "edge", "regional", "hyperscale"]))
@click.option("--from", "from_tier", default=None, help="The portion to move (default: its costliest other tier).")
@click.option("--site", default=None, help="Target site, recorded with the move.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@engine_options
def whatif(db: str | None, workload: str, to_tier: str, from_tier: str | None, site: str | None, fmt: str,
           engine_name: str | None, clickhouse_url: str | None) -> None:
    """Price one move with the scorecard and estimate its p95 change from observed hop and compute times."""
    from queries import whatif as wi

    con = open_engine(db, engine_name, clickhouse_url)
    try:
        move = wi.run(con, workload, to_tier, from_tier, site)
    except wi.WhatIfError as e:
        raise click.UsageError(str(e)) from None
    finally:
        con.close()
    frame = wi.as_frame([move])
    if fmt == "json":
        click.echo(frame.write_json())
    else:
        output.print_frame(frame)


@cli.group()
def export() -> None:
    """Write store contents in open formats."""


@export.command("focus")
@db_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="Default: from the --out suffix (.parquet, else CSV).")
@engine_options
def export_focus(db: str | None, out: Path, fmt: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """The cost ledger as a FOCUS 1.2 file (57 columns + x_ columns), as focus-validator checks it."""
    from queries.focus_export import export_focus as write_focus

    con = open_engine(db, engine_name, clickhouse_url)
    try:
        n = write_focus(con, out, fmt)
    finally:
        con.close()
    click.echo(f"{out}: {n} FOCUS rows")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
