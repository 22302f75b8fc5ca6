"""queries/trace_view.py: self time, skew, events, critical-path shares and the waterfall rows of one trace, on frames
built by hand and on a store loaded from hand-written OTLP JSON (tests/trace_view_estate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from golden_support import run_query
from trace_view_estate import FAILING, QUEUE_SELF_MS, SKEWED, trace_store

from app import charts_trace
from queries import critical_path, trace_view

MS = 1_000_000


def _frame(rows: list[tuple[str, str | None, int, int]]) -> pl.LazyFrame:
    """Spans (span_id, parent_span_id, start ms, end ms) in ns."""
    return pl.LazyFrame([(s, p, a * MS, b * MS) for s, p, a, b in rows], orient="row",
                        schema={"span_id": pl.String, "parent_span_id": pl.String, "start_ns": pl.Int64,
                                "end_ns": pl.Int64})


def _self_ms(rows: list[tuple[str, str | None, int, int]]) -> dict[str, float]:
    out = trace_view.self_times(_frame(rows)).collect()
    return {s: v / MS for s, v in out.iter_rows()}


def test_self_time_counts_overlapping_children_once() -> None:
    got = _self_ms([("p", None, 0, 100), ("a", "p", 10, 30), ("b", "p", 15, 40), ("c", "p", 60, 70),
                    ("d", "p", 62, 65)])
    assert got == {"p": 100 - (30 + 10), "a": 20, "b": 25, "c": 10, "d": 3}


def test_self_time_clips_children_to_the_span_and_ignores_those_outside() -> None:
    got = _self_ms([("p", None, 100, 200), ("early", "p", 50, 120), ("late", "p", 180, 260), ("after", "p", 300, 400),
                    ("before", "p", 0, 90)])
    assert got["p"] == 100 - 20 - 20
    gaps = trace_view.gaps(_frame([("p", None, 100, 200), ("early", "p", 50, 120), ("late", "p", 180, 260)])).collect()
    assert gaps.filter(pl.col("span_id") == "p").select("start_ns", "end_ns").rows() == [(120 * MS, 180 * MS)]


def test_self_time_of_a_span_covered_by_its_children_is_zero_and_a_leaf_keeps_its_duration() -> None:
    got = _self_ms([("p", None, 0, 10), ("a", "p", 0, 6), ("b", "p", 5, 10), ("leaf", None, 0, 7)])
    assert got == {"p": 0, "a": 6, "b": 5, "leaf": 7}


def test_skew_says_how_far_a_child_lies_outside_its_parent() -> None:
    out = trace_view.skew(_frame([("p", None, 100, 200), ("in", "p", 110, 190), ("early", "p", 30, 150),
                                  ("late", "p", 150, 260), ("orphan", "gone", 0, 1)])).collect()
    got = {s: (e / MS, late / MS) for s, e, late in out.iter_rows()}
    assert got == {"p": (0, 0), "in": (0, 0), "early": (70, 0), "late": (0, 60), "orphan": (0, 0)}


def _detail(spans: list[tuple[str, str | None, int, int]], events: dict[str, list[dict[str, object]]]) -> pl.DataFrame:
    base = _frame(spans).collect()
    return base.with_columns(
        pl.Series("events", [json.dumps(events[s]) if s in events else None for s in base["span_id"]]),
        pl.lit("edge").alias("tier"), pl.lit("gw").alias("service_name"), pl.col("span_id").alias("name"),
        pl.lit("internal").alias("kind"), pl.lit(None, pl.String).alias("site"), pl.lit("unset").alias("status_code"),
        pl.lit(None, pl.String).alias("status_message"))


def _rows(detail: pl.DataFrame, shift: dict[str, int] | None = None) -> pl.DataFrame:
    """The timeline, with each span in `shift` drawn that many ms later (as a skew repair would)."""
    aligned = {s: (a + (shift or {}).get(s, 0) * MS, b + (shift or {}).get(s, 0) * MS)
               for s, a, b in detail.select("span_id", "start_ns", "end_ns").iter_rows()}
    layout = trace_view.layout_frame({}, aligned, detail["span_id"].to_list())
    return trace_view.timeline(detail.lazy(), layout.lazy()).collect()


def test_events_carry_times_from_the_trace_start_and_from_their_span() -> None:
    detail = _detail([("p", None, 1000, 1100), ("c", "p", 1020, 1080)],
                     {"c": [{"time_ns": 1050 * MS, "name": "retry", "attributes": {"attempt": 2, "why": "503"}},
                            {"time_ns": 0, "name": "mark", "attributes": {}}],
                      "p": [{"time_ns": 1001 * MS, "name": "accepted", "attributes": {}}]})
    events = trace_view.events(detail, _rows(detail))
    assert events.select("event", "from_trace_start_ms", "from_span_start_ms", "attributes").rows() == [
        ("accepted", 1.0, 1.0, "–"),
        ("mark", 20.0, 0.0, "time not given: drawn at the span's start"),
        ("retry", 50.0, 30.0, "attempt=2; why=503")]
    assert events["row"].to_list() == [1, 2, 2]


def test_an_event_moves_with_its_span_when_the_drawing_moves_the_span() -> None:
    detail = _detail([("p", None, 1000, 1100), ("c", "p", 900, 960)],
                     {"c": [{"time_ns": 910 * MS, "name": "tick", "attributes": {}}]})
    rows = _rows(detail, shift={"c": 120})  # the repair moved c from 900 ms to 1020 ms
    assert rows.filter(pl.col("span_id") == "c").select("offset_ms", "shift_ms", "early_ms", "skewed").row(0) == (
        20.0, 120.0, 100.0, True)
    assert trace_view.events(detail, rows).select("from_trace_start_ms", "from_span_start_ms").row(0) == (30.0, 10.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trace_store(tmp_path_factory.mktemp("trace-view"))


def _layout(spans: pl.DataFrame) -> pl.DataFrame:
    """The layout app/data.trace_layout builds, from queries/critical_path.py."""
    nodes = [critical_path.SpanNode(r["span_id"], r["parent_span_id"], r["start_ns"], r["end_ns"],
                                    r["service_name"] or "", r["name"], r["tier"], r["kind"], r["site"])
             for r in spans.iter_rows(named=True)]
    path = {seg.span_id: seg.self_ns for seg in critical_path.critical_path(nodes)}
    tree = critical_path._sanitize(nodes)
    assert tree is not None
    aligned, order, stack = {}, [], [tree.root]
    while stack:
        node = stack.pop()
        aligned[node.span_id] = (node.start_ns, node.end_ns)
        order.append(node.span_id)
        stack.extend(sorted(tree.children.get(node.span_id, []), key=lambda c: c.start_ns, reverse=True))
    return trace_view.layout_frame(path, aligned, order)


def _trace(store: Path, tid: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    spans = run_query(store, "trace_detail", {"trace_id": tid})
    return spans, trace_view.timeline(spans.lazy(), _layout(spans).lazy()).collect()


def test_the_failing_trace_shows_its_errors_offsets_queueing_and_events(store: Path) -> None:
    spans, rows = _trace(store, FAILING)
    by = {r["name"] + "@" + r["tier"]: r for r in rows.iter_rows(named=True)}
    server = by["POST /v1/chat/completions@hyperscale"]
    assert server["error"] and server["status_message"] == "model server overloaded"
    assert server["self_ms"] == pytest.approx(QUEUE_SELF_MS) and server["offset_ms"] == pytest.approx(60.0)
    assert rows.filter(pl.col("error")).height == 4 and not rows["skewed"].any()
    assert rows["row"].to_list() == list(range(1, 8)) and rows["offset_ms"].min() == 0.0
    events = trace_view.events(spans, rows)
    exc = events.filter(pl.col("event") == "exception").row(0, named=True)
    assert (exc["from_trace_start_ms"], exc["from_span_start_ms"]) == pytest.approx((2539.0, 2479.0))
    assert "exception.message=model server overloaded" in exc["attributes"]
    shares = trace_view.path_shares(spans)
    assert shares["share_pct"].sum() == pytest.approx(100.0)
    assert shares.row(0, named=True)["component"] == "hyperscale"
    assert set(shares.filter(pl.col("part") == "hop")["component"]) == {"device→edge", "edge→hyperscale"}
    # the path runs through the server's queueing, not through time its model span holds
    path = trace_view.segments(rows.lazy()).collect()
    own = path.filter(pl.col("span_id") == server["span_id"])
    assert ((own["end_ns"] - own["start_ns"]).sum()) / MS == pytest.approx(QUEUE_SELF_MS)


def test_the_skewed_trace_is_drawn_inside_its_callers_and_says_how_far_off_it_was(store: Path) -> None:
    spans, rows = _trace(store, SKEWED)
    by = {r["name"] + "@" + r["tier"]: r for r in rows.iter_rows(named=True)}
    edge, report = by["POST /v1/chat@edge"], by["usage.report@hyperscale"]
    assert edge["skewed"] and edge["early_ms"] == pytest.approx(700.0) and edge["offset_ms"] >= 0
    assert report["skewed"] and report["late_ms"] == pytest.approx(150.0)
    assert rows.filter(pl.col("skewed")).height == 3
    root = rows.filter(pl.col("row") == 1).row(0, named=True)
    drawn = rows.filter(pl.col("row") > 1)
    assert (drawn["start_ns"] >= root["start_ns"]).all() and (drawn["end_ns"] <= root["end_ns"]).all()
    event = trace_view.events(spans, rows).row(0, named=True)
    assert event["from_span_start_ms"] == pytest.approx(1.0)
    assert event["from_trace_start_ms"] == pytest.approx(edge["offset_ms"] + 1.0)
    fig = charts_trace.waterfall(rows, trace_view.self_segments(rows.lazy()).collect(),
                                 trace_view.segments(rows.lazy()).collect(), trace_view.events(spans, rows), "start")
    ghosts = [t for t in fig.data if t.name == "⚠ where its own clock put it"]
    assert ghosts and len(ghosts[0].y) == 3


def test_attributes_read_as_key_and_value_text() -> None:
    got = trace_view.attributes('{"http.route": "/chat", "retries": 2, "tags": ["a", "b"]}')
    assert got.rows() == [("http.route", "/chat"), ("retries", "2"), ("tags", '["a", "b"]')]
    assert trace_view.attributes(None).height == 0
