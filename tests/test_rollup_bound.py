"""Latency roll-up queries: p50/p95/p99 within 1 % of the exact percentiles, exact counts and means, goldens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import assert_golden, run_query
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import tiny_store
from rollup_support import BOUND, HOUR_NS, T0, assert_within, distributions, load_in_batches, quantile_cont, span_table

import store
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from store import derived
from store.derived import rollup


def test_percentiles_within_one_percent_of_quantile_cont(tmp_path: Path) -> None:
    values = distributions(3000)
    con = store.open_writer(tmp_path / "s.duckdb")
    try:
        load_in_batches(con, values, 45, 4)
        assert derived.mismatches(con, "latency_rollup") == 0
        duck = DuckDBEngine(con)
        got = registry.run(duck, "latency_rollup_by_tier", {"workload_class": "all"}).rows_by_key(
            "tier", named=True, unique=True)
        exact = registry.run(duck, "latency_by_tier", {"workload_class": "all"}).rows_by_key(
            "tier", named=True, unique=True)
    finally:
        con.close()
    assert set(got) == set(values)
    for tier, durations in values.items():
        row = got[tier]
        assert row["requests"] == len(durations)
        assert row["mean_ms"] == pytest.approx(sum(durations) / len(durations) / 1e6, rel=1e-12)
        for q, col in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
            assert_within(row[col], quantile_cont(durations, q) / 1e6)
            assert_within(row[col], exact[tier][col])  # and against the exact query itself


def test_small_groups_per_minute_within_the_bound(tmp_path: Path) -> None:
    """Many groups of 1–40 spans (where interpolation between ranks matters most), by minute and operation."""
    con = store.open_writer(tmp_path / "s.duckdb")
    try:
        load_in_batches(con, distributions(400), 31, 3)  # 31 minutes × 3 operations × 4 tiers, about 4 spans each
        duck = DuckDBEngine(con)
        got = registry.run(duck, "latency_rollup_by_group", {"bucket": "minute"})
        exact = registry.run(duck, "latency_by_group", {"bucket": "minute"})
    finally:
        con.close()
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
    con.register("part", span_table({"edge": durations}, 1))
    con.execute("CREATE TABLE latency_rollup AS " + rollup.histogram_sql("part")).fetchall()
    duck = DuckDBEngine(con)
    row = registry.fetch(duck, "latency_rollup_by_tier", {"start_ns": None, "end_ns": None, "tier": None,
                                                          "workload": None, "workload_class": "all"}).row(0, named=True)
    groups = registry.fetch(duck, "latency_rollup_by_group", {"bucket": "week", "start_ns": None, "end_ns": None,
                                                              "tier": None, "site": None, "workload": None,
                                                              "workload_class": "all"})
    con.close()
    assert row["requests"] == len(durations) == groups["requests"].sum()
    for q, col in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = quantile_cont(durations, q) / 1e6
        if min(durations) > 0:
            assert_within(row[col], exact)
        else:  # durations ≤ 0 report as 0: the error is at most α·|exact| plus the clipped negative part
            assert abs(row[col] - exact) <= BOUND * abs(exact) + max(0, -min(durations)) / 1e6


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    """Spans over 3 days and 7 minutes, folded in 2 batches (one store for every window below)."""
    con = store.open_writer(tmp_path_factory.mktemp("days") / "s.duckdb")
    load_in_batches(con, distributions(800), 3 * 1440 + 7, 2)
    duck = DuckDBEngine(con)
    yield duck
    duck.close()


@pytest.mark.parametrize(("start_h", "end_h"), [(None, None), (24, 72), (3, 53), (None, 29), (30, None), (5, 6)])
def test_windows_read_whole_days_and_minute_edges(three_days: DuckDBEngine,
                                                  start_h: int | None, end_h: int | None) -> None:
    """Windows aligned to days or not: the same spans as the exact query, percentiles within the bound."""
    duck = three_days
    window = {"start_ns": None if start_h is None else T0 + start_h * HOUR_NS,
              "end_ns": None if end_h is None else T0 + end_h * HOUR_NS}
    got = registry.run(duck, "latency_rollup_by_tier", {**window, "workload_class": "all"})
    exact = registry.run(duck, "latency_by_tier", {**window, "workload_class": "all"})
    assert got["tier"].to_list() == exact["tier"].to_list()
    assert got["requests"].to_list() == exact["requests"].to_list()
    assert got["mean_ms"].to_list() == pytest.approx(exact["mean_ms"].to_list(), rel=1e-12)
    for col in ("p50_ms", "p95_ms", "p99_ms"):
        for est, ex in zip(got[col], exact[col], strict=True):
            assert_within(est, ex)
    for bucket in ("hour", "day", "week"):
        over = registry.run(duck, "latency_rollup_over_time", {**window, "bucket": bucket})
        ex = registry.run(duck, "latency_over_time", {**window, "bucket": bucket})
        assert over["requests"].to_list() == ex["requests"].to_list()
        assert [b * 1000 for b in over["bucket_start_ns"].to_list()] == [
            int(t.timestamp() * 1e6) * 1_000_000 for t in ex["bucket_start"].to_list()]
        for est, e in zip(over["p95_ms"], ex["p95_ms"], strict=True):
            assert_within(est, e)
    groups = registry.run(duck, "latency_rollup_by_group", {**window, "bucket": "day"})
    assert groups["requests"].sum() == sum(exact["requests"].to_list())  # the per-group view counts the same spans


# ----------------------------------------------------------------------------- goldens on the tiny store

CASES: list[tuple[str, str, dict[str, object]]] = [
    ("latency_rollup_by_tier", "latency_rollup_by_tier", {"workload_class": "all"}),
    ("latency_rollup_over_time__minute", "latency_rollup_over_time", {"bucket": "minute"}),
    ("latency_rollup_by_group__day", "latency_rollup_by_group", {"bucket": "day"}),
]


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_store(tmp_path_factory.mktemp("tiny"), says="56 accepted, 0 rejected")


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
