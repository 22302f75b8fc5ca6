"""A hand-written OTLP JSON estate for the trace view: a failing cross-tier trace with events and a queueing server,
and one whose hosts' clocks disagree (a server starting before its client, a child ending after its parent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest_helpers import ingest_cli

T0 = 1_796_000_000_000_000_000  # 2026-11-30T00:53:20Z
MS = 1_000_000
FAILING = "e0" * 16
SKEWED = "5c" * 16
# The failing trace's origin server waits 1,840 ms before its model span starts, and 10 ms after it ends.
QUEUE_SELF_MS = 1850.0


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in values.items()]


def _span(trace: str, span: str, parent: str | None, name: str, kind: int, start_ms: float, end_ms: float,
          attrs: dict[str, Any] | None = None, error: str | None = None,
          events: list[tuple[str, float, dict[str, Any]]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": trace, "spanId": span, "name": name, "kind": kind,
                           "startTimeUnixNano": str(T0 + int(start_ms * MS)),
                           "endTimeUnixNano": str(T0 + int(end_ms * MS)), "attributes": _attrs(attrs or {}),
                           "events": [{"name": n, "timeUnixNano": str(T0 + int(t * MS)), "attributes": _attrs(a)}
                                      for n, t, a in events or []]}
    if parent:
        out["parentSpanId"] = parent
    if error:
        out["status"] = {"code": 2, "message": error}
    return out


def _doc(service: str, tier: str, site: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    resource = {"service.name": service, "tierwise.tier": tier, "tierwise.site": site, "tierwise.workload": "chat"}
    return {"resource": {"attributes": _attrs(resource)}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}


def failing() -> dict[str, Any]:
    """Phone → edge → cloud; the cloud's model server is overloaded and every span up the chain fails."""
    t = FAILING
    return {"resourceSpans": [
        _doc("chat-app", "device", "phones-eu", [
            _span(t, "d0" * 8, None, "chat.send", 1, 0, 2600, {"screen": "chat"}, "request failed",
                  [("ui.error_shown", 2598, {"ui.message": "Try again"})]),
            _span(t, "d1" * 8, "d0" * 8, "POST", 3, 5, 2590, {"http.request.method": "POST"}, "HTTP 503")]),
        _doc("chat-edge", "edge", "pop-ams", [
            _span(t, "e0" * 8, "d1" * 8, "POST /v1/chat", 2, 20, 2570, {"http.route": "/v1/chat"},
                  "upstream failed"),
            _span(t, "e1" * 8, "e0" * 8, "cache.lookup", 1, 22, 30, {"cache.name": "semantic"},
                  events=[("cache.miss", 28, {"cache.key_bytes": 512})]),
            _span(t, "e2" * 8, "e0" * 8, "POST", 3, 35, 2560, {"http.request.method": "POST"})]),
        _doc("chat-origin", "hyperscale", "us-east-1", [
            _span(t, "c0" * 8, "e2" * 8, "POST /v1/chat/completions", 2, 60, 2540,
                  {"http.route": "/v1/chat/completions", "http.response.status_code": 503},
                  "model server overloaded",
                  [("queue.enter", 62, {"queue.depth": 41}), ("queue.exit", 1900, {}),
                   ("exception", 2539, {"exception.type": "ServiceUnavailable",
                                        "exception.message": "model server overloaded"})]),
            _span(t, "c1" * 8, "c0" * 8, "chat llama-3.3-70b", 1, 1900, 2530, {"gen_ai.request.model": "llama"})]),
    ]}


def skewed() -> dict[str, Any]:
    """Laptop → edge → cloud; the edge's clock is 700 ms behind and the cloud's runs late, and a cloud child ends
    150 ms after its parent (reported work after the reply)."""
    t = SKEWED
    return {"resourceSpans": [
        _doc("chat-web", "device", "laptops-eu", [
            _span(t, "a0" * 8, None, "chat.send", 1, 1000, 3000),
            _span(t, "a1" * 8, "a0" * 8, "POST", 3, 1000, 2990)]),
        _doc("chat-edge", "edge", "pop-fra", [
            _span(t, "b0" * 8, "a1" * 8, "POST /v1/chat", 2, 300, 2250, events=[("request.accepted", 301, {})]),
            _span(t, "b1" * 8, "b0" * 8, "cache.lookup", 1, 310, 320),
            _span(t, "b2" * 8, "b0" * 8, "POST", 3, 330, 2240)]),
        _doc("chat-origin", "hyperscale", "us-east-1", [
            _span(t, "f0" * 8, "b2" * 8, "POST /v1/chat/completions", 2, 1050, 2950),
            _span(t, "f1" * 8, "f0" * 8, "chat llama-3.3-70b", 1, 2000, 2900),
            _span(t, "f2" * 8, "f0" * 8, "usage.report", 1, 2900, 3100)]),
    ]}


def trace_store(workdir: Path) -> Path:
    """workdir/traces.duckdb holding both traces, loaded by the real `tierwise ingest`."""
    source = workdir / "traces.jsonl"
    source.write_text(json.dumps(failing()) + "\n" + json.dumps(skewed()) + "\n", encoding="utf-8")
    db = workdir / "traces.duckdb"
    ingest_cli(workdir, db, source)
    return db
