"""`tierwise map suggest` and `tierwise map apply`: mapping rules from tierwise.toml over what the store holds."""

from __future__ import annotations

import json
import sys

import click

import store
from app.cli_options import db_option, open_engine
from store.settings import load_settings

CONFIG_OPTION = click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
                             help="tierwise.toml with [[map]] and [[cost_map]] rules (default: $TIERWISE_CONFIG or "
                                  "./tierwise.toml).")


@click.group("map")
def map_group() -> None:
    """Place telemetry and money with rules: list what is unplaced, then apply the rules to everything stored."""


@map_group.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Groups of each kind, largest first.")
def suggest(db: str | None, fmt: str, limit: int) -> None:
    """Unplaced resource groups (by spans) and unallocated money (by amount, per currency), each with a proposed rule."""
    from queries.mapping import suggest as run

    engine = open_engine(db, None, None)
    try:
        found = run(engine, limit)
    finally:
        engine.close()
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in found], indent=2))
        return
    if not found:
        click.echo("everything is placed: no span of tier unknown and no unallocated money")
        return
    for s in found:
        size = f"{s.size:,.0f} span{'' if s.size == 1 else 's'}" if s.kind == "telemetry" else f"{s.size:,.2f} {s.unit}"
        click.echo(f"# {s.kind}: {s.group}: {size}\n{s.toml}")
    click.echo("Add the rules you want to tierwise.toml, then run `tierwise map apply`.")


@map_group.command()
@db_option
@CONFIG_OPTION
def apply(db: str | None, config: str | None) -> None:
    """Derive tier, site, workload and data class again over every span, metric point and cost row (no re-ingest).

    One transaction: interrupted, the store stays as it was; run twice, the second run changes nothing.
    """
    from ingest.remap.apply import apply as run

    try:
        settings = load_settings(db=db, config=config)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if not settings.db_path.is_file():
        raise click.ClickException(f"{settings.db_path}: no store here (run `tierwise ingest` first)")
    con = store.open_writer(settings.db_path, settings.writer_memory)
    try:
        store.check_current(con)
        done = run(con, settings)
    except store.StoreError as e:
        raise click.ClickException(f"{settings.db_path}: {e}") from None
    finally:
        con.close()
    rules = f"{len(settings.map_rules)} [[map]] and {len(settings.cost_rules)} [[cost_map]] rules"
    if not done.changed:
        click.echo(f"{settings.db_path}: {rules}; nothing changed")
        sys.exit(0)
    click.echo(f"{settings.db_path}: {rules}; changed {done.spans:,} spans, {done.points:,} metric points, "
               f"{done.cost_rows:,} cost rows; rebuilt {len(done.rebuilt)} derived tables")
