"""The appended derived tables (per-trace index, call ends): exact across batches, and the queries over them unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from ingest_helpers import FIXTURES

import store
from store import derived
from store.derived import trace_index

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "committed"
TINY_TRACES = FIXTURES / "tiny_store" / "traces.jsonl"
MIGRATION = ROOT / "store" / "migrations" / "0006_trace_index.sql"  # trace_roots, trace_parts (0015 drops them)
MIGRATION_0009 = ROOT / "store" / "migrations" / "0009_trace_profiles.sql"  # trace_profiles and its backfill
MIGRATION_0003 = ROOT / "store" / "migrations" / "0003_hops_view.sql"  # the hops view as a join over spans

TRACE_INDEX = tuple(d.table for d in trace_index.TABLES)


def _split_files(work: Path) -> list[Path]:
    """The tiny store's traces in two files, the first trace's resources split between them: two batches."""
    first, *rest = TINY_TRACES.read_text("utf-8").splitlines(keepends=True)
    resources = json.loads(first)["resourceSpans"]
    (work / "a.jsonl").write_text(json.dumps({"resourceSpans": resources[:1]}) + "\n", "utf-8")
    (work / "b.jsonl").write_text(json.dumps({"resourceSpans": resources[1:]}) + "\n" + "".join(rest), "utf-8")
    return [work / "a.jsonl", work / "b.jsonl"]


@pytest.fixture(scope="module")
def split_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("split")
    db, _ = ingest_isolated(work, _split_files(work))
    return db


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = ingest_isolated(tmp_path_factory.mktemp("sample_index"), [SAMPLE / "traces"])
    return db


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_trace_split_over_batches_adds_up(split_db: Path) -> None:
    split = _rows(split_db, "SELECT trace_id FROM trace_profiles GROUP BY trace_id HAVING count(*) > 1")
    assert split, "the fixture must put one trace in both files"
    con = store.connect(split_db, read_only=True)
    try:
        assert derived.mismatches(con, *TRACE_INDEX) == 0
    finally:
        con.close()
    (tid,) = split[0]
    want = _rows(split_db, f"SELECT count(*), count(DISTINCT tier) FROM spans WHERE trace_id = '{tid}'")[0]
    got = run_query(split_db, "slow_traces", {"workload_class": "all", "limit_count": 1000})
    row = got.filter(pl.col("trace_id") == tid)
    assert row.height and (row["spans"][0], row["tiers"][0]) == want


def _backfill(con: duckdb.DuckDBPyConnection, migration: Path, tables: tuple[str, ...]) -> None:
    """Empty `tables`, then run the migration's frozen INSERTs over the spans."""
    for table in tables:
        con.execute(f"DELETE FROM {table}")
    for statement in migration.read_text("utf-8").split(";\n"):
        code = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if code.startswith("INSERT"):
            con.execute(code)


@pytest.mark.parametrize(("migration", "tables"), [(MIGRATION_0009, ("trace_profiles",))])
def test_the_migration_backfill_equals_the_fold(split_db: Path, tmp_path: Path, migration: Path,
                                                tables: tuple[str, ...]) -> None:
    """A migration's frozen INSERTs, run over the spans, give the index the per-batch fold built."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(split_db, db)
    con = duckdb.connect(str(db))
    try:
        _backfill(con, migration, tables)
        for table in tables:
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] > 0
        assert derived.mismatches(con, *TRACE_INDEX) == 0
    finally:
        con.close()


def test_0006s_backfill_gives_the_keyed_rows_and_0015_drops_its_tables(split_db: Path, tmp_path: Path) -> None:
    """A store from before 0015 holds 0006's trace_roots and trace_parts: their frozen backfill over the spans gives
    the rows the fold keeps in trace_root_keys and trace_part_keys (keyed by the same expressions), and migrating
    drops both tables, leaving every derived table exact."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(split_db, db)
    con = duckdb.connect(str(db))
    try:
        con.execute(MIGRATION.read_text("utf-8"))  # the tables as a store before 0015 has them, backfilled
        con.execute("DELETE FROM schema_migrations WHERE version = 15")
        assert con.execute("SELECT count(*) FROM trace_roots").fetchall()[0][0] > 0
        keys = ", ".join(trace_index.TRACE_KEYS)
        merged = ("SELECT trace_key, odd_id, sum(spans)::BIGINT, bit_or(tier_bits) FROM ({}) GROUP BY ALL")
        assert derived.differing_rows(con, "SELECT * FROM trace_root_keys",
                                      f"SELECT {', '.join(trace_index.ROOT_KEYS)} FROM trace_roots") == 0
        assert derived.differing_rows(con, merged.format("SELECT * FROM trace_part_keys"),
                                      merged.format(f"SELECT {keys}, spans, tier_bits FROM trace_parts")) == 0
        assert store.migrate(con) == ["0015_drop_unread_trace_tables"]
        left = con.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_name IN ('trace_roots', 'trace_parts')").fetchall()
        assert left == [] and all(n == 0 for _, n in derived.check(con))
    finally:
        con.close()


def test_a_split_traces_profile_parts_differ_and_add_up(split_db: Path) -> None:
    """The trace split over two files has a trace_profiles row per batch, with different values; added up they are
    the values of all its spans (trace_index.mismatches compares them with a recomputation over spans)."""
    parts = _rows(split_db, "SELECT trace_id, count(*), count(DISTINCT profile), count(start_ns) FROM trace_profiles "
                            "GROUP BY trace_id HAVING count(*) > 1")
    assert parts and all(n == 2 and distinct == 2 and roots == 1 for _, n, distinct, roots in parts)


def test_ingesting_the_same_files_again_adds_nothing(tmp_path: Path) -> None:
    files = _split_files(tmp_path)
    db, _ = ingest_isolated(tmp_path, files)
    counts = ("SELECT (SELECT count(*) FROM trace_root_keys), (SELECT count(*) FROM trace_part_keys), "
              "(SELECT count(*) FROM trace_profiles)")
    before = _rows(db, counts)
    ingest_isolated(tmp_path, files)
    assert _rows(db, counts) == before and before[0][0] > 0


def _slow_traces_from_spans(spans: pl.DataFrame, tier: str | None, min_tiers: int, limit: int,
                            workload_class: str) -> pl.DataFrame:
    """slow_traces' definition over the spans themselves (what it computed before the index existed)."""
    batch = pl.col("workload_type").fill_null("").is_in(["training", "batch", "embedding"])
    roots = spans.filter(pl.col("parent_span_id").is_null() & pl.col("trace_id").is_not_null())
    if workload_class != "all":
        roots = roots.filter(batch if workload_class == "batch" else ~batch)
    if tier is not None:
        roots = roots.filter(pl.col("trace_id").is_in(spans.filter(pl.col("tier") == tier)["trace_id"].implode()))
    roots = roots.sort(["duration_ns", "trace_id"], descending=[True, False]).head(2000 if min_tiers > 1 else limit)
    sizes = spans.group_by("trace_id").agg(spans=pl.len().cast(pl.Int64), tiers=pl.col("tier").n_unique().cast(pl.Int64))
    return (roots.join(sizes, on="trace_id").filter(pl.col("tiers") >= min_tiers)
            .sort(["duration_ns", "trace_id"], descending=[True, False]).head(limit)
            .select("trace_id", "spans", "tiers"))


@pytest.mark.parametrize(("tier", "min_tiers", "workload_class"),
                         [(None, 1, "interactive"), (None, 1, "all"), (None, 1, "batch"), ("device", 1, "interactive"),
                          ("edge", 1, "all"), ("regional", 2, "interactive"), ("hyperscale", 3, "all"),
                          (None, 3, "interactive")])
def test_slow_traces_matches_its_definition_over_spans(sample_db: Path, tier: str | None, min_tiers: int,
                                                       workload_class: str) -> None:
    con = store.connect(sample_db, read_only=True)
    try:
        spans = con.sql("SELECT trace_id, parent_span_id, tier, workload_type, duration_ns FROM spans").pl()
    finally:
        con.close()
    want = _slow_traces_from_spans(spans, tier, min_tiers, 25, workload_class)
    got = run_query(sample_db, "slow_traces", {"tier": tier, "min_tiers_count": min_tiers, "limit_count": 25,
                                               "workload_class": workload_class})
    assert want.height > 0
    assert got.select("trace_id", "spans", "tiers").to_dicts() == want.to_dicts()


def test_a_named_workload_is_not_narrowed_by_the_default_class(sample_db: Path) -> None:
    batch = _rows(sample_db, "SELECT workload FROM trace_root_keys WHERE workload_type = 'batch' LIMIT 1")
    assert batch
    got = run_query(sample_db, "slow_traces", {"workload": batch[0][0]})
    assert got.height and set(got["workload"]) == {batch[0][0]}


def test_slow_traces_golden(split_db: Path) -> None:
    assert_golden("slow_traces", run_query(split_db, "slow_traces", {"workload_class": "all"}))
    assert_golden("slow_traces__edge_cross_tier", run_query(split_db, "slow_traces",
                                                            {"tier": "edge", "min_tiers_count": 2}))


def test_call_ends_are_exact_and_hops_pair_them_across_batches(split_db: Path) -> None:
    """hop_clients/hop_servers equal a recomputation, and the hops view over them equals 0003's join over spans."""
    con = store.connect(split_db, read_only=True)
    try:
        assert derived.mismatches(con, "hop_clients", "hop_servers") == 0
        view = "SELECT * FROM hops"
        over_spans = (MIGRATION_0003.read_text("utf-8").split("CREATE VIEW hops AS", 1)[1].rstrip().rstrip(";"))
        split = "SELECT count(*) FROM hops WHERE trace_id = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1' AND from_tier = 'device'"
        assert con.execute(split).fetchall()[0][0] > 0  # its client came in the first file, its server in the second
        assert derived.differing_rows(con, view, over_spans) == 0
    finally:
        con.close()
