"""Shared machinery for query goldens: a store built by the real CLI, canonical CSV, and the golden compare."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import polars as pl
from ingest_helpers import isolated, run_cli
from polars.testing import assert_frame_equal

from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def canonical(frame: pl.DataFrame) -> str:
    """CSV with floats rounded to 6 places, the form goldens are stored in."""
    return frame.with_columns(pl.col(pl.Float64, pl.Float32).round(6)).write_csv()


def ingest_isolated(workdir: Path, sources: Sequence[Path]) -> tuple[Path, str]:
    """Load `sources` with `tierwise ingest` into workdir/tiny.duckdb, free of the developer's TIERWISE_* settings."""
    db = workdir / "tiny.duckdb"
    with isolated(workdir):
        result = run_cli("ingest", "--quiet", "--db", str(db), *map(str, sources))
    assert result.exit_code == 0, result.output
    return db, result.output


def run_query(db: Path, name: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """A registered query's rows, on the store opened read-only as the app and CLI open it."""
    engine = DuckDBEngine.open(db)
    try:
        return registry.run(engine, name, params)
    finally:
        engine.close()


def assert_golden(stem: str, frame: pl.DataFrame) -> str:
    """Compare with tests/golden/<stem>.csv (UPDATE_GOLDEN=1 rewrites it); returns the canonical CSV."""
    got = canonical(frame)
    path = GOLDEN / f"{stem}.csv"
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
    return got


def assert_golden_and_cli(db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    """The query's rows equal tests/golden/<stem>.csv, and `tierwise query NAME --format csv` prints the same rows."""
    got = assert_golden(stem, run_query(db, name, params))
    args = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    result = run_cli("query", name, "--db", str(db), "--format", "csv", *args)
    assert result.exit_code == 0, result.output
    printed = pl.read_csv(io.StringIO(result.stdout)) if result.stdout.strip() else pl.DataFrame()
    golden = pl.read_csv(GOLDEN / f"{stem}.csv") if got.strip() else pl.DataFrame()
    assert_frame_equal(printed.with_columns(pl.col(pl.Float64).round(6)), golden, check_dtypes=False, abs_tol=1e-6)
