"""The generated estate's physics and planted scenarios, checked on what `tierwise ingest` stored."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sample_data.generate import Options, generate
from sample_data.physics import incident_active
from store.settings import load_settings

END = date(2026, 11, 28)
DAYS = 4
T0_NS = 1795478400 * 10**9  # 2026-11-24T00:00:00Z, the window start for END and DAYS


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from app.output_ingest import run_ingest

    root = tmp_path_factory.mktemp("physics")
    generate(root / "estate", Options(seed=21, spans=20000, days=DAYS, end=END))
    db = root / "store.duckdb"
    results = run_ingest([root / "estate" / "traces"], load_settings(db=db), None, progress=False)
    assert all(r.ok and r.rejected == 0 for r in results)
    return duckdb.connect(str(db), read_only=True)


def rows(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return con.execute(sql, params).fetchall()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def in_incident(name: str, start_ns: int) -> bool:
    return incident_active(name, (start_ns - T0_NS) / 3.6e12, DAYS)


def test_children_start_within_parents_after_skew_correction_but_not_before(con: duckdb.DuckDBPyConnection) -> None:
    spans = rows(con, "SELECT trace_id, span_id, parent_span_id, start_ns, end_ns, resource_attributes FROM spans")
    by_trace: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for s in spans:
        by_trace[s[0]].append(s)
    naive_violations = fixed_violations = same_process_violations = 0
    for trace in by_trace.values():
        by_id = {s[1]: s for s in trace}
        children: dict[str | None, list[tuple[Any, ...]]] = defaultdict(list)
        for s in trace:
            children[s[2]].append(s)
        roots = children[None]
        assert len(roots) == 1 and all(p in by_id for p in children if p is not None)
        offset = {roots[0][1]: 0}
        todo = [roots[0]]
        while todo:
            parent = todo.pop()
            ps, pe = parent[3] + offset[parent[1]], parent[4] + offset[parent[1]]
            for ch in children[parent[1]]:
                naive_violations += not (parent[3] <= ch[3] and ch[4] <= parent[4])
                off = offset[parent[1]]
                if ch[5] != parent[5]:  # another process, maybe another clock: correct only if it does not fit
                    if not (ps <= ch[3] + off and ch[4] + off <= pe):
                        off = (ps + pe) // 2 - (ch[3] + ch[4]) // 2
                else:
                    same_process_violations += not (parent[3] <= ch[3] and ch[4] <= parent[4])
                offset[ch[1]] = off
                fixed_violations += not (ps <= ch[3] + off and ch[4] + off <= pe + 1)
                todo.append(ch)
    assert same_process_violations == 0
    assert fixed_violations == 0
    assert naive_violations > 50  # device clocks are skewed: naive cross-tier comparison is wrong


def test_network_time_grows_with_distance_between_tiers(con: duckdb.DuckDBPyConnection) -> None:
    pairs = rows(con, """
        SELECT c.tier, s.tier, c.duration_ns, s.duration_ns
        FROM spans c JOIN spans s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
        WHERE c.kind = 'client' AND s.kind = 'server'""")
    assert pairs
    assert all(cd > sd for _, _, cd, sd in pairs)  # a client always waits for its server plus transit
    net: dict[tuple[str, str], list[float]] = defaultdict(list)
    for ct, st, cd, sd in pairs:
        net[(ct, st)].append((cd - sd) / 1e6)
    hops = [net[("device", t)] for t in ("edge", "regional", "hyperscale")]
    assert all(len(h) >= 20 for h in hops), [len(h) for h in hops]
    for q in (0.5, 0.95):
        edge, regional, hyper = (pct(h, q) for h in hops)
        assert edge < regional < hyper, (q, edge, regional, hyper)
    assert 2 < pct(hops[0], 0.5) < 15 and 15 < pct(hops[1], 0.5) < 60 and 70 < pct(hops[2], 0.5) < 200


def test_kiosk_copilot_misses_its_budget_mostly_through_network_time(con: duckdb.DuckDBPyConnection) -> None:
    misses = rows(con, """
        WITH r AS (SELECT trace_id, duration_ns FROM spans
                   WHERE workload = 'kiosk-copilot' AND parent_span_id IS NULL AND duration_ns > latency_budget_ms * 1e6),
             hops AS (SELECT c.trace_id, sum(c.duration_ns - s.duration_ns) AS net_ns
                      FROM spans c JOIN spans s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
                      WHERE c.kind = 'client' AND c.workload = 'kiosk-copilot' GROUP BY ALL)
        SELECT r.duration_ns, coalesce(h.net_ns, 0) FROM r LEFT JOIN hops h USING (trace_id)""")
    assert len(misses) >= 10
    assert sum(net for _, net in misses) > 0.5 * sum(dur for dur, _ in misses)
    assert pct([net / dur for dur, net in misses], 0.5) > 0.5


def test_placement_scenarios(con: duckdb.DuckDBPyConnection) -> None:
    regulated = dict(rows(con, "SELECT tier, count(*) FROM spans WHERE data_class = 'regulated' GROUP BY ALL"))
    assert 0 < regulated["hyperscale"] < 0.1 * regulated["edge"]  # a trust-zone violation, not the norm
    assert rows(con, "SELECT DISTINCT site FROM spans WHERE workload_type = 'training' AND tier = 'edge'") == [
        ("factory-plant-1",)]
    factory = [r[0] / 1e6 for r in rows(con, "SELECT duration_ns FROM spans WHERE workload = 'factory-vision' "
                                              "AND parent_span_id IS NULL")]
    assert pct(factory, 0.95) < 100.0  # the well-placed pipeline meets its 100 ms budget


def test_incidents_are_where_an_sre_would_find_them(con: duckdb.DuckDBPyConnection) -> None:
    store12 = rows(con, "SELECT start_ns FROM spans WHERE site = 'retail-store-12' AND kind = 'server'")
    assert store12 and not any(in_incident("edge-outage", s) for (s,) in store12)
    # the outage's signature is a connect timeout (random 503s from a healthy server can happen at any time)
    failed = rows(con, "SELECT start_ns FROM spans WHERE kind = 'client' AND status_code = 'error' "
                       "AND attributes->>'$.\"server.address\"' = 'retail-store-12.acme.internal' "
                       "AND attributes->>'$.\"error.type\"' = 'ConnectTimeout'")
    assert failed and all(in_incident("edge-outage", s + 3 * 10**9) or in_incident("edge-outage", s - 3 * 10**9)
                          for (s,) in failed)

    stt = rows(con, "SELECT start_ns, duration_ns, gen_ai_model FROM spans WHERE workload = 'callcentre-stt' "
                    "AND name LIKE 'transcribe whisper%'")
    before = [d / max(1, 1) for s, d, m in stt if not in_incident("model-regression", s)]
    after = [d for s, d, m in stt if in_incident("model-regression", s)]
    assert {m for s, d, m in stt if in_incident("model-regression", s)} == {"whisper-large-v3-de-ft"}
    assert pct(after, 0.5) > 1.4 * pct(before, 0.5)

    waits = rows(con, "SELECT start_ns, CAST(attributes->>'$.\"tierwise.queue.wait_ms\"' AS DOUBLE) FROM spans "
                      "WHERE workload = 'doc-embedding-nightly' AND name LIKE 'embeddings%'")
    starved = [w for s, w in waits if in_incident("gpu-starved", s)]
    normal = [w for s, w in waits if not in_incident("gpu-starved", s)]
    assert starved and normal and pct(starved, 0.5) > 3 * pct(normal, 0.5)

    hits = rows(con, "SELECT start_ns, cache_hit FROM spans WHERE site = 'cdn-pop-fra' AND cache_hit IS NOT NULL")
    after_hits = [h for s, h in hits if in_incident("cache-collapse", s)]
    before_hits = [h for s, h in hits if not in_incident("cache-collapse", s)]
    assert len(after_hits) > 30 and sum(after_hits) / len(after_hits) < 0.15
    assert sum(before_hits) / len(before_hits) > 0.3


def test_sampling_threshold_is_carried_in_trace_state(con: duckdb.DuckDBPyConnection) -> None:
    states = rows(con, "SELECT DISTINCT workload, trace_state FROM spans WHERE parent_span_id IS NULL")
    assert states and all(s.startswith("ot=th:") for _, s in states)


def test_generated_window_starts_where_the_test_expects(tmp_path: Path) -> None:
    generate(tmp_path, Options(seed=1, spans=500, days=DAYS, end=END))
    assert sorted(p.name for p in (tmp_path / "traces").iterdir())[0] == "traces-2026-11-24.jsonl"
