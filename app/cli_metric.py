"""The `tierwise metric` command: any measure of the semantic model by any dimensions, as table, JSON or CSV."""

from __future__ import annotations

import click

from app import output
from app.cli_options import db_option, open_store
from queries import timeparse
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as metrics
from queries.semantic import model, present
from queries.semantic.model import ModelError
from store.settings import load_settings


def _list(fmt: str) -> None:
    rows = [{"name": m.name, "label": m.label, "unit": m.unit, "adjusted": m.adjusted, "description": m.meaning,
             "definition": m.definition} for m in model.model().measures]
    if fmt == "json":
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    width = max(len(m.name) for m in model.model().measures)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['unit']:<6}  {r['description']}")
    click.echo("\ndimensions: " + ", ".join([d.name for d in model.model().dimensions] + ["tag:<key>"]))


def _instant(flag: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return timeparse.parse_instant_ns(raw)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=flag) from None


def _where(pairs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not DIM=VALUE", param_hint="--where")
        out.append((key.strip(), value))
    return tuple(out)


@click.command("metric")
@click.argument("measures", required=False)
@click.option("--by", "by", default="", metavar="DIM[,DIM...]", help="Group by these dimensions (time, tier, …).")
@click.option("--where", "where", multiple=True, metavar="DIM=VALUE", help="Keep rows whose dimension equals VALUE.")
@click.option("--from", "start", default=None, metavar="T", help="From this UTC date or ISO-8601 time (inclusive).")
@click.option("--to", "end", default=None, metavar="T", help="Until this UTC date or ISO-8601 time (exclusive).")
@click.option("--grain", type=click.Choice(list(model.GRAINS)), default="day", show_default=True,
              help="Bucket width when grouping by time.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--list", "list_only", is_flag=True, help="List every measure with its unit and meaning.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="tierwise.toml ([currency] rates).")
@db_option
def metric(measures: str | None, by: str, where: tuple[str, ...], start: str | None, end: str | None, grain: str,
           fmt: str, list_only: bool, config: str | None, db: str | None) -> None:
    """Measures of the semantic model (docs/measures.md) grouped by dimensions: the numbers every page shows."""
    if list_only:
        _list(fmt)
        return
    if not measures:
        raise click.UsageError("name a measure, e.g. `tierwise metric requests --by tier` (`--list` shows them)")
    settings = load_settings(db=db, config=config)
    try:
        req = metrics.Request(tuple(m.strip() for m in measures.split(",") if m.strip()),
                              tuple(d.strip() for d in by.split(",") if d.strip()), _where(where),
                              _instant("--from", start), _instant("--to", end), grain,
                              metrics.configured_currency(settings.config_path))
        metrics.explain(req)  # refuses unknown or meaningless combinations before the store is opened
    except ModelError as e:
        raise click.UsageError(str(e)) from None
    engine = DuckDBEngine(open_store(settings.db_path))  # the semantic model runs on the DuckDB store
    try:
        frame = metrics.run(engine, req)
    finally:
        engine.close()
    if fmt == "table":
        shown = present.with_totals(frame, req.by)
        output.print_frame(shown, labels=present.labels(shown.columns), units=present.units(shown.columns))
        return
    rows = metrics.rows_for_output(frame)
    text = rows.write_json() if fmt == "json" else rows.write_csv()
    click.echo(text, nl=not text.endswith("\n"))
