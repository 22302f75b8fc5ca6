"""The p50/p95 band traces chosen in SQL (band_trace_spans) are the ones the polars rank picks, sampled deterministically."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from ingest_helpers import FIXTURES
from polars.testing import assert_frame_equal

import store
from queries import critical_path, registry, slow_path
from queries.engines.duckdb_engine import DuckDBEngine
from store import derived
from store.derived import trace_index

# (workload, traces): "wide" above the 2,000-trace size where the SQL ranks only the traces at a band's edges and
# samples from under a cut on md5 (its end-to-end times repeat, so ranks at the edges are decided by trace_id), the
# others below it
WORKLOADS = (("wide", 2600), ("big", 500), ("mid", 120), ("tiny", 3), ("one", 1))
UNNAMED = 5
TIED = 300  # distinct end-to-end times among the wide workload's traces

TRACE_INDEX = tuple(d.table for d in trace_index.TABLES)


def _spans() -> pl.DataFrame:
    """Traces of a device root calling an edge server that calls a regional model; distinct end-to-end times except
    in the wide workload; every seventh wide or big trace has a second, shorter parentless span (trace_root_dups)."""
    rng = random.Random(7)
    rows = []
    durations = rng.sample(range(10_000, 10_000_000), sum(n for _, n in WORKLOADS) + UNNAMED)
    tied = rng.sample(range(10_000, 10_000_000), TIED)
    # the last UNNAMED traces have a root without a workload: they belong to "mid", the workload their spans declare
    plan = [(w, t, w) for w, n in WORKLOADS for t in range(n)] + [(None, 10_000 + t, "mid") for t in range(UNNAMED)]
    for root_workload, t, workload in plan:
        e2e = durations.pop() if root_workload != "wide" else rng.choice(tied)
        # every fourth id is not ingest's 32 lowercase hex digits (a store written around the loader): keyed by its text
        tid = f"{rng.getrandbits(128):032x}" if t % 4 else f"Odd-{rng.getrandbits(64):X}"
        start = 1_764_000_000_000_000_000 + t * 10_000_000_000
        hop = rng.randrange(1, e2e // 4)
        model = rng.randrange(1, e2e - 2 * hop)
        spans = [("r", None, start, start + e2e, "device", "client", "ask"),
                 ("s", "r", start + hop, start + e2e - hop, "edge", "server", "serve"),
                 ("m", "s", start + hop + 1, start + hop + 1 + model, "regional", "internal", "generate")]
        if root_workload in ("wide", "big") and t % 7 == 0:
            spans.append(("x", None, start + 1, start + 1 + e2e // 2, "device", "internal", "cleanup"))
        for sid, parent, lo, hi, tier, kind, name in spans:
            rows.append({"trace_id": tid, "span_id": f"{t:08x}{sid:0>8}", "parent_span_id":
                         None if parent is None else f"{t:08x}{parent:0>8}", "name": name, "kind": kind,
                         "status_code": "unset", "service_name": tier, "tier": tier, "tier_source": "declared",
                         "site": tier, "workload": root_workload if parent is None else workload, "start_ns": lo,
                         "end_ns": hi, "duration_ns": hi - lo, "batch_key": "test"})
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("band") / "store.duckdb"
    con = store.open_writer(path)
    try:
        con.register("new_spans", _spans().to_arrow())
        con.execute("INSERT INTO spans BY NAME SELECT * FROM new_spans")
        derived.rebuild(con)  # written around the loader: recompute the per-trace index the queries read
    finally:
        con.close()
    return path


def _fetch(db: Path, name: str, **params: object) -> pl.DataFrame:
    engine = DuckDBEngine.open(db)
    try:
        return registry.fetch(engine, name, params)
    finally:
        engine.close()


@pytest.mark.parametrize("band", [0.0, 0.05, 0.2])
def test_sql_bands_are_the_polars_rank_bands(db: Path, band: float) -> None:
    flagged = _fetch(db, "band_trace_spans", workload=None, start_ns=None, end_ns=None, band=band,
                     traces_per_band=None)
    all_spans = _fetch(db, "trace_spans", workload=None, start_ns=None, end_ns=None).lazy()
    traces = critical_path.trace_parts(all_spans).select("workload", "trace_id", "e2e_ns").unique()
    for q, flag in ((0.5, "in_p50"), (0.95, "in_p95")):
        want = set(critical_path.pick_traces(traces, q, band).collect()["trace_id"])
        assert set(flagged.filter(pl.col(flag))["trace_id"]) == want
    # whole traces come back: every span of every flagged trace
    per_trace = all_spans.group_by("trace_id").len().collect()
    assert flagged.group_by("trace_id").len().join(per_trace, on="trace_id").filter(
        pl.col("len") != pl.col("len_right")).height == 0


def test_shares_and_slow_path_equal_the_all_spans_computation(db: Path) -> None:
    duck = DuckDBEngine.open(db)
    try:
        shares = registry.run(duck, "critical_path_shares", {"traces_per_band": None})
        path = registry.run(duck, "slow_path", {"traces_per_band": None})
    finally:
        duck.close()
    all_spans = _fetch(db, "trace_spans", workload=None, start_ns=None, end_ns=None).lazy()
    assert shares["traces"].to_list().count(1) >= 2  # tiny and one: the nearest trace alone
    assert_frame_equal(shares, critical_path.critical_path_shares(all_spans).collect())
    assert_frame_equal(path, slow_path.slow_path(all_spans).collect())


def test_sampling_caps_each_band_deterministically(db: Path) -> None:
    params = {"workload": None, "start_ns": None, "end_ns": None, "band": 0.05}
    full = _fetch(db, "band_trace_spans", **params, traces_per_band=None)
    capped = _fetch(db, "band_trace_spans", **params, traces_per_band=20)
    assert capped.equals(_fetch(db, "band_trace_spans", **params, traces_per_band=20))
    for flag in ("in_p50", "in_p95"):
        per = (capped.filter(pl.col(flag)).group_by("workload").agg(pl.col("trace_id").n_unique())
               .rows_by_key("workload", unique=True))
        band = (full.filter(pl.col(flag)).group_by("workload").agg(pl.col("trace_id").n_unique())
                .rows_by_key("workload", unique=True))
        assert band["big"][0] > 20 and per["big"] == (20,)
        assert per["tiny"] == band["tiny"] and per["one"] == band["one"]
        assert set(capped.filter(pl.col(flag))["trace_id"]) <= set(full.filter(pl.col(flag))["trace_id"])
        # the wide band's inside (~250 traces) is sampled from under a cut on md5: still exactly its 20 lowest digests
        inside = set(full.filter(pl.col(flag) & (pl.col("workload") == "wide"))["trace_id"])
        lowest = sorted(inside, key=lambda t: hashlib.md5(t.encode()).hexdigest())[:20]
        assert len(inside) > 4 * 20 + 128 and set(capped.filter(pl.col(flag) & (pl.col("workload") == "wide"))
                                                  ["trace_id"]) == set(lowest)


def test_the_store_lists_the_traces_with_several_roots(db: Path) -> None:
    """trace_root_dups names exactly the traces with a second parentless span; the bands above cover them."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        dups = con.execute("SELECT count(*) FROM trace_root_dups").fetchall()[0][0]
        assert derived.mismatches(con, *TRACE_INDEX) == 0
    finally:
        con.close()
    assert dups == len(range(0, 2600, 7)) + len(range(0, 500, 7))


def test_wide_band_edges_split_equal_times_by_trace_id(db: Path) -> None:
    """Some end-to-end time has traces inside and outside a wide band: its rank decides, as pick_traces ranks."""
    flagged = _fetch(db, "band_trace_spans", workload="wide", start_ns=None, end_ns=None, band=0.05,
                     traces_per_band=None)
    all_spans = _fetch(db, "trace_spans", workload="wide", start_ns=None, end_ns=None).lazy()
    traces = critical_path.trace_parts(all_spans).select("workload", "trace_id", "e2e_ns").unique().collect()
    for flag in ("in_p50", "in_p95"):
        chosen = set(flagged.filter(pl.col(flag))["trace_id"])
        split = (traces.with_columns(pl.col("trace_id").is_in(list(chosen)).alias("in_band"))
                 .group_by("e2e_ns").agg(pl.col("in_band").n_unique().alias("sides")))
        assert split.filter(pl.col("sides") == 2).height > 0


@pytest.mark.parametrize("workload", [w for w, _ in WORKLOADS])
def test_a_workload_filter_gives_that_workloads_rows_of_the_unfiltered_call(db: Path, workload: str) -> None:
    """So the dashboard can narrow one all-workload result instead of querying per workload (unnamed roots too)."""
    duck = DuckDBEngine.open(db)
    try:
        for name in ("critical_path_shares", "slow_path"):
            one = registry.run(duck, name, {"workload": workload, "traces_per_band": 20})
            every = registry.run(duck, name, {"traces_per_band": 20})
            assert one.height > 0
            assert_frame_equal(one, every.filter(pl.col("workload") == workload))
    finally:
        duck.close()
    if workload == "mid":  # its unnamed-root traces are in its bands: the root span row has no workload of its own
        spans = _fetch(db, "band_trace_spans", workload="mid", start_ns=None, end_ns=None, band=0.05,
                       traces_per_band=None)
        assert spans["workload"].null_count() > 0


def test_a_workload_filter_keeps_only_its_traces(db: Path) -> None:
    out = _fetch(db, "band_trace_spans", workload="mid", start_ns=None, end_ns=None, band=0.05, traces_per_band=None)
    assert set(out["workload"]) == {"mid", None}  # None: the root spans of its unnamed-root traces
    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM spans WHERE workload = 'mid' AND parent_span_id IS NULL").fetchone()
    finally:
        con.close()
    assert n == (120,) and 0 < out["trace_id"].n_unique() < 60


@pytest.mark.parametrize(("stem", "name", "params"), [
    ("band_trace_spans", "band_trace_spans", {}),
    ("band_trace_spans__band_0", "band_trace_spans", {"band": 0.0}),
    ("slow_attribute_counts", "slow_attribute_counts", {}),
])
def test_golden_rows_on_the_tiny_store(tmp_path: Path, stem: str, name: str, params: dict[str, object]) -> None:
    db, output = ingest_isolated(tmp_path, [FIXTURES / "tiny_store" / "traces.jsonl"])
    assert "56 accepted, 0 rejected" in output
    assert_golden(stem, run_query(db, name, params))


def test_the_root_keys_backfill_equals_the_fold(db: Path, tmp_path: Path) -> None:
    """Migration 0010's frozen INSERTs, run over the spans, give the trace_root_keys and trace_part_keys rows ingest
    appends: trace_id's value when it is 32 lowercase hex digits (else its text), md5(trace_id)'s value, and the
    root's fields; each trace's parts keyed alike."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    migration = Path(__file__).resolve().parents[1] / "store" / "migrations" / "0010_trace_keys.sql"
    inserts = ["INSERT INTO" + part for part in migration.read_text("utf-8").split("INSERT INTO")[1:]]
    con = duckdb.connect(str(copy))
    try:
        con.execute("DELETE FROM trace_root_keys")
        con.execute("DELETE FROM trace_part_keys")
        for insert in inserts:
            con.execute(insert)
        assert len(inserts) == 2 and derived.mismatches(con, *TRACE_INDEX) == 0
        parts = con.execute("SELECT count(*) FROM trace_part_keys").fetchall()[0][0]
        con.execute("DELETE FROM trace_part_keys WHERE rowid = (SELECT min(rowid) FROM trace_part_keys)")
        assert parts > 0 and derived.mismatches(con, *TRACE_INDEX) > 0  # the check covers the keyed parts too
        keys = con.execute("SELECT trace_key, odd_id, sample_key, workload, start_ns, duration_ns "
                           "FROM trace_root_keys").fetchall()
        roots = con.execute("SELECT trace_id, workload, start_ns, duration_ns FROM spans "
                            "WHERE parent_span_id IS NULL AND trace_id IS NOT NULL").fetchall()
    finally:
        con.close()

    def expected(tid: str, *rest: object) -> tuple[object, ...]:
        hexed = re.fullmatch("[0-9a-f]{32}", tid) is not None
        return (int(tid, 16) if hexed else None, None if hexed else tid,
                int(hashlib.md5(tid.encode()).hexdigest(), 16), *rest)

    assert any(k[1] is not None for k in keys) and any(k[0] is not None for k in keys)
    assert sorted(keys, key=repr) == sorted((expected(*r) for r in roots), key=repr)


def test_clickhouse_chooses_the_same_band_traces(db: Path) -> None:
    """The wide workload's edge zones, md5 cut and duplicate roots give the same rows on ClickHouse (chdb)."""
    from test_engine_parity import assert_same_rows, copy_store

    from queries.engines import dialect, engine
    from store.clickhouse.client import ClickHouseClient

    duck = DuckDBEngine.open(db)
    client = ClickHouseClient("chdb://", settings=dialect.SETTINGS)
    try:
        copy_store(duck.con, client)
        click = engine.ClickHouseEngine(client)
        for params in ({"traces_per_band": 20}, {"traces_per_band": None, "workload": "wide"}, {"band": 0.0}):
            rows = registry.run(duck, "band_trace_spans", params)
            assert rows.height > 0
            assert_same_rows(rows, registry.run(click, "band_trace_spans", params))
    finally:
        client.close()
        duck.close()
