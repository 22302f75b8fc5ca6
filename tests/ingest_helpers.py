"""Helpers for the ingest tests: run the real loader or CLI against a real DuckDB file and read rows back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

import store
from app.cli import cli
from ingest.sinks import loader
from store import derived
from store.settings import Settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures"
OTLP = FIXTURES / "otlp"
TINY = FIXTURES / "tiny_store"


@contextmanager
def isolated(workdir: Path) -> Iterator[None]:
    """For module-scoped fixtures: cwd is `workdir` and no TIERWISE_* variable of the developer's is set."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("TIERWISE_")]:
            mp.delenv(key)
        mp.chdir(workdir)
        yield


def ingest(db: Path, path: Path, settings: Settings | None = None, **kw: Any) -> loader.FileResult:
    """Ingest one file with the real loader into the store at `db`."""
    con = store.open_writer(db)
    try:
        return loader.ingest_file(con, path, settings or load_settings(db=db, env={}), **kw)
    finally:
        con.close()


@contextmanager
def dying_refresh(monkeypatch: pytest.MonkeyPatch, nth: int) -> Iterator[None]:
    """Inside: the `nth` fold of a committed batch into the derived tables raises KeyboardInterrupt after folding,
    as a kill before COMMIT would stop it; the real fold is back afterwards."""
    real, folded = derived.refresh, []

    def refresh_then_die(con: duckdb.DuckDBPyConnection, view: str) -> None:
        real(con, view)
        folded.append(view)
        if len(folded) == nth:
            raise KeyboardInterrupt

    monkeypatch.setattr(derived, "refresh", refresh_then_die)
    try:
        yield
    finally:
        monkeypatch.setattr(derived, "refresh", real)


def run_cli(*args: str) -> Result:
    """Invoke `tierwise ARGS...` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ingest_cli(workdir: Path, db: Path, *sources: Path) -> str:
    """Load `sources` into the store at `db` with the real `tierwise ingest --quiet`, run in `workdir` free of the
    developer's TIERWISE_* settings; fails the test unless it exits 0. Its output."""
    with isolated(workdir):
        loaded = run_cli("ingest", "--quiet", "--db", str(db), *map(str, sources))
    assert loaded.exit_code == 0, loaded.output
    return loaded.output


def tiny_store(workdir: Path, files: Sequence[str] = ("traces.jsonl",), says: str = "") -> Path:
    """workdir/tiny.duckdb: the `files` of tests/fixtures/tiny_store/ (its traces unless told), loaded by `ingest_cli`,
    whose output must contain `says`."""
    db = workdir / "tiny.duckdb"
    output = ingest_cli(workdir, db, *(TINY / f for f in files))
    assert says in output
    return db


def rows(db: Path, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a read-only query as dicts; JSON columns come back parsed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params or {})
        names = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            out.append({n: _maybe_json(n, v) for n, v in zip(names, r, strict=True)})
        return out
    finally:
        con.close()


JSON_COLUMNS = {"attributes", "resource_attributes", "scope_attributes", "events", "links", "exemplars",
                "quantile_values"}


def _maybe_json(name: str, v: Any) -> Any:
    return json.loads(v) if name in JSON_COLUMNS and isinstance(v, str) else v


def count(db: Path, table: str) -> int:
    """Rows in one of the store's tables."""
    assert table in {"spans", "metric_points", "quarantine", "ingest_batches", "ingest_files"}
    return int(rows(db, f"SELECT count(*) AS n FROM {table}")[0]["n"])


def frozen_backfill(con: duckdb.DuckDBPyConnection, migration: str, table: str) -> list[tuple[Any, ...]]:
    """The rows migration `migration`'s frozen `INSERT INTO table` writes over the store's current spans, sorted (run
    into a temporary copy of the table, which is left as it is)."""
    text = (Path(store.__file__).parent / "migrations" / migration).read_text("utf-8")
    start = text.index(f"INSERT INTO {table}\n")
    backfill = text[start:text.index(";", start)]
    con.execute(f"CREATE TEMP TABLE frozen_{table} AS SELECT * FROM {table} LIMIT 0")
    con.execute(backfill.replace(f"INSERT INTO {table}", f"INSERT INTO frozen_{table}", 1))
    return con.execute(f"SELECT * FROM frozen_{table} ORDER BY ALL").fetchall()
