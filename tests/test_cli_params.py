"""`tierwise query --param` values and `--db` files the CLI must refuse with one line, never a traceback from DuckDB."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ingest_helpers import FIXTURES, isolated

from app.cli import cli
from queries import loader, registry
from queries.engines.duckdb_engine import DuckDBEngine

TINY = FIXTURES / "tiny_store"


def tierwise(*args: str) -> Result:
    """`tierwise ARGS...` in-process; an exception that escapes the command fails the test as the traceback it is."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Spans, metrics and a bill, loaded by the real `tierwise ingest`."""
    work = tmp_path_factory.mktemp("params")
    db = work / "tiny.duckdb"
    with isolated(work):
        result = tierwise("ingest", "--quiet", "--db", str(db), *(str(TINY / n) for n in
                                                                  ("traces.jsonl", "metrics.jsonl", "bills-focus.csv")))
    assert result.exit_code == 0, result.output
    return db


def error_line(result: Result) -> str:
    """The one `Error:` line of a refused command, checked to be alone and free of a traceback."""
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


# (query, KEY=VALUE, what the message must say is allowed)
REFUSED = [
    ("latency_over_time", "bucket=fortnight", "one of minute, hour, day, week, month"),
    ("escalations", "bucket=", "one of minute, hour, day, week, month"),
    ("cost_anomalies", "window_days=99999999999999999999", "a whole number from 1 to 3650"),
    ("latency_regressions", "min_requests=9223372036854775808", "a whole number from 0 to 9223372036854775807"),
    ("slow_traces", "limit_count=-1", "a whole number from 0 to 1000000000"),
    ("slow_traces", "min_tiers_count=6", "a whole number from 1 to 5"),
    ("band_trace_spans", "band=nan", "a finite number from 0 to 0.5"),
    ("critical_path_shares", "band=-1", "a finite number from 0 to 0.5"),
    ("band_trace_spans", "traces_per_band=0", "a whole number from 1 to 1000000000"),
    ("slow_attribute_counts", "slow_quantile=", "a finite number from 0 to 1"),
    ("slow_attributes", "slow_quantile=1e400", "a finite number from 0 to 1"),
    ("gpu_idle_hours", "idle_threshold_ratio=inf", "a finite number from 0 to 1"),
    ("gpu_starvation", "queue_threshold=-0.5", "a finite number, at least 0"),
    ("cost_forecast", "band_k=-inf", "a finite number, at least 0"),
    ("latency_budgets", "budgets=chat=abc", "workload=ms pairs"),
    ("trust_zone_violations", "regulated_tiers=device, edge", "tiers from device, edge, regional, hyperscale, unknown"),
    ("latency_by_tier_workload", "by_site=maybe", "one of yes, no"),
    ("latency_by_group", "tier=cloud", "one of device, edge, regional, hyperscale, unknown"),
    ("latency_rollup_over_time", "bucket=month", "one of minute, hour, day, week"),
]


@pytest.mark.parametrize(("name", "pair", "allowed"), REFUSED, ids=[f"{n}:{p}" for n, p, _ in REFUSED])
def test_a_bad_param_is_refused_in_one_line_before_any_sql(tiny_db: Path, name: str, pair: str, allowed: str) -> None:
    key, _, raw = pair.partition("=")
    result = tierwise("query", name, "--db", str(tiny_db), "--param", pair)
    line = error_line(result)
    assert result.exit_code == 2
    assert f"parameter {key!r}" in line and repr(raw) in line and allowed in line, line


def test_good_params_still_run(tiny_db: Path) -> None:
    for name, pair in (("latency_over_time", "bucket=day"), ("slow_traces", "limit_count=0"),
                       ("latency_budgets", "budgets=chat=200,search=.5e3"), ("band_trace_spans", "band=0.5"),
                       ("trust_zone_violations", "regulated_tiers=device,edge"), ("latency_by_group", "tier=")):
        result = tierwise("query", name, "--db", str(tiny_db), "--param", pair, "--format", "csv")
        assert result.exit_code == 0, (name, pair, result.output)


HOSTILE = ("nan", "-inf", "99999999999999999999", "1e400", "-1", "zzz", "1=x", "")


def test_no_value_reaches_duckdb_unchecked(tiny_db: Path) -> None:
    """Every parameter of every query with hostile text: refused in one line naming it, or allowed; each query then
    runs once with the first hostile value each of its parameters allowed, without an error from DuckDB."""
    duck = DuckDBEngine.open(tiny_db)
    try:
        for query in registry.queries():
            allowed: dict[str, object] = {}
            for p in query.params:
                for raw in HOSTILE:
                    try:
                        value = registry.parse_params(query, [f"{p.name}={raw}"])[p.name]
                    except registry.QueryError as e:
                        assert "\n" not in str(e) and f"parameter {p.name!r}" in str(e), e
                        continue
                    allowed.setdefault(p.name, value)
            registry.run(duck, query.name, allowed)
    finally:
        duck.close()


def test_registry_checks_values_given_in_code_too(tiny_db: Path) -> None:
    duck = DuckDBEngine.open(tiny_db)
    try:
        with pytest.raises(registry.QueryError, match="parameter 'limit_count' must be a whole number"):
            registry.run(duck, "slow_traces", {"limit_count": -1})
        with pytest.raises(registry.QueryError, match="parameter 'band' must be a finite number"):
            registry.run(duck, "critical_path_shares", {"band": float("nan")})
    finally:
        duck.close()


def test_every_sql_file_is_declared_with_exactly_its_params() -> None:
    """No parameter is typed by guessing from its name: each SQL file has a declared entry naming all its `$params`."""
    declared = {q.sql: q for q in registry.queries() if q.sql is not None}
    assert sorted(set(loader.names()) - set(declared)) == []
    for name, query in declared.items():
        used = set(loader.placeholders(loader.sql(name)))
        assert used == {p.name for p in query.params}, name


def _not_duckdb(tmp: Path, tiny: Path) -> dict[str, Path]:
    """Files a mistaken --db may name: text, SQLite, a store cut short, a store with a damaged block."""
    text = tmp / "notes.txt"
    text.write_text("not a store\n", encoding="utf-8")
    lite = tmp / "app.sqlite"
    with sqlite3.connect(lite) as sq:
        sq.execute("CREATE TABLE t (x)")
    sq.close()
    cut = tmp / "cut.duckdb"
    cut.write_bytes(tiny.read_bytes()[:4096])
    damaged = tmp / "damaged.duckdb"
    shutil.copyfile(tiny, damaged)
    with damaged.open("r+b") as f:
        f.seek(3 * 4096)
        f.write(os.urandom(64 * 1024))
    return {"text": text, "sqlite": lite, "cut": cut, "damaged": damaged}


COMMANDS = [["query", "latency_by_tier"], ["summary"], ["metric", "requests"], ["recommend"],
            ["whatif", "--workload", "chat", "--to", "edge"], ["quarantine"], ["export", "focus", "--out", "o.csv"],
            ["migrate"], ["ingest", "--quiet", str(TINY / "metrics.jsonl")]]


def test_a_db_that_is_not_a_duckdb_store_gets_one_line(tiny_db: Path, tmp_path: Path) -> None:
    for kind, path in _not_duckdb(tmp_path, tiny_db).items():
        before = path.read_bytes()
        for command in COMMANDS:
            result = tierwise(*command, "--db", str(path))
            line = error_line(result)
            assert result.exit_code == 1, (kind, command, result.output)
            assert len(result.output.strip().splitlines()) == 1, (kind, command, result.output)
            said = "is a damaged DuckDB store" if kind in ("cut", "damaged") else "is not a DuckDB store"
            assert f"{path} {said}" in line, (kind, command, line)
        assert path.read_bytes() == before, kind  # no command wrote to it
