"""slow_attribute_counts (per-trace profiles of migration 0009) equals a plain per-trace DISTINCT count over spans,
with many values per attribute, traces split over batches, extra roots, and the workload and window filters."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

import store
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from store import derived
from store.derived import trace_index

N_TRACES = 300

TRACE_INDEX = tuple(d.table for d in trace_index.TABLES)


def _spans() -> pl.DataFrame:
    """Traces of 1–4 spans over 90 sites and 70 models, some values NULL; every 7th trace has a second root."""
    rng = random.Random(11)
    rows = []
    for t in range(N_TRACES):
        tid = f"{rng.getrandbits(128):032x}"
        workload = ("chat", "vision", None)[t % 3] if t % 17 else None
        start = 1_764_000_000_000_000_000 + t * 1_000_000_000
        for i in range(rng.randint(1, 4)):
            device = rng.choice([None, f"phone-{rng.randrange(70)}"])
            rows.append({
                "trace_id": tid, "span_id": f"{t:08x}{i:08x}", "parent_span_id": None if i == 0 else f"{t:08x}{0:08x}",
                "name": "op", "kind": "server", "status_code": "unset", "tier": rng.choice(["device", "edge", "regional"]),
                "tier_source": "declared", "site": rng.choice([None, *(f"site-{k:02d}" for k in range(90))]),
                "workload": workload if i == 0 else rng.choice(["chat", None]),
                "gen_ai_model": rng.choice([None, *(f"model-{k:02d}" for k in range(70))]),
                "cache_hit": rng.choice([None, True, False]), "data_class": rng.choice([None, "public", "internal"]),
                "resource_attributes": json.dumps({"device.model.identifier": device} if device else {"x": 1}),
                "start_ns": start + i, "end_ns": start + i + rng.randrange(1, 10**9), "duration_ns": 0,
                "batch_key": "test"})
        if t % 7 == 0:  # a second parentless span, without a workload, later and sometimes longer
            rows.append({**rows[-1], "span_id": f"{t:08x}{99:08x}", "parent_span_id": None, "workload": None,
                         "start_ns": start + 10**9 // 2, "end_ns": start + 10**9 // 2 + rng.randrange(1, 2 * 10**9)})
    return pl.DataFrame(rows).with_columns(duration_ns=pl.col("end_ns") - pl.col("start_ns"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attrs") / "store.duckdb"
    con = store.open_writer(path)
    try:
        con.register("new_spans", _spans().to_arrow())
        con.execute("INSERT INTO spans BY NAME SELECT * FROM new_spans")
        derived.rebuild(con)  # written around the loader: recompute the per-trace index the queries read
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def split_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same spans committed in three batches, each folded into the derived tables as the loader does: a trace's
    spans (and its second root) land in different batches, whose profiles differ."""
    path = tmp_path_factory.mktemp("attrs_split") / "store.duckdb"
    spans = _spans().with_row_index("n").with_columns(
        batch_key=pl.format("b{}", ((pl.col("n") - pl.col("n").min().over("trace_id")) % 3).cast(pl.String)))
    con = store.open_writer(path)
    try:
        for key in ("b0", "b1", "b2"):
            con.register("new_spans", spans.filter(pl.col("batch_key") == key).drop("n").to_arrow())
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO spans BY NAME SELECT * FROM new_spans")
            con.execute(f"CREATE OR REPLACE TEMP VIEW batch AS SELECT * FROM spans WHERE batch_key = '{key}'")
            derived.refresh(con, "batch")
            con.execute("COMMIT")
        assert derived.mismatches(con, *TRACE_INDEX) == 0
    finally:
        con.close()
    return path


def _expected(spans: pl.DataFrame, quantile: float, workload: str | None = None, start_ns: int | None = None,
              end_ns: int | None = None) -> pl.DataFrame:
    """The definition, in polars: distinct (trace, attribute, value) per labelled trace, counted slow vs typical.
    A trace is labelled by its roots that pass the filters (the longest one's duration, a declared workload)."""
    roots = spans.filter(pl.col("parent_span_id").is_null())
    if workload is not None:
        roots = roots.filter(pl.col("workload") == workload)
    if start_ns is not None:
        roots = roots.filter(pl.col("start_ns") >= start_ns)
    if end_ns is not None:
        roots = roots.filter(pl.col("start_ns") < end_ns)
    roots = (roots.group_by("trace_id").agg(pl.col("workload").drop_nulls().first(), pl.col("duration_ns").max())
             .filter(pl.col("workload").is_not_null()))
    roots = roots.with_columns(slow=pl.col("duration_ns") > pl.col("duration_ns")
                               .quantile(quantile, interpolation="linear").over("workload"))
    device = pl.col("resource_attributes").str.json_path_match("$['device.model.identifier']")
    cache = pl.when(pl.col("cache_hit")).then(pl.lit("hit")).when(~pl.col("cache_hit")).then(pl.lit("miss"))
    values = spans.select("trace_id", site="site", tier="tier", gen_ai_model="gen_ai_model", device_model=device,
                          cache=cache, data_class="data_class")
    attrs = (values.unpivot(index="trace_id", variable_name="attribute").drop_nulls("value").unique()
             .join(roots, on="trace_id"))
    totals = roots.group_by("workload").agg(n_slow=pl.col("slow").sum().cast(pl.Int64),
                                            n_typical=(~pl.col("slow")).sum().cast(pl.Int64))
    return (attrs.group_by("workload", "attribute", "value")
            .agg(slow_traces=pl.col("slow").sum().cast(pl.Int64), typical_traces=(~pl.col("slow")).sum().cast(pl.Int64))
            .join(totals, on="workload").sort("workload", "attribute", "value"))


COLUMNS = ("workload", "attribute", "value", "slow_traces", "typical_traces", "n_slow", "n_typical")
START_NS = 1_764_000_000_000_000_000


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize(("workload", "start_ns", "end_ns"),
                         [(None, None, None), ("chat", None, None), (None, START_NS + 40 * 10**9, START_NS + 250 * 10**9)])
def test_counts_match_the_per_trace_definition(db: Path, split_db: Path, split: bool, workload: str | None,
                                               start_ns: int | None, end_ns: int | None) -> None:
    con = store.connect(split_db if split else db, read_only=True)
    try:
        got = registry.fetch(DuckDBEngine(con), "slow_attribute_counts", {"workload": workload, "start_ns": start_ns,
                                                                          "end_ns": end_ns, "slow_quantile": 0.8})
        merged = con.execute("SELECT count(*) FROM (SELECT trace_id FROM trace_profiles GROUP BY trace_id "
                             "HAVING min(profile) <> max(profile))").fetchall()[0][0]
    finally:
        con.close()
    want = _expected(_spans(), 0.8, workload, start_ns, end_ns)
    assert (merged > 0) == split  # the split store exercises the merge of a trace's differing parts
    assert got.filter(pl.col("attribute") == "site").height > 63
    assert got.filter(pl.col("attribute") == "gen_ai_model").height > 63
    assert got.select(COLUMNS).to_dicts() == want.select(COLUMNS).to_dicts()
