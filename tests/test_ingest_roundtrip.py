"""Round trip: spans and metrics from the real OpenTelemetry SDK, written in every file form, come back exactly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import ingest, rows
from opentelemetry.sdk.metrics.export import ExponentialHistogramDataPoint, HistogramDataPoint, MetricsData, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan
from otel_sdk_data import BIG_INT, make_metrics, make_spans, metric_requests, span_requests, write_forms

FORMS = ["proto", "proto.gz", "proto.zst", "jsonl", "jsonl.zst"]


@pytest.fixture(scope="module")
def sdk_spans() -> list[ReadableSpan]:
    return make_spans()


@pytest.fixture(scope="module")
def sdk_metrics() -> MetricsData:
    return make_metrics()


@pytest.fixture(scope="module")
def span_files(tmp_path_factory: pytest.TempPathFactory, sdk_spans: list[ReadableSpan]) -> dict[str, Path]:
    return write_forms(tmp_path_factory.mktemp("spans"), "spans", span_requests(sdk_spans))


@pytest.fixture(scope="module")
def metric_files(tmp_path_factory: pytest.TempPathFactory, sdk_metrics: MetricsData) -> dict[str, Path]:
    return write_forms(tmp_path_factory.mktemp("metrics"), "metrics", metric_requests(sdk_metrics))


def _plain(attrs: Mapping[str, Any] | None) -> dict[str, Any]:
    """SDK attributes as tierwise stores them: tuples become lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (attrs or {}).items()}


def _expected_span(s: ReadableSpan) -> dict[str, Any]:
    ctx = s.get_span_context()
    assert ctx is not None and s.start_time is not None and s.end_time is not None
    return {
        "trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}",
        "parent_span_id": f"{s.parent.span_id:016x}" if s.parent else None,
        "name": s.name, "kind": s.kind.name.lower(), "status_code": s.status.status_code.name.lower(),
        "status_message": s.status.description, "start_ns": s.start_time, "end_ns": s.end_time,
        "duration_ns": s.end_time - s.start_time, "attributes": _plain(s.attributes),
        "events": [{"time_ns": e.timestamp, "name": e.name, "attributes": _plain(e.attributes)} for e in s.events] or None,
        "links": [{"trace_id": f"{ln.context.trace_id:032x}", "span_id": f"{ln.context.span_id:016x}",
                   "trace_state": None, "attributes": _plain(ln.attributes)} for ln in s.links] or None,
        "resource_attributes": _plain(s.resource.attributes),
        "scope_name": s.instrumentation_scope.name if s.instrumentation_scope else None,
        "scope_version": s.instrumentation_scope.version if s.instrumentation_scope else None,
    }


@pytest.mark.parametrize("form", FORMS)
def test_spans_round_trip(tmp_path: Path, form: str, span_files: dict[str, Path], sdk_spans: list[ReadableSpan]) -> None:
    db = tmp_path / "s.duckdb"
    r = ingest(db, span_files[form])
    assert (r.status, r.accepted, r.rejected, r.signals) == ("complete", len(sdk_spans), 0, ("traces",))
    assert r.fmt == ("proto" if form.startswith("proto") else "jsonl")
    got = {s["span_id"]: s for s in rows(db, "SELECT * FROM spans")}
    assert len(got) == len(sdk_spans) == 5
    encoded_flags = {sp.span_id.hex(): sp.flags for req in span_requests(sdk_spans) for rs in req.resource_spans
                     for ss in rs.scope_spans for sp in ss.spans}
    for sdk in sdk_spans:
        want = _expected_span(sdk)
        row = got[want["span_id"]]
        assert {k: row[k] for k in want} == want
        assert row["flags"] == encoded_flags[want["span_id"]]
    root = next(s for s in got.values() if s["parent_span_id"] is None)
    assert root["attributes"]["big"] == BIG_INT and root["attributes"]["arr_i"] == [1, BIG_INT]
    assert type(root["attributes"]["d"]) is float and type(root["attributes"]["i"]) is int
    # contract fields promoted from the resource and from span attributes
    assert (root["tier"], root["tier_source"], root["site"], root["workload"], root["data_class"]) == (
        "edge", "declared", "edge-ams-1", "chat", "internal")
    assert (root["service_name"], root["host_name"], root["gen_ai_model"], root["input_tokens"]) == (
        "rt-svc", "node-7", "m-1", 17)
    assert (root["cache_hit"], root["latency_budget_ms"]) == (True, 250.0)
    assert {s["kind"] for s in got.values()} == {"server", "internal", "client", "producer", "consumer"}
    assert sorted(s["status_code"] for s in got.values()) == ["error", "ok", "unset", "unset", "unset"]


def test_all_forms_store_identical_spans(tmp_path: Path, span_files: dict[str, Path]) -> None:
    seen = []
    for form in FORMS:
        db = tmp_path / f"{form}.duckdb"
        ingest(db, span_files[form])
        seen.append(rows(db, "SELECT * EXCLUDE (batch_key) FROM spans ORDER BY span_id"))
    assert all(s == seen[0] for s in seen[1:])


def _points(data: MetricsData) -> dict[tuple[str, str], tuple[Any, Any]]:
    out = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                for dp in m.data.data_points:
                    key = (m.name, str(sorted(_plain(dp.attributes).items())))
                    out[key] = (m, dp)
    return out


@pytest.mark.parametrize("form", FORMS)
def test_metrics_round_trip(tmp_path: Path, form: str, metric_files: dict[str, Path], sdk_metrics: MetricsData) -> None:
    db = tmp_path / "m.duckdb"
    r = ingest(db, metric_files[form])
    want = _points(sdk_metrics)
    assert (r.status, r.accepted, r.rejected) == ("complete", len(want), 0)
    got = rows(db, "SELECT * FROM metric_points")
    assert len(got) == len(want) == 6
    types = {"requests": "sum", "tierwise.queue.depth": "sum", "hw.gpu.utilization": "gauge", "latency": "histogram",
             "latency.exp": "exponential_histogram"}
    for row in got:
        m, dp = want[(row["metric_name"], str(sorted(row["attributes"].items())))]
        assert row["metric_type"] == types[m.name]
        assert (row["unit"], row["description"]) == (m.unit or None, m.description or None)
        assert row["time_ns"] == dp.time_unix_nano
        assert row["start_time_ns"] == (dp.start_time_unix_nano or None)
        assert row["resource_attributes"]["service.name"] == "rt-svc" and row["tier"] == "edge"
        assert (row["scope_name"], row["scope_version"]) == ("rt.meter", "0.9")
        if isinstance(dp, NumberDataPoint):
            assert row["value"] == float(dp.value)
            if row["metric_type"] == "sum":
                assert row["temporality"] == "cumulative"
                assert row["is_monotonic"] is m.data.is_monotonic
        elif isinstance(dp, HistogramDataPoint):
            assert (row["count"], row["sum"], row["min"], row["max"]) == (dp.count, dp.sum, dp.min, dp.max)
            assert row["bucket_counts"] == list(dp.bucket_counts)
            assert row["explicit_bounds"] == list(dp.explicit_bounds)
        else:
            assert isinstance(dp, ExponentialHistogramDataPoint)
            assert (row["count"], row["sum"], row["min"], row["max"]) == (dp.count, dp.sum, dp.min, dp.max)
            assert (row["scale"], row["zero_count"], row["zero_threshold"]) == (dp.scale, dp.zero_count, 0.0)
            assert (row["positive_offset"], row["positive_bucket_counts"]) == (dp.positive.offset,
                                                                               list(dp.positive.bucket_counts))
            assert (row["negative_offset"], row["negative_bucket_counts"]) == (dp.negative.offset,
                                                                               list(dp.negative.bucket_counts))
            assert sum(dp.positive.bucket_counts) + dp.zero_count == dp.count == 6
    canon = {r["metric_name"]: (r["canonical_name"], r["canonical_value"]) for r in got}
    assert canon["hw.gpu.utilization"] == ("gpu_utilization_ratio", 0.75)
    assert canon["tierwise.queue.depth"] == ("queue_depth", 7.0)
    assert canon["latency"] == (None, None)


def test_all_forms_store_identical_points(tmp_path: Path, metric_files: dict[str, Path]) -> None:
    seen = []
    for form in FORMS:
        db = tmp_path / f"{form}.duckdb"
        ingest(db, metric_files[form])
        seen.append(rows(db, "SELECT * EXCLUDE (batch_key) FROM metric_points ORDER BY metric_name, attributes"))
    assert all(s == seen[0] for s in seen[1:])
