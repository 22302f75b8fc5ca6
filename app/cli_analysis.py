"""The `tierwise` commands that read the store's answers: summary, query, recommend, whatif and export focus."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app import output
from app.cli_options import db_option, engine_options, open_engine
from queries import registry
from queries.catalog import QueryError
from store.contract import TIERS


@click.command()
@db_option
@engine_options
def summary(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Per-tier requests, error rate and latency percentiles."""
    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        output.print_summary(engine)
    finally:
        engine.close()


@click.command("query")
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
        click.echo("\n".join(output.query_list()))
        return
    try:
        q = registry.get(name)
        values = registry.parse_params(q, params)
    except QueryError as e:
        raise click.UsageError(str(e)) from None
    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        frame = registry.run(engine, name, values)
    finally:
        engine.close()
    if fmt == "table":
        output.print_frame(frame)
    else:
        text = registry.render(frame, fmt)
        click.echo(text, nl=not text.endswith("\n"))


@click.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@engine_options
def recommend(db: str | None, fmt: str, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Placement moves ranked by value (docs/scorecard.md); a well-placed workload gets none."""
    from queries import recommend as rec

    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        recs = rec.run(engine)
    finally:
        engine.close()
    if fmt == "json":
        click.echo(rec.to_json(recs))
    else:
        output.print_frame(rec.as_frame(recs))


@click.command()
@db_option
@click.option("--workload", required=True, help="The workload to move.")
@click.option("--to", "to_tier", required=True, type=click.Choice(TIERS))
@click.option("--from", "from_tier", default=None, help="The portion to move (default: its costliest other tier).")
@click.option("--site", default=None, help="Target site, recorded with the move.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@engine_options
def whatif(db: str | None, workload: str, to_tier: str, from_tier: str | None, site: str | None, fmt: str,
           engine_name: str | None, clickhouse_url: str | None) -> None:
    """Price one move with the scorecard and estimate its p95 change from observed hop and compute times."""
    from queries import value as values
    from queries import whatif as wi
    from queries.recommend import Thresholds
    from queries.recommend.engine import move_value

    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        move = wi.run(engine, workload, to_tier, from_tier, site)
        worth = move_value(move.workload, move.from_tier, None, move.delta_cost_usd_month, move.delta_p95_ms,
                           move.traffic_share, registry.run(engine, "scorecard_inputs"),
                           Thresholds(value=values.configured())).value_usd_month
    except wi.WhatIfError as e:
        raise click.UsageError(str(e)) from None
    finally:
        engine.close()
    if fmt == "json":
        click.echo(json.dumps([wi.as_dict(move, worth)], indent=2))
    else:
        output.print_frame(wi.as_frame([move]))
        if move.refusal:
            click.echo(f"not allowed: {move.refusal}")


@click.group()
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

    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        n = write_focus(engine, out, fmt)
    finally:
        engine.close()
    click.echo(f"{out}: {n} FOCUS rows")
