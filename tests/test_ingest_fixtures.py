"""Third-party OTLP samples (opentelemetry-proto, file-exporter spec, Rust SDK, Jaeger) ingest exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import OTLP, count, ingest, rows, run_cli

PROTO = OTLP / "otlp-proto-examples"
SPEC = OTLP / "otlp-file-exporter-spec"
RUST = OTLP / "otel-rust-expected"
JAEGER = OTLP / "jaeger-fixtures"

# (file, spans, metric points, skipped log records): counted by hand from each file.
EXPECTED = [
    (PROTO / "trace.json", 1, 0, 0),
    (PROTO / "metrics.json", 0, 4, 0),
    (PROTO / "logs.json", 0, 0, 1),
    (PROTO / "events.json", 0, 0, 1),
    (SPEC / "traces.jsonl", 8, 0, 0),
    (SPEC / "metrics.jsonl", 0, 16, 0),
    (SPEC / "logs.jsonl", 0, 0, 8),
    (RUST / "traces.json", 2, 0, 0),
    (RUST / "serialized_traces.json", 2, 0, 0),
    (RUST / "metrics.json", 0, 3, 0),
    (RUST / "metrics_test_histogram_meter.json", 0, 1, 0),
    (RUST / "logs.json", 0, 0, 1),
    (JAEGER / "example_trace.json", 5, 0, 0),
    (JAEGER / "link_attributes_trace.json", 1, 0, 0),
    (JAEGER / "scope_attributes_trace.json", 1, 0, 0),
    (JAEGER / "span_tags_trace.json", 1, 0, 0),
    (JAEGER / "process_tags_trace.json", 1, 0, 0),
]


@pytest.mark.parametrize(("path", "spans", "points", "skipped"), EXPECTED, ids=[p.name for p, *_ in EXPECTED])
def test_counts_are_exact(db_path: Path, path: Path, spans: int, points: int, skipped: int) -> None:
    r = ingest(db_path, path)
    assert (r.status, r.accepted, r.rejected, r.skipped) == ("complete", spans + points, 0, skipped)
    assert (count(db_path, "spans"), count(db_path, "metric_points"), count(db_path, "quarantine")) == (spans, points, 0)


def test_every_sample_through_the_cli(db_path: Path) -> None:
    files = [str(p) for p, *_ in EXPECTED]
    res = run_cli("ingest", "--db", str(db_path), "--quiet", *files)
    assert res.exit_code == 0, res.output
    spans = sum(s for _, s, _, _ in EXPECTED)
    points = sum(p for _, _, p, _ in EXPECTED)
    skipped = sum(k for *_, k in EXPECTED)
    assert f"total: {len(EXPECTED)} files, {spans + points} accepted, 0 rejected, {skipped} skipped" in res.output
    assert (count(db_path, "spans"), count(db_path, "metric_points")) == (spans, points)


def test_proto_example_trace(db_path: Path) -> None:
    ingest(db_path, PROTO / "trace.json")
    [s] = rows(db_path, "SELECT * FROM spans")
    assert s["trace_id"] == "5B8EFFF798038103D269B633813FC60C".lower()
    assert (s["span_id"], s["parent_span_id"]) == ("eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert (s["name"], s["kind"], s["status_code"], s["flags"]) == ("I'm a server span", "server", "unset", 0)
    assert (s["start_ns"], s["end_ns"], s["duration_ns"]) == (1544712660000000000, 1544712661000000000, 10**9)
    assert s["attributes"] == {"my.span.attr": "some value"}
    assert s["resource_attributes"] == {"service.name": "my.service"}
    assert (s["service_name"], s["workload"], s["tier"], s["tier_source"]) == ("my.service", "my.service", "unknown",
                                                                               "unknown")
    assert (s["scope_name"], s["scope_version"]) == ("my.library", "1.0.0")
    assert s["scope_attributes"] == {"my.scope.attribute": "some scope attribute"}
    assert s["events"] is None and s["links"] is None


def test_proto_example_metrics_one_row_per_point(db_path: Path) -> None:
    ingest(db_path, PROTO / "metrics.json")
    got = {r["metric_name"]: r for r in rows(db_path, "SELECT * FROM metric_points")}
    assert set(got) == {"my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"}
    c, g, h, e = (got[n] for n in ("my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"))
    assert (c["metric_type"], c["temporality"], c["is_monotonic"], c["value"], c["unit"]) == ("sum", "delta", True, 5.0, "1")
    assert c["description"] == "I am a Counter" and c["attributes"] == {"my.counter.attr": "some value"}
    assert c["time_ns"] == c["start_time_ns"] == 1544712660300000000
    assert (g["metric_type"], g["temporality"], g["is_monotonic"], g["value"], g["start_time_ns"]) == (
        "gauge", None, None, 10.0, None)
    assert (h["metric_type"], h["count"], h["sum"], h["min"], h["max"]) == ("histogram", 2, 2.0, 0.0, 2.0)
    assert (h["bucket_counts"], h["explicit_bounds"], h["value"]) == ([1, 1], [1.0], None)
    assert (e["metric_type"], e["count"], e["sum"], e["min"], e["max"]) == ("exponential_histogram", 3, 10.0, 0.0, 5.0)
    assert (e["scale"], e["zero_count"], e["zero_threshold"]) == (0, 1, 0.0)
    assert (e["positive_offset"], e["positive_bucket_counts"]) == (1, [0, 2])
    assert (e["negative_offset"], e["negative_bucket_counts"]) == (0, [])
    assert {r["scope_name"] for r in got.values()} == {"my.library"}


def test_spec_traces_empty_ids_are_null(db_path: Path) -> None:
    ingest(db_path, SPEC / "traces.jsonl")
    spans = rows(db_path, "SELECT * FROM spans ORDER BY start_ns, name")
    assert len(spans) == 8
    assert all(s["trace_id"] is None and s["span_id"] is None and s["parent_span_id"] is None for s in spans)
    a = next(s for s in spans if s["name"] == "operationA")
    assert (a["status_code"], a["status_message"]) == ("error", "status-cancelled")
    assert (a["dropped_attributes_count"], a["dropped_events_count"]) == (1, 1)
    assert a["events"][0] == {"time_ns": 1581452773000000123, "name": "event-with-attr",
                              "attributes": {"span-event-attr": "span-event-attr-val"}}
    b = next(s for s in spans if s["name"] == "operationB")
    assert b["dropped_links_count"] == 3
    assert b["links"] == [
        {"trace_id": None, "span_id": None, "trace_state": None, "attributes": {"span-link-attr": "span-link-attr-val"}},
        {"trace_id": None, "span_id": None, "trace_state": None, "attributes": {}},
    ]
    assert {s["resource_attributes"]["resource-attr"] for s in spans} == {"resource-attr-val-1"}
    assert {s["scope_name"] for s in spans} == {None}


def test_spec_metrics_points(db_path: Path) -> None:
    ingest(db_path, SPEC / "metrics.jsonl")
    pts = rows(db_path, "SELECT value, time_ns, start_time_ns, attributes FROM metric_points "
                        "WHERE metric_name = 'counter-int' ORDER BY time_ns, start_time_ns, value")
    assert len(pts) == 16
    assert sorted(p["value"] for p in pts) == sorted([123, 456, 123, 456, 120, 456, 123, 456,
                                                      121, 456, 123, 456, 125, 456, 123, 456])
    assert pts[0]["time_ns"] == 1581452773000000789 and pts[0]["start_time_ns"] == 1581452772000000321


def test_rust_traces_empty_parent_is_root(db_path: Path) -> None:
    ingest(db_path, RUST / "traces.json")
    spans = {s["name"]: s for s in rows(db_path, "SELECT * FROM spans")}
    root, child = spans["operation"], spans["Sub operation..."]
    assert root["parent_span_id"] is None
    assert child["parent_span_id"] == root["span_id"] == "d58cf2d702a061e0"
    assert root["trace_id"] == child["trace_id"] == "9b458af7378cba65253d7042d34fc72e"
    assert (root["kind"], root["flags"], root["service_name"]) == ("internal", 1, "basic-otlp-tracing-example")
    assert root["events"] == [{"time_ns": 1703985537070563326, "name": "Nice operation!", "attributes": {"bogons": 100}}]
    assert child["attributes"] == {"lemons": "five"}


def test_rust_serialized_traces_explicit_zero_fields(db_path: Path) -> None:
    """The verbose form (empty strings, zero codes, entityRefs) gives the same spans as the compact one."""
    ingest(db_path, RUST / "serialized_traces.json")
    spans = {s["name"]: s for s in rows(db_path, "SELECT * FROM spans")}
    root = spans["operation"]
    assert (root["parent_span_id"], root["trace_state"], root["status_code"], root["status_message"]) == (
        None, None, "unset", None)
    assert root["scope_version"] is None and root["scope_attributes"] is None
    assert spans["Sub operation..."]["parent_span_id"] == "d58cf2d702a061e0"


def test_rust_metrics(db_path: Path) -> None:
    ingest(db_path, RUST / "metrics.json")
    got = {r["metric_name"]: r for r in rows(db_path, "SELECT * FROM metric_points")}
    assert (got["counter_u64"]["value"], got["counter_u64"]["temporality"]) == (10.0, "cumulative")
    assert got["counter_u64"]["attributes"] == {"mykey1": "myvalue1", "mykey2": "myvalue2"}
    updown = got["example_up_down_counter"]
    assert (updown["value"], updown["is_monotonic"]) == (-1.0, False)
    h = got["example_histogram"]
    assert h["bucket_counts"] == [0, 0, 0, 0, 1] + [0] * 11
    assert h["explicit_bounds"] == [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]
    assert (h["count"], h["sum"], h["min"], h["max"]) == (1, 42.0, 42.0, 42.0)


def test_jaeger_links_keep_typed_attributes(db_path: Path) -> None:
    ingest(db_path, JAEGER / "link_attributes_trace.json")
    [s] = rows(db_path, "SELECT * FROM spans")
    assert (s["trace_id"], s["span_id"]) == ("00000000000000000000000000000226", "0000000000000004")
    assert len(s["links"]) == 3
    first = s["links"][0]
    assert (first["trace_id"], first["span_id"]) == ("000000000000000000000000000000ff", "00000000000000ff")
    assert first["attributes"] == {"opentracing.ref_type": "child_of", "sameplacelinkattribute1": "sameplacevalue",
                                   "sameplacelinkattribute2": 123, "sameplacelinkattribute4": True,
                                   "sameplacelinkattribute3": 72.5, "linkblob": "AAAwOQ=="}
    assert [ln["attributes"]["opentracing.ref_type"] for ln in s["links"]] == ["child_of", "child_of", "follows_from"]


def test_jaeger_scope_attributes(db_path: Path) -> None:
    ingest(db_path, JAEGER / "scope_attributes_trace.json")
    [s] = rows(db_path, "SELECT * FROM spans")
    assert (s["scope_name"], s["scope_version"]) == ("testing-library", "1.1.1")
    assert s["scope_attributes"] == {"sameplacescopeattribute1": "sameplacevalue", "sameplacescopeattribute2": 123,
                                     "sameplacescopeattribute4": True, "sameplacescopeattribute3": 72.5,
                                     "scopeblob": "AAAwOQ=="}
    assert [e["name"] for e in s["events"]] == ["", ""]


def test_jaeger_process_tags_are_resource_attributes(db_path: Path) -> None:
    ingest(db_path, JAEGER / "process_tags_trace.json")
    [s] = rows(db_path, "SELECT * FROM spans")
    assert s["resource_attributes"] == {"service.name": "query03-service", "sameplacetag1": "sameplacevalue",
                                        "sameplacetag2": 123, "sameplacetag4": True, "sameplacetag3": 72.5,
                                        "blob": "AAAwOQ=="}
    assert s["attributes"] == {}
    assert s["service_name"] == "query03-service"


def test_jaeger_span_tags_keep_json_types(db_path: Path) -> None:
    """Types survive in the JSON column: 123 is an integer, 72.5 a double, true a boolean."""
    ingest(db_path, JAEGER / "span_tags_trace.json")
    [t] = rows(db_path, "SELECT json_type(attributes, '$.sameplacetag2') AS i, json_type(attributes, '$.sameplacetag3') "
                        "AS d, json_type(attributes, '$.sameplacetag4') AS b, json_type(attributes, '$.blob') AS s "
                        "FROM spans")
    assert (t["i"], t["d"], t["b"], t["s"]) == ("UBIGINT", "DOUBLE", "BOOLEAN", "VARCHAR")


def test_jaeger_example_trace(db_path: Path) -> None:
    ingest(db_path, JAEGER / "example_trace.json")
    spans = rows(db_path, "SELECT trace_id, span_id, parent_span_id, name, kind FROM spans ORDER BY span_id")
    assert [s["span_id"] for s in spans] == [f"000000000000000{i}" for i in range(3, 8)]
    assert all(s["parent_span_id"] is None for s in spans)
    assert [s["kind"] for s in spans] == ["unspecified", "unspecified", "unspecified", "server", "client"]
    assert [s["name"] for s in spans][3:] == ["example-operation-3", "example-operation-4"]


def test_logs_are_counted_as_skipped(db_path: Path) -> None:
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(SPEC / "logs.jsonl"), str(PROTO / "events.json"))
    assert res.exit_code == 0, res.output
    assert "0 accepted, 0 rejected, 8 skipped" in res.output
    assert "total: 2 files, 0 accepted, 0 rejected, 9 skipped" in res.output
    assert [r["rows_skipped"] for r in rows(db_path, "SELECT rows_skipped FROM ingest_files ORDER BY source")] == [8, 1]
