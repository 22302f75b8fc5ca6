"""Terminal rendering of `tierwise migrate` and `tierwise check` on ClickHouse: files applied, exporter tables read
or not, views that failed, the roll-up backfill and the roll-up check."""

from __future__ import annotations

from collections.abc import Sequence

import click

from ingest.sinks.clickhouse import MigrateResult
from store.clickhouse.backfill import DayDone, RollupCheck


def print_day(day: DayDone) -> None:
    """One roll-up day backfilled (stderr: progress, not the result)."""
    click.echo(f"backfilled {day.day}: {day.spans:,} spans, {day.rows_changed:,} roll-up rows changed "
               f"in {day.seconds:.1f} s", err=True)


def print_migrate(result: MigrateResult) -> bool:
    """The schema step's outcome; False when something could not be created (the command then exits 1)."""
    applied = result.schema.applied
    click.echo(f"{result.target}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    for layout in result.schema.tables:
        if layout.problem is None and layout.notes:
            click.echo(f"{layout.table}: read as the exporter wrote it ({'; '.join(layout.notes)})")
    for layout in result.schema.unread:
        click.echo(f"warning: {layout.table} not read: {layout.problem}; its rows reach no view", err=True)
    filled = result.backfill
    if filled is not None and filled.done:
        click.echo(f"roll-ups backfilled for {len(filled.done):,} days ({filled.spans:,} spans, "
                   f"{filled.rows_changed:,} rows changed) in {filled.seconds:.1f} s")
    for name, message in result.schema.failed:
        click.echo(f"error: {name} not created: {message}", err=True)
    if result.schema.failed:
        click.echo("the rest was created; `tierwise migrate --engine clickhouse` retries what failed", err=True)
    return not result.schema.failed


def print_check(results: Sequence[RollupCheck]) -> bool:
    """Each roll-up table against its source; False when one differs."""
    for r in results:
        days = ", ".join(str(d) for d in r.days[:5]) + (", …" if len(r.days) > 5 else "")
        click.echo(f"{'ok' if not r.differing else 'DIFFERS'}  {r.table}"
                   + (f": {r.differing:,} rows differ on {days}" if r.differing else ""))
    if any(r.differing for r in results):
        click.echo("the roll-ups do not match their source: `tierwise check --engine clickhouse --repair` "
                   "recomputes them", err=True)
        return False
    return True
