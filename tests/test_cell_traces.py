"""cell_traces (a heatmap cell's traces) and data_extent: goldens, the CLI, and agreement with the semantic model: for
every cell, its traces are exactly those of the entries the heatmap's measure counts, and their requests add up to it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from golden_support import assert_golden_and_cli, run_query
from ingest_helpers import TINY, ingest_cli

from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as model_metric

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"
BATCH = ("training", "batch", "embedding")

CASES: list[tuple[str, str, dict[str, object]]] = [
    ("cell_traces", "cell_traces", {"tier": "edge"}),
    ("cell_traces__regional_by_site", "cell_traces", {"tier": "regional", "by_site": "yes", "limit_count": 5}),
    ("cell_traces__device_kiosk", "cell_traces", {"tier": "device", "workload": "kiosk"}),
    ("data_extent", "data_extent", {}),
]
OWNED_SQL = {"cell_traces", "data_extent"}


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("cells_tiny")
    db = work / "tiny.duckdb"
    ingest_cli(work, db, TINY / "traces.jsonl")
    return db


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("cells_sample")
    db = work / "sample.duckdb"
    ingest_cli(work, db, *sorted((SAMPLE / "traces").glob("*.jsonl.gz"))[:4])
    return db


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows_and_cli(tiny_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    assert_golden_and_cli(tiny_db, stem, name, params)


def test_every_owned_sql_has_a_golden() -> None:
    assert {name for _, name, _ in CASES} >= OWNED_SQL


def _entry_traces(db: Path, tier: str, col: str, value: str | None, across_sites: bool,
                  workload_type: str | None) -> set[str]:
    """The traces of the entries the model counts for a cell, read from request_entries as the model reads it."""
    crossed = "parent_tier IS DISTINCT FROM tier" + (" OR parent_site IS DISTINCT FROM site" if across_sites else "")
    kind = "coalesce(workload_type, '') NOT IN ('training', 'batch', 'embedding')" if workload_type is None \
        else "workload_type = $wt"
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            f"SELECT DISTINCT lpad(lower(hex(trace_key)), 32, '0') FROM request_entries "
            f"WHERE (is_root OR NOT parent_found OR {crossed}) AND {kind} AND tier = $tier "
            f"AND {col} IS NOT DISTINCT FROM $v", {"tier": tier, "v": value,
                                                   **({"wt": workload_type} if workload_type else {})}).fetchall()
    finally:
        con.close()
    return {r[0] for r in got}


@pytest.mark.parametrize("by", [("tier", "workload"), ("tier", "site"), ("tier", "workload", "workload_type"),
                                ("tier", "site", "workload_type")])
def test_each_cells_traces_are_the_traces_its_measure_counts(sample_db: Path, by: tuple[str, ...]) -> None:
    duck = DuckDBEngine.open(sample_db)
    try:
        cells = model_metric.run(duck, model_metric.Request(("requests", "requests_sampled"), by))
        assert cells.height >= 4
        col = by[1]
        for cell in cells.iter_rows(named=True):
            wt = cell.get("workload_type")
            params = {"tier": cell["tier"], col: cell[col], "by_site": "yes" if col == "site" else "no",
                      "workload_type": wt, "limit_count": 10**9}
            traces = run_query(sample_db, "cell_traces", params)
            where = f"{cell['tier']} × {cell[col]} ({wt})"
            assert traces["entries"].sum() == cell["requests_sampled"], where
            assert traces["requests"].sum() == pytest.approx(cell["requests"], rel=1e-9), where
            assert set(traces["trace_id"]) == _entry_traces(sample_db, cell["tier"], col, cell[col], col == "site",
                                                            wt), where
            assert traces["trace_id"].n_unique() == traces.height
            assert traces["entry_ms"].to_list() == sorted(traces["entry_ms"].to_list(), reverse=True)
    finally:
        duck.close()


def test_batch_work_is_left_out_unless_its_type_is_named(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        kinds = dict(con.execute("SELECT workload, any_value(workload_type) FROM spans WHERE workload IS NOT NULL "
                                 "GROUP BY ALL").fetchall())
    finally:
        con.close()
    batch = sorted(w for w, t in kinds.items() if t in BATCH)
    assert batch, "the sample has batch or training work"
    for tier in ("edge", "regional", "hyperscale"):
        plain = run_query(sample_db, "cell_traces", {"tier": tier, "limit_count": 10**9})
        assert not set(plain["workload"]) & set(batch)
    named = [run_query(sample_db, "cell_traces", {"tier": t, "workload": w, "workload_type": kinds[w]})
             for w in batch for t in ("edge", "regional", "hyperscale")]
    assert sum(f.height for f in named) > 0
