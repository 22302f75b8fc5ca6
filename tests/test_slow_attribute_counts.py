"""slow_attribute_counts (bit-mask coding of values per trace) equals a plain per-trace DISTINCT count, past 63 values."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from ingest import derived, store
from queries import loader

N_TRACES = 300


def _spans() -> pl.DataFrame:
    """Traces of 1–4 spans over 90 sites and 70 models (more than one 63-value mask), some values NULL."""
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


def _expected(spans: pl.DataFrame, quantile: float) -> pl.DataFrame:
    """The definition, in polars: distinct (trace, attribute, value) per labelled trace, counted slow vs typical."""
    roots = (spans.filter(pl.col("parent_span_id").is_null())
             .group_by("trace_id").agg(pl.col("workload").drop_nulls().first(), pl.col("duration_ns").max())
             .filter(pl.col("workload").is_not_null()))
    roots = roots.with_columns(slow=pl.col("duration_ns") > pl.col("duration_ns")
                               .quantile(quantile, interpolation="linear").over("workload"))
    device = pl.col("resource_attributes").str.json_path_match("$['device.model.identifier']")
    cache = pl.when(pl.col("cache_hit")).then(pl.lit("hit")).when(~pl.col("cache_hit")).then(pl.lit("miss"))
    values = spans.select("trace_id", site="site", tier="tier", gen_ai_model="gen_ai_model", device_model=device,
                          cache=cache, data_class="data_class")
    attrs = (values.unpivot(index="trace_id", variable_name="attribute").drop_nulls("value").unique()
             .join(roots, on="trace_id"))
    return (attrs.group_by("workload", "attribute", "value")
            .agg(slow_traces=pl.col("slow").sum().cast(pl.Int64), typical_traces=(~pl.col("slow")).sum().cast(pl.Int64))
            .sort("workload", "attribute", "value"))


@pytest.mark.parametrize("workload", [None, "chat"])
def test_counts_match_the_per_trace_definition(db: Path, workload: str | None) -> None:
    con = store.connect(db, read_only=True)
    try:
        got = loader.fetch(con, "slow_attribute_counts", workload=workload, start_ns=None, end_ns=None,
                           slow_quantile=0.8)
    finally:
        con.close()
    want = _expected(_spans(), 0.8)
    if workload:
        want = want.filter(pl.col("workload") == workload)
    assert got.filter(pl.col("attribute") == "site").height > 63  # the overflow list is exercised
    assert got.filter(pl.col("attribute") == "gen_ai_model").height > 63
    assert got.select("workload", "attribute", "value", "slow_traces", "typical_traces").to_dicts() == want.to_dicts()
