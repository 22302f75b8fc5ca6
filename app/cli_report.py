"""`tierwise report`: the decision memo to forward, as PDF or HTML (app/report.py over queries/memo.py)."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli_options import db_option, open_engine
from queries import decisions
from queries.semantic import metric as metrics
from queries.timeparse import parse_instant_ns
from store.settings import load_settings


@click.command("report")
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default=None,
              help="Default: from the --out suffix (.html, else PDF).")
@click.option("--from", "start", default=None, help="Period start (UTC date or ISO-8601 time, inclusive).")
@click.option("--to", "end", default=None, help="Period end (exclusive).")
def report_command(db: str | None, out: Path, fmt: str | None, start: str | None, end: str | None) -> None:
    """Write a one- or two-page decision memo: spend and where it goes, the top moves with reasons, evidence, ranges
    and status, realised savings, and an appendix of method and assumptions (the dashboard's numbers)."""
    from app import report
    from queries import memo

    try:
        lo = parse_instant_ns(start) if start else None
        hi = parse_instant_ns(end) if end else None
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    settings = load_settings(db=db)
    chosen = fmt or ("html" if out.suffix.lower() in (".html", ".htm") else "pdf")
    made = {k: d.state for k, d in decisions.load(settings.db_path).items()}
    engine = open_engine(db, None, None)
    try:
        content = memo.build(engine, made, lo, hi, metrics.configured_currency(settings.config_path))
    finally:
        engine.close()
    try:
        report.write(content, out, chosen)
    except RuntimeError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{out}: decision memo ({chosen}), {len(content.moves)} moves")
