"""The usage roll-up (migration 0011) folded per span batch equals a recompute, and backs scorecard_inputs exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from ingest_helpers import dying_refresh, frozen_backfill, ingest

import store
from ingest.sinks import loader
from store import derived
from store.derived import usage_rollup
from store.settings import Settings

SMALL_BATCH = 6_000  # bytes: each file spans several batches
DAY_NS = 86_400_000_000_000
WORKLOADS = ("assistant", "vision", "search")
TIERS = ("edge", "regional", "device")
# sampling thresholds: none, 1/2 kept (w = 2), a non-dyadic one, and a trace_state without a threshold
STATES = (None, "ot=th:8", "ot=rv:1234;th:fd70a4", "vendor=x")


def _attr(key: str, value: Any) -> dict[str, Any]:
    kind = "intValue" if isinstance(value, int) else "doubleValue" if isinstance(value, float) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def _request(file_no: int, line: int) -> dict[str, Any]:
    """One resource with eight spans across two UTC days: every kind, model spans with tokens, sampled traces,
    some spans without a workload or site, so every sum, filter and key of the roll-up is exercised."""
    n = file_no * 100 + line
    res = [_attr("tierwise.tier", TIERS[n % 3]), _attr("tierwise.data_class", ("public", "internal")[n % 2])]
    if n % 5 != 4:  # without a service name, a span without tierwise.workload has no workload
        res.append(_attr("service.name", f"svc-{n % 4}"))
    if n % 4 != 3:
        res.append(_attr("tierwise.site", f"site-{n % 5}"))
    spans = []
    for i in range(8):
        start = 1_764_000_000_000_000_000 + (n % 2) * DAY_NS + n * 1_000_000_000 + i
        attrs = [] if (n + i) % 9 == 0 else [_attr("tierwise.workload", WORKLOADS[(n + i) % 3]),
                                             _attr("tierwise.workload.type", ("interactive", "batch")[(n + i) % 2]),
                                             _attr("tierwise.latency_budget_ms", float(100 * (1 + n % 3)))]
        if i % 3 == 1:
            attrs += [_attr("gen_ai.request.model", "m-1"), _attr("gen_ai.usage.input_tokens", 10 + i)]
            if i % 2:
                attrs.append(_attr("gen_ai.usage.output_tokens", 3 * n))
        span: dict[str, Any] = {
            "traceId": f"{n:016x}{i % 2:016x}", "spanId": f"{n:08x}{i:08x}", "name": "op", "kind": 1 + i % 5,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1_000_000 * (1 + (n * i) % 7)),
            "attributes": attrs}
        if i % 4:
            span["parentSpanId"] = f"{n:08x}{i - 1:08x}"
        state = STATES[(n + i) % len(STATES)]
        if state is not None:
            span["traceState"] = state
        spans.append(span)
    return {"resourceSpans": [{"resource": {"attributes": res}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}


def _file(path: Path, file_no: int) -> Path:
    """24 requests, one OTLP JSON line each."""
    path.write_bytes(b"".join(orjson.dumps(_request(file_no, n)) + b"\n" for n in range(24)))
    return path


def _ingest(db: Path, path: Path) -> loader.FileResult:
    return ingest(db, path, Settings(db_path=db, batch_bytes=SMALL_BATCH, commit_spans=1), workers=0)


def _keys_once(con: duckdb.DuckDBPyConnection) -> bool:
    """Each key holds one row: the merge compacts the partial rows of different batches."""
    keys = ", ".join(usage_rollup.KEYS)
    dup = con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM usage_rollup GROUP BY ALL HAVING count(*) > 1)")
    return bool(dup.fetchall()[0][0] == 0)


def test_folded_rollup_equals_a_recompute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.duckdb"
    assert _ingest(db, _file(tmp_path / "a.jsonl", 1)).batches_committed >= 3  # several batches per file
    assert _ingest(db, tmp_path / "a.jsonl").status == "already-ingested"  # a re-ingest adds nothing
    copy = _file(tmp_path / "a-again.jsonl", 1)
    copy.write_bytes(copy.read_bytes() + b"\n")  # the same spans in another file: counted again, as spans are
    _ingest(db, copy)

    with dying_refresh(monkeypatch, 3), pytest.raises(KeyboardInterrupt):  # the third batch dies before COMMIT
        _ingest(db, _file(tmp_path / "b.jsonl", 2))
    assert _ingest(db, tmp_path / "b.jsonl").batches_resumed == 2  # the roll-up rolled back with the spans

    con = duckdb.connect(str(db))
    try:
        assert con.execute("SELECT count(*) FROM spans").fetchall() == [(3 * 24 * 8,)]
        assert con.execute("SELECT sum(spans) FROM usage_rollup").fetchall() == [(3 * 24 * 8,)]
        assert _keys_once(con)
        # the sample exercises what the roll-up distinguishes: weights above 1, both days, rows without workload
        row = con.execute("SELECT count(DISTINCT day_ns), count(*) FILTER (WHERE workload IS NULL), "
                          "max(weight / spans), min(token_weight), max(model_weight_ns) FROM usage_rollup").fetchall()
        days, no_workload, max_mean_w, _, model_ns = row[0]
        assert days == 2 and no_workload > 0 and max_mean_w > 1.0 and model_ns > 0
        assert derived.mismatches(con, "usage_rollup") == 0
        con.execute("UPDATE usage_rollup SET spans = spans + 1 WHERE rowid = (SELECT min(rowid) FROM usage_rollup)")
        assert derived.mismatches(con, "usage_rollup") == 1  # the check itself can fail
        derived.rebuild(con, ["usage_rollup"])
        assert derived.mismatches(con, "usage_rollup") == 0 and _keys_once(con)
    finally:
        con.close()


def test_rebuild_is_migration_0011s_backfill(tmp_path: Path) -> None:
    """usage_rollup.rebuild (the Python-side definition) gives exactly the rows of migration 0011's frozen backfill."""
    db = tmp_path / "store.duckdb"
    _ingest(db, _file(tmp_path / "a.jsonl", 1))
    _ingest(db, _file(tmp_path / "b.jsonl", 2))
    con = duckdb.connect(str(db))
    try:
        con.execute("SET threads = 1")  # one summation order on both sides, so the doubles match to the bit
        derived.rebuild(con, ["usage_rollup"])
        ours = con.execute("SELECT * FROM usage_rollup ORDER BY ALL").fetchall()
        frozen = frozen_backfill(con, "0011_usage_rollup.sql", "usage_rollup")
        assert len(frozen) > 20 and frozen == ours
    finally:
        con.close()


# scorecard_inputs' usage columns as the query computed them over every span before migration 0011
OVER_SPANS = """
WITH weights AS (""" + usage_rollup.weights_sql("spans") + """),
sp AS (SELECT s.*, coalesce(wt.w, 1.0) AS w FROM spans s LEFT JOIN weights wt ON wt.trace_state = s.trace_state
       WHERE s.workload IS NOT NULL),
busiest AS (SELECT workload, tier, site, row_number() OVER (PARTITION BY workload, tier ORDER BY count(*) DESC, site) AS r
            FROM sp WHERE site IS NOT NULL GROUP BY workload, tier, site)
SELECT u.*, b.site, (SELECT count(DISTINCT start_ns // 86400000000000) FROM spans) AS span_days
FROM (SELECT workload, tier, arg_max(workload_type, duration_ns) AS workload_type, max(data_class) AS data_class,
             max(latency_budget_ms) AS budget_ms,
             coalesce(sum(w) FILTER (WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL), 0)
                 AS requests_adjusted,
             sum((coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) * w) AS tokens_adjusted,
             coalesce(sum(duration_ns * w) FILTER (WHERE gen_ai_model IS NOT NULL), 0) / 1e9 AS gpu_seconds
      FROM sp GROUP BY ALL) u
LEFT JOIN busiest b ON b.workload = u.workload AND b.tier = u.tier AND b.r = 1
"""
USAGE = ("workload", "tier", "workload_type", "data_class", "budget_ms", "requests_adjusted", "tokens_adjusted",
         "gpu_seconds", "site", "span_days")


def test_scorecard_inputs_reads_what_every_span_gives(tmp_path: Path) -> None:
    """The roll-up backs the same usage columns, busiest site and span days as the per-span SQL it replaced."""
    from queries import registry
    from queries.engines.duckdb_engine import DuckDBEngine

    db = tmp_path / "store.duckdb"
    _ingest(db, _file(tmp_path / "a.jsonl", 1))
    _ingest(db, _file(tmp_path / "b.jsonl", 2))
    con = store.connect(db, read_only=True)
    try:
        got = registry.run(DuckDBEngine(con), "scorecard_inputs").select(USAGE).sort("workload", "tier").rows()
        want = sorted(con.execute(f"SELECT {', '.join(USAGE)} FROM ({OVER_SPANS})").fetchall(),
                      key=lambda r: (r[0], r[1]))
    finally:
        con.close()
    assert len(got) == len(want) > 5
    for g, w in zip(got, want, strict=True):
        assert g[:5] == w[:5] and g[8:] == w[8:]
        assert g[5:8] == pytest.approx(w[5:8], rel=1e-12)
