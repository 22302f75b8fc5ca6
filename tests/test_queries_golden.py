"""Every query in queries/ against a hand-made store: exact golden rows, CLI reachability, SQL properties."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from golden_support import GOLDEN, assert_golden, canonical, run_query
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import run_cli, tiny_store

import store
from queries import loader, registry
from queries.engines.duckdb_engine import DuckDBEngine
from store import derived

# (golden file stem, query, parameters): one at least per query this suite owns.
CASES: list[tuple[str, str, dict[str, object]]] = [
    ("latency_by_tier", "latency_by_tier", {}),
    ("latency_by_group", "latency_by_group", {"bucket": "minute"}),
    ("latency_by_group__device_day", "latency_by_group", {"bucket": "day", "tier": "device"}),
    ("latency_by_group__assistant_edge_month", "latency_by_group",
     {"bucket": "month", "workload": "assistant", "site": "store-7"}),
    ("hops_by_tier_pair", "hops_by_tier_pair", {}),
    ("hops_by_tier_pair__assistant_window", "hops_by_tier_pair",
     {"workload": "assistant", "start_ns": 1764288060000000000, "end_ns": 1764288180000000000}),
    ("hops_by_site_pair", "hops_by_site_pair", {}),
    ("trace_spans", "trace_spans", {}),
    ("critical_path_shares", "critical_path_shares", {}),
    ("latency_by_tier_workload", "latency_by_tier_workload", {}),
    ("latency_by_tier_workload__by_site", "latency_by_tier_workload", {"by_site": "yes"}),
    ("latency_over_time", "latency_over_time", {"bucket": "minute"}),
    ("filter_values", "filter_values", {}),
    ("trace_detail", "trace_detail", {"trace_id": "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"}),
]
OWNED_SQL = {"latency_by_tier", "latency_by_group", "hops_by_tier_pair", "hops_by_site_pair", "trace_spans",
             "latency_by_tier_workload", "latency_over_time", "filter_values", "trace_detail"}


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store, loaded by the real `tierwise ingest`."""
    return tiny_store(tmp_path_factory.mktemp("tiny"), says="56 accepted, 0 rejected")


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows(tiny_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    assert_golden(stem, run_query(tiny_db, name, params))


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_cli_prints_the_same_rows(tiny_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    args = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    result = run_cli("query", name, "--db", str(tiny_db), "--format", "csv", *args)
    assert result.exit_code == 0, result.output
    assert canonical(pl.read_csv(io.StringIO(result.stdout), infer_schema=False).with_columns(
        pl.col(c).cast(pl.Float64) for c in _float_columns(stem))) == (GOLDEN / f"{stem}.csv").read_text("utf-8")


def _float_columns(stem: str) -> list[str]:
    golden = pl.read_csv(GOLDEN / f"{stem}.csv", infer_schema=False)
    return [c for c in golden.columns if c.endswith(("_ms", "_rate", "_pct"))]


def test_hand_computed_numbers(tiny_db: Path) -> None:
    """A few numbers worked out on paper from the fixture's timestamps."""
    duck = DuckDBEngine.open(tiny_db)
    try:
        hops = registry.run(duck, "hops_by_tier_pair").rows_by_key(["from_tier", "to_tier"], named=True, unique=True)
        shares = registry.run(duck, "critical_path_shares")
    finally:
        duck.close()
    # device→edge: client minus server is 96-80, 190-170 and 110-90 ms; the 2 s device skew does not matter.
    assert hops[("device", "edge")]["hops"] == 3
    assert hops[("device", "edge")]["mean_ms"] == pytest.approx(56 / 3)
    assert hops[("device", "regional")]["negative_raw_count"] == 1
    assert hops[("device", "regional")]["p50_ms"] == 0.0
    # the p50 assistant trace is the skewed one (120 ms): 70 ms regional, 20 ms device→edge hop, 10 each else.
    p50 = shares.filter(workload="assistant", percentile="p50")
    assert dict(zip(p50["component"], p50["share_pct"], strict=True)) == pytest.approx(
        {"regional": 700 / 12, "device→edge": 200 / 12, "device": 100 / 12, "edge": 100 / 12,
         "edge→regional": 100 / 12})


def test_every_sql_file_has_a_golden() -> None:
    """Each queries/*.sql has tests/golden/<name>.csv or <name>__<case>.csv (this suite's, the SRE or the FinOps one)."""
    stems = {p.stem.split("__")[0] for p in GOLDEN.glob("*.csv")}
    assert set(loader.names()) - stems == set()


def test_every_owned_sql_has_a_golden() -> None:
    covered = {name for _, name, _ in CASES}
    assert set(loader.names()) >= OWNED_SQL
    assert covered >= OWNED_SQL


def test_every_sql_file_is_registered_with_its_parameters() -> None:
    registered = {q.name: q for q in registry.queries()}
    for name in loader.names():
        q = next((q for q in registered.values() if q.sql == name), None)
        assert q is not None, f"queries/{name}.sql is not in the registry"
        text = loader.sql(name)
        declared = {p.name for p in q.params}
        used = set(loader.placeholders(text))
        assert used == declared, f"{name}: SQL uses {sorted(used)}, registry declares {sorted(declared)}"
        assert text.startswith("--"), f"{name}.sql needs a header comment"
    for q in registered.values():
        if q.sql is None:
            assert q.source in registered and q.derive is not None


def test_unknown_parameter_and_bad_values_are_refused(tiny_db: Path) -> None:
    bad = run_cli("query", "latency_by_group", "--db", str(tiny_db), "--param", "colour=red")
    assert bad.exit_code == 2 and "no parameter 'colour'" in bad.output
    bad = run_cli("query", "latency_by_group", "--db", str(tiny_db), "--param", "bucket=fortnight")
    assert bad.exit_code == 2 and "must be one of minute" in bad.output
    bad = run_cli("query", "hops_by_tier_pair", "--db", str(tiny_db), "--param", "start_ns=soon")
    assert bad.exit_code == 2 and "expects int" in bad.output
    listing = run_cli("query", "--list")
    assert listing.exit_code == 0 and all(q.name in listing.output for q in registry.queries())
    as_json = run_cli("query", "latency_by_tier", "--db", str(tiny_db), "--format", "json")
    assert pl.read_json(io.StringIO(as_json.stdout))["tier"].to_list() == ["device", "edge", "regional", "hyperscale"]


def _memory_store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    store.migrate(con)
    return con


INSERT = """INSERT INTO spans (trace_id, span_id, parent_span_id, name, kind, status_code, tier, tier_source, site,
    workload, start_ns, end_ns, duration_ns, batch_key)
    VALUES ($t, $s, $p, 'op', $k, 'unset', $tier, 'declared', $site, 'w', $start, $end, $end - $start, 'test')"""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=40))
def test_percentiles_are_ordered(durations: list[int]) -> None:
    con = _memory_store()
    for i, d in enumerate(durations):
        con.execute(INSERT, {"t": f"{i:032x}", "s": f"{i:016x}", "p": None, "k": "server", "tier": "edge",
                             "site": "s", "start": 10**18 + i, "end": 10**18 + i + d})
    duck = DuckDBEngine(con)
    for name, params in (("latency_by_tier", {}), ("latency_by_group", {"bucket": "month"})):
        for row in registry.run(duck, name, params).iter_rows(named=True):
            assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
            assert min(durations) / 1e6 - 1e-9 <= row["p50_ms"] and row["p99_ms"] <= max(durations) / 1e6 + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(-5 * 10**9, 5 * 10**9)),
                min_size=1, max_size=20))
def test_hop_overhead_is_never_negative(calls: list[tuple[int, int, int]]) -> None:
    """Client and server durations with any clock offset between them: overhead ≥ 0, negatives counted."""
    con = _memory_store()
    for i, (client_ns, server_ns, offset) in enumerate(calls):
        start = 10**18 + i * 10**10
        con.execute(INSERT, {"t": f"{i:032x}", "s": f"c{i:015x}", "p": None, "k": "client", "tier": "device",
                             "site": "a", "start": start, "end": start + client_ns})
        con.execute(INSERT, {"t": f"{i:032x}", "s": f"s{i:015x}", "p": f"c{i:015x}", "k": "server",
                             "tier": "edge", "site": "b", "start": start + offset, "end": start + offset + server_ns})
    derived.rebuild(con)  # written around the loader: the hops view reads the derived call-end tables
    duck = DuckDBEngine(con)
    for name in ("hops_by_tier_pair", "hops_by_site_pair"):
        (row,) = registry.run(duck, name).iter_rows(named=True)
        assert row["hops"] == len(calls)
        assert 0 <= row["p50_ms"] <= row["p95_ms"] and row["mean_ms"] >= 0
        assert row["negative_raw_count"] == sum(s > c for c, s, _ in calls)
