"""The critical path: CRISP's golden cases, clock-skew repair, and shares that always add up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import FIXTURES

from queries.critical_path import SpanNode, critical_path, critical_path_shares, path_parts
from store.contract import TIERS

CRISP = FIXTURES / "crisp"
CASES = sorted(CRISP.glob("*.json"), key=lambda p: int(p.stem))


def jaeger_nodes(doc: dict[str, Any]) -> list[SpanNode]:
    """Jaeger HTTP-API JSON (µs) to SpanNodes; the first reference is the parent, as in CRISP."""
    trace = doc["data"][0]
    services = {pid: p["serviceName"] for pid, p in trace["processes"].items()}
    nodes = []
    for s in trace["spans"]:
        refs = s.get("references") or []
        nodes.append(SpanNode(s["spanID"], refs[0]["spanID"] if refs else None, s["startTime"],
                              s["startTime"] + s["duration"], services[s["processID"]], s["operationName"],
                              "unknown", "internal"))
    return nodes


def expected_exclusive(doc: dict[str, Any]) -> dict[str, int]:
    """Cases 1–10 list critical-path time per `[service] op`; 11–25 under `opTimeExclusive`."""
    testing = doc["testing"]
    return dict(testing[0] if isinstance(testing, list) else testing["opTimeExclusive"])


def test_all_25_cases_are_present() -> None:
    assert [int(p.stem) for p in CASES] == list(range(1, 26))
    assert "2710c0b9d52e47be91240a400ca7f85ae3a43fcf" in (CRISP / "SOURCE.md").read_text()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_crisp_golden_case(path: Path) -> None:
    doc = json.loads(path.read_text())
    nodes = jaeger_nodes(doc)
    by_id = {n.span_id: n for n in nodes}
    got: dict[str, int] = {}
    for seg in critical_path(nodes):
        n = by_id[seg.span_id]
        key = f"[{n.service}] {n.operation}"
        got[key] = got.get(key, 0) + seg.self_ns
    assert got == expected_exclusive(doc)


def _call(offset: int, client: tuple[int, int], server: tuple[int, int]) -> list[SpanNode]:
    """A device root calling a regional server whose clock is `offset` ahead."""
    return [
        SpanNode("root", None, 0, 100, "app", "ask", "device", "internal"),
        SpanNode("c", "root", client[0], client[1], "app", "POST", "device", "client"),
        SpanNode("s", "c", server[0] + offset, server[1] + offset, "api", "POST", "regional", "server"),
        SpanNode("db", "s", server[0] + offset + 5, server[1] + offset - 5, "api", "SELECT", "regional", "client"),
    ]


@pytest.mark.parametrize("offset", [0, -2_000, 2_000, -35, 35])
def test_cross_tier_skew_is_repaired(offset: int) -> None:
    """However far the server's clock is off, the path holds 20 ns of hop and the server's own work."""
    parts = path_parts(_call(offset, (10, 90), (20, 80)))
    assert parts == [("device", "compute", 20), ("device→regional", "hop", 20), ("regional", "compute", 10),
                     ("regional", "compute", 50)]


def test_server_longer_than_client_gives_zero_hop() -> None:
    parts = path_parts(_call(7, (10, 90), (0, 95)))
    assert ("device→regional", "hop", 0) in parts
    assert sum(p[2] for p in parts) == 100


def test_same_tier_skew_is_not_moved() -> None:
    """Only calls between tiers or sites are re-aligned; a same-clock child outside its parent is clipped."""
    spans = [SpanNode("r", None, 0, 100, "a", "x", "edge", "internal", "s1"),
             SpanNode("c", "r", 10, 50, "a", "call", "edge", "client", "s1"),
             SpanNode("s", "c", 40, 80, "b", "serve", "edge", "server", "s1")]
    assert [(s.span_id, s.self_ns) for s in critical_path(spans)] == [("r", 60), ("c", 30), ("s", 10)]


def test_async_child_after_parent_is_ignored_and_empty_trace_is_empty() -> None:
    spans = [SpanNode("r", None, 0, 10, "a", "x", "device", "internal"),
             SpanNode("late", "r", 20, 30, "a", "flush", "device", "producer")]
    assert [(s.span_id, s.self_ns) for s in critical_path(spans)] == [("r", 10)]
    assert critical_path([]) == []


@st.composite
def traces(draw: st.DrawFn, sequential: bool = False) -> list[SpanNode]:
    """A random span tree: every child inside its parent (sequential: siblings never overlap)."""
    spans = [SpanNode("0", None, 0, draw(st.integers(1, 10**6)), "svc", "op", draw(st.sampled_from(TIERS)),
                      draw(st.sampled_from(("server", "internal"))))]
    for i in range(1, draw(st.integers(0, 25)) + 1):
        parent = spans[draw(st.integers(0, len(spans) - 1))]
        if sequential:
            busy = max([s.end_ns for s in spans if s.parent_id == parent.span_id], default=parent.start_ns)
            if busy >= parent.end_ns:
                continue
            start = draw(st.integers(busy, parent.end_ns))
        else:
            start = draw(st.integers(parent.start_ns, parent.end_ns))
        end = draw(st.integers(start, parent.end_ns))
        kind = draw(st.sampled_from(("client", "server", "internal")))
        spans.append(SpanNode(str(i), parent.span_id, start, end, "svc", "op", draw(st.sampled_from(TIERS)), kind))
    return spans


@settings(max_examples=150, deadline=None)
@given(traces(sequential=True))
def test_path_time_adds_up_to_the_root(spans: list[SpanNode]) -> None:
    path = critical_path(spans)
    assert path[0].span_id == "0" and all(s.self_ns >= 0 for s in path)
    assert sum(s.self_ns for s in path) == spans[0].end_ns - spans[0].start_ns
    assert len({s.span_id for s in path}) == len(path)


@settings(max_examples=150, deadline=None)
@given(traces(), st.integers(-10**9, 10**9))
def test_overlaps_and_skew_never_lose_time(spans: list[SpanNode], skew: int) -> None:
    """With overlapping siblings and one subtree's clock shifted, times stay ≥ 0 and cover the root."""
    if len(spans) > 1:
        moved = {spans[-1].span_id}
        spans = [s if s.span_id not in moved else SpanNode(s.span_id, s.parent_id, s.start_ns + skew,
                                                             s.end_ns + skew, s.service, s.operation, s.tier,
                                                             s.kind) for s in spans]
    path = critical_path(spans)
    assert all(s.self_ns >= 0 for s in path)
    assert sum(s.self_ns for s in path) >= spans[0].end_ns - spans[0].start_ns


def _frame(trace_list: list[list[SpanNode]], workloads: list[str]) -> pl.LazyFrame:
    rows = [{"trace_id": f"t{i}", "span_id": s.span_id, "parent_span_id": s.parent_id, "start_ns": s.start_ns,
             "end_ns": s.end_ns, "service_name": s.service, "name": s.operation, "tier": s.tier, "kind": s.kind,
             "site": s.site, "workload": workloads[i % len(workloads)]}
            for i, spans in enumerate(trace_list) for s in spans]
    return pl.LazyFrame(rows, schema={"trace_id": pl.String, "span_id": pl.String, "parent_span_id": pl.String,
                                      "start_ns": pl.Int64, "end_ns": pl.Int64, "service_name": pl.String,
                                      "name": pl.String, "tier": pl.String, "kind": pl.String, "site": pl.String,
                                      "workload": pl.String})


@settings(max_examples=60, deadline=None)
@given(st.lists(traces(), min_size=1, max_size=12), st.floats(0, 0.5))
def test_shares_sum_to_100(trace_list: list[list[SpanNode]], band: float) -> None:
    out = critical_path_shares(_frame(trace_list, ["w1", "w2"]), band=band).collect()
    assert out["share_pct"].min() >= 0  # type: ignore[operator]
    totals = out.group_by("workload", "percentile").agg(pl.col("share_pct").sum())
    assert totals["share_pct"].to_list() == pytest.approx([100.0] * totals.height)
    assert set(totals["percentile"]) == {"p50", "p95"}
