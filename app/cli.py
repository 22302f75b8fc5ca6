"""The `tierwise` command line: each command wires its flags to a plain function in ingest/ or queries/."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from app import output
from ingest import loader, store
from ingest.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    """`--db FILE`, else TIERWISE_DB, else ./tierwise.duckdb."""
    return click.option("--db", type=click.Path(dir_okay=False), default=None,
                        help="DuckDB store (default: $TIERWISE_DB or ./tierwise.duckdb).")(f)


@click.group()
@click.version_option(package_name="tierwise")
def cli() -> None:
    """tierwise: cross-tier latency, cost and placement for AI services on device, edge and cloud."""


@cli.command()
@db_option
def migrate(db: str | None) -> None:
    """Create the store or bring its schema up to date."""
    settings = load_settings(db=db)
    con = store.connect(settings.db_path)
    applied = store.migrate(con)
    click.echo(f"{settings.db_path}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


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
def ingest(paths: tuple[Path, ...], db: str | None, config: str | None, signal: str | None,
           store_content: bool | None, quiet: bool) -> None:
    """Load OTLP files or folders (JSON lines, JSON, protobuf; gzip or zstd) into the store."""
    settings = load_settings(db=db, config=config, store_content=store_content)
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
    output.print_rows(loader.quarantined(con, limit))


@cli.command()
@db_option
def summary(db: str | None) -> None:
    """Per-tier requests, error rate and latency percentiles."""
    output.print_summary(load_settings(db=db).db_path)


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Where the demo store lives.")
def demo(workdir: Path) -> None:
    """Ingest the bundled sample estate and show the per-tier summary."""
    output.run_demo(workdir)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
