"""The `tierwise` command line: the command group, the dashboard and demo commands, and the entry point.

Each command wires its flags to a plain function in ingest/ or queries/: app/cli_data.py holds those that bring data
in, app/cli_analysis.py those that read answers back, app/cli_options.py the flags they share.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from app import cli_analysis, cli_data, cli_finops, cli_map, cli_metric, cli_report, cli_traces
from app.cli_options import db_option, engine_options
from store.settings import ENV_CLICKHOUSE_URL, ENV_ENGINE, load_settings

PORT_RANGE = click.IntRange(1, 65535)
ADDRESS_HELP = ("127.0.0.1 keeps the dashboard on this machine; beyond loopback it warns unless login is on "
                "(`tierwise serve --login FILE`).")

LOGIN_OPTION = click.option(
    "--login", "login", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="TIERWISE_LOGIN",
    default=None, help="Require login: a TOML file with Streamlit's [auth] table (redirect_uri, cookie_secret, "
                       "client_id, client_secret, server_metadata_url); see docs/dashboard.md. Env: TIERWISE_LOGIN.")

@click.group()
@click.version_option(package_name="tierwise")
def cli() -> None:
    """tierwise: cross-tier latency, cost and placement for AI services on device, edge and cloud."""


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Where the demo store lives.")
@click.option("--spans", default=1_000_000, show_default=True, help="Spans of the generated estate.")
@click.option("--days", default=30, show_default=True, help="Days of the generated estate, ending today.")
@click.option("--serve/--no-serve", "serve_after", default=False, help="Then open the dashboard (as `make demo` does).")
@click.option("--port", type=PORT_RANGE, default=8501, show_default=True, help="Dashboard port with --serve.")
@click.option("--address", default="127.0.0.1", show_default=True, help=f"Dashboard address with --serve. {ADDRESS_HELP}")
@LOGIN_OPTION
def demo(workdir: Path, spans: int, days: int, serve_after: bool, port: int, address: str, login: Path | None) -> None:
    """Generate an estate (reused when present), ingest it and show per-tier latency and cost."""
    from app import serve as dashboard

    if serve_after and (problem := dashboard.start_problem(address, port, login)):  # before minutes of generating
        click.echo(problem, err=True)
        sys.exit(1)
    from app.output_ingest import run_demo

    run_demo(workdir, spans, days)
    if serve_after:
        sys.exit(dashboard.serve(workdir / "tierwise.duckdb", port, address, login=login))


@cli.command()
@db_option
@click.option("--port", type=PORT_RANGE, default=8501, show_default=True, help="HTTP port of the dashboard.")
@click.option("--address", default="127.0.0.1", show_default=True, help=f"Address to listen on. {ADDRESS_HELP}")
@LOGIN_OPTION
@engine_options
def serve(db: str | None, port: int, address: str, login: Path | None, engine_name: str | None,
          clickhouse_url: str | None) -> None:
    """Open the dashboard on the store (read-only) at http://127.0.0.1:PORT; says when it is ready, stops on Ctrl-C."""
    from app.serve import serve as run

    s = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
    if s.engine == "clickhouse":  # the dashboard process reads them back through store/settings.py
        os.environ.update({ENV_ENGINE: s.engine, ENV_CLICKHOUSE_URL: s.clickhouse_url or ""})
    sys.exit(run(s.db_path, port, address, login=login))


for command in (cli_data.migrate, cli_data.ingest, cli_data.check, cli_data.quarantine, cli_data.receive, cli_data.generate,
                cli_data.sample, cli_analysis.summary, cli_analysis.query, cli_analysis.recommend,
                cli_analysis.whatif, cli_analysis.export, cli_metric.metric, cli_map.map_group,
                cli_traces.traces_command, cli_finops.budgets_command, cli_finops.anomalies_command,
                cli_report.report_command):
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
