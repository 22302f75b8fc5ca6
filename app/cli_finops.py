"""`tierwise budgets` and `tierwise anomalies`: the month-end FinOps checks, the flags wired to queries/budgets.py and
queries/anomalies.py."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime

import click
import polars as pl

from app.cli_options import db_option, open_engine
from app.output import print_frame
from queries import anomalies, budgets
from queries.semantic import metric as metrics
from queries.timeparse import parse_instant_ns
from store.settings import load_settings

BREACH_EXIT = 3  # what cron or CI alerts on: a budget breached, or forecast to breach


@click.command("budgets")
@db_option
@click.option("--config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="tierwise.toml with [[budget]] tables (default: $TIERWISE_CONFIG or ./tierwise.toml).")
@click.option("--month", default=None, metavar="YYYY-MM", help="Default: the month of the latest charge in the ledger.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def budgets_command(db: str | None, config: str | None, month: str | None, fmt: str) -> None:
    """Each budget's spend, month-end forecast and status (ok, warning, forecast_breach, breached).

    Exits 3 when any budget is breached or forecast to breach, so that cron or CI can alert on it.
    """
    settings = load_settings(db=db, config=config)
    try:
        chosen = budgets.configured(settings.config_path)
    except budgets.BudgetError as e:
        raise click.UsageError(str(e)) from None
    if not chosen:
        raise click.UsageError(f"no [[budget]] in {settings.config_path or 'tierwise.toml'}: see docs/billing.md#budgets")
    engine = open_engine(db, None, None)
    try:
        found = budgets.report(engine, chosen, month, metrics.configured_currency(settings.config_path))
    except budgets.BudgetError as e:
        raise click.ClickException(str(e)) from None
    finally:
        engine.close()
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in found], indent=2))
    else:
        rows = [s.as_dict() for s in found]
        print_frame(pl.DataFrame(rows).select("name", "month", "currency", "amount", "actual", "forecast", "used_pct",
                                              "forecast_pct", "status", "as_of"),
                    units={"amount": "money", "actual": "money", "forecast": "money", "used_pct": "pct",
                           "forecast_pct": "pct"})
    if any(s.status in budgets.BREACHES for s in found):
        sys.exit(BREACH_EXIT)


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.fromtimestamp(parse_instant_ns(text) // 10**9, UTC).date()
    except ValueError as e:
        raise click.UsageError(f"{flag} {text!r}: {e}") from None


@click.command("anomalies")
@db_option
@click.option("--from", "start", default=None, help="First UTC day judged (default: 30 days before the last charge).")
@click.option("--to", "end", default=None, help="Day after the last judged (exclusive; default: after the last charge).")
@click.option("--min-impact", type=click.FloatRange(min=0), default=anomalies.MIN_IMPACT, show_default=True,
              help=f"Smallest impact reported, in the day's currency (or {anomalies.MIN_SHARE:.0%} of the expected "
                   "cost, whichever is larger).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def anomalies_command(db: str | None, start: str | None, end: str | None, min_impact: float, fmt: str) -> None:
    """Days whose cost rose above the expected (the previous week's median), largest money impact first, each with
    the dimension that drives it (service, workload, site or account)."""
    currency = metrics.configured_currency(load_settings(db=db).config_path)
    engine = open_engine(db, None, None)
    try:
        window = anomalies.default_window(engine)
        lo, hi = _day(start, "--from"), _day(end, "--to")
        if window is None:
            found: list[anomalies.Anomaly] = []
        else:
            found = anomalies.find(engine, lo or window[0], hi or window[1], min_impact, currency=currency)
    finally:
        engine.close()
    if fmt == "json":
        click.echo(json.dumps([a.as_dict() for a in found], indent=2))
    elif not found:
        click.echo("no anomaly: no day cost more than expected by the minimum impact")
    else:
        print_frame(pl.DataFrame([a.as_dict() for a in found]),
                    units={"actual": "money", "expected": "money", "impact": "money"})
