"""The `tierwise` commands that bring data in or make it: migrate, ingest, receive, quarantine, generate, sample."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

import store
from app.cli_options import db_option, engine_options, open_store
from store.settings import DEFAULT_FOLD_MEMORY, load_settings, memory_size


@click.command()
@db_option
@engine_options
def migrate(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Create the store or bring its schema up to date (with --engine clickhouse: the ClickHouse schema)."""
    try:
        settings = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if settings.engine == "clickhouse":
        from app.output_clickhouse import print_day, print_migrate
        from ingest.sinks import clickhouse as ch_load

        if not settings.clickhouse_url:
            raise click.UsageError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        if not print_migrate(ch_load.migrate(settings.clickhouse_url, settings, progress=print_day)):
            sys.exit(1)
        return
    where, applied = str(settings.db_path), store.migrate(store.connect(settings.db_path))
    click.echo(f"{where}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@click.command()
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
    try:
        settings = load_settings(db=db, config=config, store_content=store_content)
    except ValueError as e:  # a [[map]] / [[cost_map]] rule (RuleError) or a setting that cannot be used
        raise click.UsageError(str(e)) from None
    if engine == "clickhouse":
        from ingest.sinks import clickhouse as ch_load

        if not clickhouse_url:
            raise click.UsageError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        results = ch_load.ingest_paths(clickhouse_url, list(paths), settings, signal)
    else:
        from app.output_ingest import run_ingest

        results = run_ingest(list(paths), settings, signal, progress=not quiet)
    from app.output_ingest import print_ingest

    print_ingest(results)
    if any(not r.ok for r in results):
        sys.exit(1)


@click.command()
@db_option
@click.option("--repair", is_flag=True,
              help="First recompute, from the spans, the derived tables that differ (takes the write lock).")
@engine_options
def check(db: str | None, repair: bool, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Compare every derived table with a recomputation over the spans; exit 1 on any difference."""
    from store import derived

    try:
        settings = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if settings.engine == "clickhouse":  # the roll-ups against their source (ClickHouse keeps the rest as views)
        from app.output_clickhouse import print_check
        from ingest.sinks import clickhouse as ch_load

        if not settings.clickhouse_url:
            raise click.UsageError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        if not print_check(ch_load.check(settings.clickhouse_url, repair)):
            sys.exit(1)
        return
    path = settings.db_path
    if repair:
        writer = store.open_writer(path)
        try:
            repaired = derived.repair(writer)
        finally:
            writer.close()
        click.echo(f"recomputed: {', '.join(repaired)}" if repaired else "nothing to recompute")
    con = open_store(path)
    try:
        results = derived.check(con)
    finally:
        con.close()
    for name, differing in results:
        click.echo(f"{'ok' if not differing else 'DIFFERS'}  {name}" + (f": {differing:,} rows differ" if differing else ""))
    if any(differing for _, differing in results):
        click.echo("the derived tables do not match the spans: `tierwise check --repair` recomputes them", err=True)
        sys.exit(1)


@click.command()
@db_option
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Rows of each kind to show: failed files, and quarantined records.")
def quarantine(db: str | None, limit: int) -> None:
    """Show what ingest set aside: files that failed as a whole, and quarantined records (file, record, field, reason)."""
    con = open_store(load_settings(db=db).db_path)
    try:
        from app.output_ingest import print_quarantine
        from ingest.sinks.loader import quarantined

        print_quarantine(quarantined(con, limit))
    finally:
        con.close()


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4318, show_default=True, help="OTLP/HTTP port.")
@click.option("--token", default=None, help="Require `Authorization: Bearer TOKEN` (default: $TIERWISE_TOKEN).")
@click.option("--spool", "spool_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for accepted, not yet folded requests (default: <db>.spool beside the store).")
@click.option("--max-body-bytes", default=64 * 1024 * 1024, show_default=True,
              help="Largest request body, after decompression.")
@click.option("--max-backlog-bytes", default=64 * 1024 * 1024, show_default=True,
              help="Spooled bytes not yet in the store above which clients get 503 + Retry-After.")
@click.option("--max-inflight-bytes", default=64 * 1024 * 1024, show_default=True,
              help="Request bodies being read and decoded at once (decoding costs 8-14x the body) above which clients "
                   "get 503 + Retry-After.")
@click.option("--fold-interval", default=2.0, show_default=True, help="Seconds between folds of the spool into the store.")
@click.option("--decoders", type=click.IntRange(min=0), default=None,
              help="Processes decoding request bodies beside the fold (default: one fewer than the cores, at least one; "
                   "0 decodes in the receiver's threads).")
@click.option("--fold-memory", default=DEFAULT_FOLD_MEMORY, show_default=True,
              help="DuckDB's memory limit while folding (e.g. 512MB); with --max-inflight-bytes it bounds the RSS.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="tierwise.toml with tier derivation rules.")
@click.option("--store-content/--no-store-content", default=None,
              help="Keep prompt and completion text (off unless you opt in).")
def receive(db: str | None, host: str, port: int, token: str | None, spool_dir: Path | None, max_body_bytes: int,
            max_backlog_bytes: int, max_inflight_bytes: int, fold_interval: float, decoders: int | None,
            fold_memory: str, config: str | None, store_content: bool | None) -> None:
    """Receive OTLP/HTTP traces and metrics (POST /v1/traces, /v1/metrics) into the store.

    SIGINT, SIGTERM and SIGHUP stop it after a final fold of everything answered 200.
    """
    from ingest.files.parallel import usable_cores
    from ingest.receiver.server import Receiver, ReceiverConfig

    try:
        settings = load_settings(db=db, config=config, store_content=store_content, token=token)
        fold_memory = memory_size(fold_memory, "--fold-memory")
    except ValueError as e:  # a [[map]] / [[cost_map]] rule (RuleError) or a setting that cannot be used
        raise click.UsageError(str(e)) from None
    rc = ReceiverConfig(host=host, port=port, spool_dir=spool_dir, max_body_bytes=max_body_bytes,
                        max_backlog_bytes=max_backlog_bytes, fold_interval_s=fold_interval,
                        max_inflight_bytes=max_inflight_bytes, fold_memory=fold_memory,
                        decode_workers=max(1, usable_cores() - 1) if decoders is None else decoders)
    logs = logging.getLogger("tierwise")  # the receiver's and the folder's lines, one each, on stderr
    if not logs.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logs.addHandler(handler)
        logs.setLevel(logging.INFO)
        logs.propagate = False
    receiver = Receiver(settings, rc)
    click.echo(f"receiving OTLP/HTTP on {receiver.url} → spool {receiver.spool.directory} → {settings.db_path}"
               + (" (bearer token required)" if settings.token else ""), err=True)
    try:
        status = receiver.run()
    except RuntimeError as e:  # the port is taken or the address is wrong (uvicorn logged why just above)
        raise click.ClickException(str(e)) from None
    sys.exit(status)


@click.command()
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


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("sample_data/committed"),
              show_default=True)
def sample(out: Path) -> None:
    """Regenerate the small committed sample (fixed seed, October 2026)."""
    from sample_data.generate import write_sample

    s = write_sample(out)
    click.echo(f"{out}: {s.spans} spans in {s.traces} traces, {len(s.files)} files")
