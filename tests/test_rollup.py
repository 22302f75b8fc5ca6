"""Latency roll-up: bucket arithmetic on both engines, the 1 % bound against exact percentiles, ingest consistency."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import FIXTURES, ingest

from ingest import derived, rollup, store
from ingest.settings import load_settings
from queries import loader as query_loader
from queries import registry

TINY = FIXTURES / "tiny_store" / "traces.jsonl"
SCHEMA = Path(__file__).parents[1] / "ingest"
MINUTE_NS = 60_000_000_000
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
# The stated bound: each p* is within ALPHA of quantile_cont over the same spans; the bucket index comes from a
# rounded double, so a duration within ~1e-13 of a bucket edge may land next door: allow that much on top.
BOUND = rollup.ALPHA + 1e-9


def quantile_cont(values: list[int], q: float) -> float:
    """The exact interpolated percentile DuckDB's quantile_cont (R-7) computes."""
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def assert_within(estimate_ms: float, exact_ms: float) -> None:
    if exact_ms == 0:
        assert estimate_ms == 0
    else:
        assert abs(estimate_ms - exact_ms) <= BOUND * abs(exact_ms), (estimate_ms, exact_ms)


# ---------------------------------------------------------------------------------------------- buckets


def _edge_values() -> list[int]:
    """Integers on and around every bucket edge γ^i up to 2^62 ns, plus 0, 1 ns, 1 h and negatives."""
    out = {-5, 0, 1, 2, 3, 3_600_000_000_000}
    i = 1
    while True:
        edge = rollup.GAMMA ** i
        if edge > 2 ** 62:
            break
        for d in range(math.floor(edge) - 1, math.ceil(edge) + 2):
            if d > 0:
                out.add(d)
        i += 1
    return sorted(out)


@pytest.fixture(scope="module")
def edge_values() -> list[int]:
    return _edge_values()


def test_bucket_holds_its_values(edge_values: list[int]) -> None:
    """γ^(b-1) < d ≤ γ^b in exact arithmetic (γ = 101/99), so the representative is within α of d."""
    gamma = Fraction(101, 99)
    ln_gamma = math.log(101 / 99)
    for d in edge_values:
        b = rollup.bucket_of(d)
        if d <= 0:
            assert b == rollup.ZERO_BUCKET and rollup.representative_ns(b) == 0
            continue
        # exact comparison with integers: γ^b ≥ d ⇔ 101^b ≥ d·99^b (b up to ~2200: Python ints are exact)
        near_edge = abs(math.log(d) / ln_gamma - round(math.log(d) / ln_gamma)) < 1e-9
        if not near_edge:
            assert gamma ** b >= d > gamma ** (b - 1), d
        assert abs(rollup.representative_ns(b) - d) <= BOUND * d, d


def test_duckdb_and_clickhouse_agree_on_every_bucket_edge(tmp_path: Path, edge_values: list[int]) -> None:
    pytest.importorskip("chdb")
    from ingest.clickhouse.client import ClickHouseClient

    durations = pa.table({"duration_ns": pa.array(edge_values, pa.int64())})
    duck = duckdb.connect()
    duck.register("durations", durations)
    in_duckdb = duck.execute(f"SELECT duration_ns, {rollup.BUCKET_SQL} FROM durations ORDER BY 1").fetchall()
    ch = ClickHouseClient(f"chdb://{tmp_path / 'ch'}")
    try:
        ch.command("CREATE TABLE durations (duration_ns Int64) ENGINE = MergeTree ORDER BY duration_ns")
        ch.insert_arrow("durations", durations)
        got = ch.query_arrow(f"SELECT duration_ns, {rollup.BUCKET_SQL} AS b FROM durations ORDER BY duration_ns")
    finally:
        ch.close()
    in_clickhouse = list(zip(got.column(0).to_pylist(), got.column(1).to_pylist(), strict=True))
    python = [(d, rollup.bucket_of(d)) for d in edge_values]
    assert len(python) > 6000
    assert in_duckdb == python
    assert in_clickhouse == python


def test_every_engine_file_uses_the_same_bucket_expression() -> None:
    """The arithmetic is written out in three places; the constants must not drift apart."""
    needle = "CAST(ceil(ln(duration_ns) * 49.99833328888678) AS INTEGER)"
    assert needle in rollup.BUCKET_SQL
    assert needle in (SCHEMA / "migrations" / "0005_latency_rollup.sql").read_text("utf-8")
    assert needle in (SCHEMA / "clickhouse" / "schema" / "0090_latency_rollup.sql").read_text("utf-8")
    assert 1 / math.log(rollup.GAMMA) == rollup.INV_LN_GAMMA
    assert math.log(rollup.GAMMA) == rollup.LN_GAMMA
    for name in ("latency_rollup_by_tier", "latency_rollup_over_time", "latency_rollup_by_group"):
        text = (SCHEMA.parent / "queries" / f"{name}.sql").read_text("utf-8")
        assert "exp(bucket * 0.020000666706669435) * 0.9900000000000001" in text
    assert 2 / (1 + rollup.GAMMA) == 0.9900000000000001


# ----------------------------------------------------------------------------------- the error bound


def _span_table(durations: dict[str, list[int]], minutes: int) -> pa.Table:
    """Request spans per tier, spread over `minutes` minutes, with the columns the roll-up reads."""
    rows: dict[str, list[object]] = {k: [] for k in ("name", "kind", "status_code", "tier", "tier_source",
                                                     "start_ns", "end_ns", "duration_ns", "parent_span_id",
                                                     "workload", "service_name", "site", "workload_type")}
    rng = random.Random(7)
    for tier, values in durations.items():
        for i, d in enumerate(values):
            start = T0 + (i % minutes) * MINUTE_NS + rng.randrange(MINUTE_NS)
            for key, v in (("name", f"op{i % 3}"), ("kind", "server"), ("status_code", "error" if i % 17 == 0 else "ok"),
                           ("tier", tier), ("tier_source", "declared"), ("start_ns", start), ("end_ns", start + d),
                           ("duration_ns", d), ("parent_span_id", "00000000000000aa"), ("workload", "w"),
                           ("service_name", f"svc-{tier}"), ("site", None), ("workload_type", None)):
                rows[key].append(v)
    return pa.table({k: pa.array(v, pa.int64() if k.endswith("_ns") else pa.string()) for k, v in rows.items()})


@pytest.fixture
def synthetic(tmp_path: Path) -> Iterator[Callable[[dict[str, list[int]], int, int], duckdb.DuckDBPyConnection]]:
    """A migrated store whose spans and roll-up are loaded in `batches` slices through the derived-table step."""
    con = store.open_writer(tmp_path / "synthetic.duckdb")

    def load(durations: dict[str, list[int]], minutes: int, batches: int) -> duckdb.DuckDBPyConnection:
        table = _span_table(durations, minutes)
        step = math.ceil(table.num_rows / batches)
        for k in range(batches):
            part = table.slice(k * step, step)
            con.register("part", part)
            con.execute("INSERT INTO spans BY NAME SELECT *, 'synthetic' AS batch_key FROM part").fetchall()
            rollup.fold_batch(con, "part")
            con.unregister("part")
        return con

    yield load
    con.close()


def _distributions(n: int) -> dict[str, list[int]]:
    rng = random.Random(42)
    return {
        "device": [int(rng.lognormvariate(math.log(50e6), 1.0)) for _ in range(n)],  # lognormal around 50 ms
        "edge": [int(1e6 * rng.paretovariate(1.1)) for _ in range(n)],  # heavy tail from 1 ms
        "regional": [rng.randrange(0, 40) for _ in range(n)],  # tiny: 0–39 ns, zeros included
        "hyperscale": [rng.choice((1, rng.randrange(3_600_000_000_000, 36_000_000_000_000))) for _ in range(n)],
    }


def test_percentiles_within_one_percent_of_quantile_cont(synthetic: Callable[..., duckdb.DuckDBPyConnection]) -> None:
    values = _distributions(6000)
    con = synthetic(values, 45, 4)
    assert rollup.mismatches(con) == 0
    got = registry.run(con, "latency_rollup_by_tier", {"workload_class": "all"}).rows_by_key("tier", named=True,
                                                                                              unique=True)
    assert set(got) == set(values)
    for tier, durations in values.items():
        row = got[tier]
        assert row["requests"] == len(durations)
        assert row["mean_ms"] == pytest.approx(sum(durations) / len(durations) / 1e6, rel=1e-12)
        for q, col in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
            assert_within(row[col], quantile_cont(durations, q) / 1e6)
    # and the same against the exact query itself, per tier
    exact = registry.run(con, "latency_by_tier", {"workload_class": "all"}).rows_by_key("tier", named=True,
                                                                                        unique=True)
    for tier, row in got.items():
        for col in ("p50_ms", "p95_ms", "p99_ms"):
            assert_within(row[col], exact[tier][col])


def test_small_groups_per_minute_within_the_bound(synthetic: Callable[..., duckdb.DuckDBPyConnection]) -> None:
    """Many groups of 1–40 spans (where interpolation between ranks matters most), by minute and operation."""
    values = _distributions(400)
    con = synthetic(values, 31, 3)  # 31 minutes × 3 operations × 4 tiers, about 4 spans each
    got = registry.run(con, "latency_rollup_by_group", {"bucket": "minute"})
    exact = registry.run(con, "latency_by_group", {"bucket": "minute"})
    joined = got.with_columns(pl.from_epoch("bucket_start_ns", "ns").alias("bucket_start")).join(
        exact.with_columns(pl.col("bucket_start").cast(pl.Datetime("ns"))),
        on=["bucket_start", "tier", "site", "workload", "service_name", "operation"], how="full", nulls_equal=True)
    assert joined.height == exact.height == got.height > 300
    assert (joined["requests"] == joined["requests_right"]).all()
    for col in ("p50_ms", "p95_ms", "p99_ms"):
        for est, ex in zip(joined[col], joined[f"{col}_right"], strict=True):
            assert_within(est, ex)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.integers(-10, 5), st.integers(1, 10**6), st.integers(10**9, 10**13)),
                min_size=1, max_size=60))
def test_any_durations_within_the_bound(durations: list[int]) -> None:
    con = duckdb.connect()
    table = _span_table({"edge": durations}, 1)
    con.register("part", table)
    con.execute("CREATE TABLE latency_rollup AS " + rollup.histogram_sql("part")).fetchall()
    row = query_loader.fetch(con, "latency_rollup_by_tier", start_ns=None, end_ns=None, tier=None, workload=None,
                       workload_class="all").row(0, named=True)
    con.close()
    assert row["requests"] == len(durations)
    for q, col in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = quantile_cont(durations, q) / 1e6
        if min(durations) > 0:
            assert_within(row[col], exact)
        else:  # durations ≤ 0 report as 0: the error is at most α·|exact| plus the clipped negative part
            assert abs(row[col] - exact) <= BOUND * abs(exact) + max(0, -min(durations)) / 1e6


@pytest.mark.parametrize(("start_h", "end_h"), [(None, None), (24, 72), (3, 53), (None, 29), (30, None), (5, 6)])
def test_windows_read_whole_days_and_minute_edges(synthetic: Callable[..., duckdb.DuckDBPyConnection],
                                                  start_h: int | None, end_h: int | None) -> None:
    """Windows over 3 days, aligned to days or not: the same spans as the exact query, percentiles within the bound."""
    values = _distributions(1500)
    con = synthetic(values, 3 * 1440 + 7, 2)
    window = {"start_ns": None if start_h is None else T0 + start_h * 3_600_000_000_000,
              "end_ns": None if end_h is None else T0 + end_h * 3_600_000_000_000}
    got = registry.run(con, "latency_rollup_by_tier", {**window, "workload_class": "all"})
    exact = registry.run(con, "latency_by_tier", {**window, "workload_class": "all"})
    assert got["tier"].to_list() == exact["tier"].to_list()
    assert got["requests"].to_list() == exact["requests"].to_list()
    assert got["mean_ms"].to_list() == pytest.approx(exact["mean_ms"].to_list(), rel=1e-12)
    for col in ("p50_ms", "p95_ms", "p99_ms"):
        for est, ex in zip(got[col], exact[col], strict=True):
            assert_within(est, ex)
    for bucket in ("hour", "day", "week"):
        over = registry.run(con, "latency_rollup_over_time", {**window, "bucket": bucket})
        ex = registry.run(con, "latency_over_time", {**window, "bucket": bucket})
        assert over["requests"].to_list() == ex["requests"].to_list()
        assert [b * 1000 for b in over["bucket_start_ns"].to_list()] == [
            int(t.timestamp() * 1e6) * 1_000_000 for t in ex["bucket_start"].to_list()]
        for est, e in zip(over["p95_ms"], ex["p95_ms"], strict=True):
            assert_within(est, e)


# ------------------------------------------------------------------------- ingest keeps it consistent


def _selected(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    spans = con.execute(f"SELECT count(*) FROM spans WHERE {rollup.REQUESTS_SQL}").fetchall()[0][0]
    rolled = con.execute("SELECT coalesce(sum(n), 0) FROM latency_rollup WHERE width_ns = $w", {"w": rollup.MINUTE_NS})
    rolled = rolled.fetchall()[0][0]
    return int(spans), int(rolled)


def test_ingest_and_reingest_keep_the_rollup_exact(db_path: Path) -> None:
    first = ingest(db_path, TINY)
    second = ingest(db_path, TINY)
    assert first.accepted == 56 and second.status == "already-ingested"
    con = store.connect(db_path, read_only=True)
    try:
        assert rollup.mismatches(con) == 0
        spans, rolled = _selected(con)
        assert spans == rolled > 0
        # one row per key and bucket: the merge compacts partial rows from different batches
        keys = ", ".join(rollup.KEYS)
        dup = con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM latency_rollup GROUP BY ALL HAVING count(*) > 1)")
        assert dup.fetchall()[0][0] == 0
    finally:
        con.close()


def test_resumed_file_is_not_counted_twice(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load that fails after some batches committed, then resumes: every span is in the roll-up once."""
    small = dataclasses.replace(load_settings(db=db_path, env={}), batch_bytes=10_000)
    calls = {"n": 0}

    def crash_on_third(con: duckdb.DuckDBPyConnection, view: str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash inside the third batch's transaction")

    monkeypatch.setattr(derived, "STEPS", (*derived.STEPS, crash_on_third))
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(db_path, TINY, small, workers=1)
    con = store.connect(db_path, read_only=True)
    partial = _selected(con)
    con.close()
    assert 0 < partial[0] == partial[1] < 56

    monkeypatch.setattr(derived, "STEPS", tuple(s for s in derived.STEPS if s is not crash_on_third))
    resumed = ingest(db_path, TINY, small, workers=1)
    assert resumed.status == "complete" and resumed.batches_resumed > 0
    con = store.connect(db_path, read_only=True)
    try:
        assert rollup.mismatches(con) == 0
        spans, rolled = _selected(con)
        assert spans == rolled
    finally:
        con.close()


def test_migration_backfills_existing_spans(tmp_path: Path) -> None:
    """A store that has spans from before 0005 gets its roll-up from the migration itself."""
    db = tmp_path / "old.duckdb"
    ingest(db, TINY)
    con = store.connect(db)
    try:
        con.execute("DROP TABLE latency_rollup").fetchall()
        con.execute("DELETE FROM schema_migrations WHERE version = 5").fetchall()
        assert store.migrate(con) == ["0005_latency_rollup"]
        assert rollup.mismatches(con) == 0
    finally:
        con.close()


# ----------------------------------------------------------------------------- goldens on the tiny store

CASES: list[tuple[str, str, dict[str, object]]] = [
    ("latency_rollup_by_tier", "latency_rollup_by_tier", {"workload_class": "all"}),
    ("latency_rollup_over_time__minute", "latency_rollup_over_time", {"bucket": "minute"}),
    ("latency_rollup_by_group__day", "latency_rollup_by_group", {"bucket": "day"}),
]


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, output = ingest_isolated(tmp_path_factory.mktemp("tiny"), [TINY])
    assert "56 accepted, 0 rejected" in output
    return db


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows(tiny_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    assert_golden(stem, run_query(tiny_db, name, params))


def test_tiny_store_matches_latency_by_tier(tiny_db: Path) -> None:
    got = run_query(tiny_db, "latency_rollup_by_tier", {"workload_class": "all"})
    exact = run_query(tiny_db, "latency_by_tier", {"workload_class": "all"})
    assert got["tier"].to_list() == exact["tier"].to_list()
    assert got["requests"].to_list() == exact["requests"].to_list()
    assert got["error_rate"].to_list() == pytest.approx(exact["error_rate"].to_list(), rel=1e-12)
    assert got["mean_ms"].to_list() == pytest.approx(exact["mean_ms"].to_list(), rel=1e-12)
    for col in ("p50_ms", "p95_ms", "p99_ms"):
        for est, ex in zip(got[col], exact[col], strict=True):
            assert_within(est, ex)


# ------------------------------------------------------------------------------------- ClickHouse side


def test_clickhouse_view_keeps_the_rollup_of_collector_inserts(tmp_path: Path) -> None:
    """Inserts into otel_traces reach latency_rollup through the MV, equal to the roll-up of the `spans` view."""
    pytest.importorskip("chdb")
    from ingest.clickhouse import schema
    from ingest.clickhouse.client import ClickHouseClient

    ch = ClickHouseClient(f"chdb://{tmp_path / 'ch'}")
    try:
        schema.apply(ch)
        for k in range(2):  # two inserts: the MV sees each block on its own, the table sums them
            ch.command("""INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind,
                ServiceName, ResourceAttributes, SpanAttributes, Duration, StatusCode)
                SELECT toDateTime64('2026-01-01 00:00:00', 9) + toIntervalSecond(number * 7 + {k:Int32}),
                       hex(number), hex(number + 1000), if(number % 3 = 0, '', 'ab'), concat('op', toString(number % 4)),
                       ['Server', 'Client', 'SPAN_KIND_CONSUMER', 'Internal'][number % 4 + 1],
                       concat('svc', toString(number % 5)),
                       map('tierwise.tier', ['edge', 'device', 'cloud', ''][number % 4 + 1], 'cloud.region', 'eu-west-1'),
                       map('tierwise.workload', concat('w', toString(number % 2))),
                       [0, 1, 2, 1000, 3600000000000, 999999][number % 6 + 1] + number,
                       ['Error', 'Ok', 'Unset'][number % 3 + 1]
                FROM numbers(300)""", {"k": k})
        keys = ", ".join(rollup.KEYS)
        totals = f"SELECT {keys}, sum(n) AS n, sum(errors) AS e, sum(sum_duration_ns) AS s FROM"
        via_mv = ch.query_arrow(f"{totals} latency_rollup GROUP BY {keys} ORDER BY {keys}")
        fresh = rollup.histogram_sql("spans").replace("GROUP BY ALL", f"GROUP BY {keys}")
        from_view = ch.query_arrow(f"{totals} ({fresh}) GROUP BY {keys} ORDER BY {keys}")
    finally:
        ch.close()
    assert via_mv.to_pylist() == from_view.to_pylist()
    assert via_mv.num_rows > 50
    # server, consumer and root spans: 200 of each insert's 300, once per width (minute and day)
    assert sum(via_mv.column("n").to_pylist()) == 2 * 2 * 200
