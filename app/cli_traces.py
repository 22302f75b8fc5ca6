"""`tierwise traces`: trace search from the command line, the flags wired to queries.traces."""

from __future__ import annotations

import json

import click
import polars as pl

from app.cli_options import db_option, engine_options, open_engine
from app.output import print_frame
from queries import traces

LAST_HELP = "A window ending now: 15m, 1h, 6h, 24h, 7d (or any Nm, Nh, Nd)."
TIME_HELP = "UTC date or ISO-8601 time"


def _rows(frame: pl.DataFrame) -> list[dict[str, object]]:
    out = []
    for row in frame.iter_rows(named=True):
        start = row["start"]
        out.append({**row, "start": start.isoformat().replace("+00:00", "Z") if start is not None else None})
    return out


@click.command("traces")
@db_option
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
              help="A span attribute (else resource attribute) condition: key=value, key!=value, key>n, key>=n, key<n, "
                   "key<=n (repeatable; all hold on one span).")
@click.option("--service", default=None, help="A span of this service.name.")
@click.option("--operation", default=None, help="A span of this operation (span name).")
@click.option("--tier", default=None, help="A span in this tier.")
@click.option("--site", default=None, help="A span at this site.")
@click.option("--workload", default=None, help="A span of this workload.")
@click.option("--status", type=click.Choice(traces.STATUSES), default=None,
              help="error: some span of the trace failed; ok: none did.")
@click.option("--min-ms", type=click.FloatRange(min=0), default=None, help="Trace at least this long (ms).")
@click.option("--max-ms", type=click.FloatRange(min=0), default=None, help="Trace at most this long (ms).")
@click.option("--last", default=None, help=LAST_HELP)
@click.option("--from", "start", default=None, help=f"Traces starting from ({TIME_HELP}, inclusive).")
@click.option("--to", "end", default=None, help=f"Traces starting before ({TIME_HELP}, exclusive).")
@click.option("--sort", type=click.Choice(traces.SORTS), default="recent", show_default=True)
@click.option("--limit", type=click.IntRange(1, traces.MAX_LIMIT), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@engine_options
def traces_command(db: str | None, where: tuple[str, ...], service: str | None, operation: str | None,
                   tier: str | None, site: str | None, workload: str | None, status: str | None,
                   min_ms: float | None, max_ms: float | None, last: str | None, start: str | None, end: str | None,
                   sort: str, limit: int, fmt: str, engine_name: str | None, clickhouse_url: str | None) -> None:
    """Search traces by service, operation, tier, site, workload, attributes, status, duration and time.

    Each result opens in the dashboard's trace view (`tierwise serve`, then /trace?trace_id=ID).
    """
    try:
        start_ns, end_ns = traces.window(last, start, end)
        f = traces.checked(traces.TraceFilter(
            service=service, operation=operation, tier=tier, site=site, workload=workload,
            where=tuple(traces.parse_condition(w) for w in where), status=status, min_ms=min_ms, max_ms=max_ms,
            start_ns=start_ns, end_ns=end_ns, sort=sort, limit=limit))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    engine = open_engine(db, engine_name, clickhouse_url)
    try:
        found = traces.search(engine, f)
    finally:
        engine.close()
    if fmt == "json":
        click.echo(json.dumps(_rows(found), indent=2))
    elif fmt == "csv":
        click.echo(found.with_columns(pl.col("tiers").list.join(" "),
                                      pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")).write_csv(), nl=False)
    elif found.is_empty():
        click.echo("no trace matches")
    else:
        print_frame(found.with_columns(pl.col("tiers").list.join(", "),
                                       pl.col("start").dt.strftime("%Y-%m-%d %H:%M:%S%.3f UTC")),
                    units={"duration_ms": "ms"})
