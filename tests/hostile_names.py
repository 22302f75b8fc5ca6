"""A store whose service, span, site, host and workload names (and bill names) are Markdown and HTML aimed at a port."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ingest_helpers import ingest_cli

T0 = 1764288000_000000000  # 2025-11-28T00:00:00Z, as tests/fixtures/tiny_store


def names(port: int) -> list[str]:
    """A Markdown image, an HTML link and a script, each fetching from 127.0.0.1:`port` if rendered."""
    return [f"![px](http://127.0.0.1:{port}/x.png)", f'<a href="http://127.0.0.1:{port}/y">y</a>',
            f"<script>fetch('http://127.0.0.1:{port}/z')</script>"]


def _s(key: str, value: str) -> dict[str, object]:
    return {"key": key, "value": {"stringValue": value}}


def _span(tid: str, sid: str, parent: str | None, name: str, kind: int, start_ms: float, end_ms: float,
          attrs: list[dict[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {"traceId": tid, "spanId": sid, "name": name, "kind": kind,
                              "startTimeUnixNano": str(T0 + int(start_ms * 1e6)),
                              "endTimeUnixNano": str(T0 + int(end_ms * 1e6)), "attributes": attrs, "status": {}}
    if parent:
        out["parentSpanId"] = parent
    return out


def _resource(service: str, tier: str, site: str, host: str) -> dict[str, object]:
    return {"attributes": [_s("service.name", service), _s("tierwise.tier", tier), _s("tierwise.site", site),
                           _s("host.name", host)]}


def trace_id(i: int, j: int) -> str:
    return f"{i + 1:x}{j + 1:x}" * 16


def write_traces(path: Path, hostile: list[str]) -> None:
    """OTLP JSON lines (the Collector file exporter's shape): per name, three traces of a regulated workload named
    so, from an edge service named so (its site and host too) through a client call to hyperscale (whose site is
    the next name), so that the trust-zone rule recommends a move for it, quoting the names."""
    lines = []
    for i, name in enumerate(hostile):
        other = hostile[(i + 1) % len(hostile)]
        for j in range(3):
            tid, sid = trace_id(i, j), f"{i + 1:02x}{j + 1:02x}00000000000"
            base = 60_000 * (10 * i + j)
            attrs = [_s("tierwise.workload", name), _s("tierwise.data_class", "regulated"), _s("note", name)]
            edge = {"resource": _resource(name, "edge", name, name), "scopeSpans": [{"scope": {"name": name}, "spans": [
                _span(tid, sid + "1", None, name, 2, base, base + 250 + 10 * j, attrs),
                _span(tid, sid + "2", sid + "1", name, 3, base + 20, base + 240, attrs)]}]}
            cloud = {"resource": _resource(name, "hyperscale", other, "gpu-hs-1"), "scopeSpans": [
                {"scope": {"name": name}, "spans": [_span(tid, sid + "3", sid + "2", name, 2, base + 50, base + 200,
                                                          attrs)]}]}
            lines.append(json.dumps({"resourceSpans": [edge, cloud]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_bills(path: Path, hostile: list[str]) -> None:
    """A FOCUS CSV whose service, resource, site and workload tag are the names."""
    header = ["BilledCost", "EffectiveCost", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
              "BillingPeriodStart", "BillingPeriodEnd", "BillingCurrency", "ProviderName", "ServiceCategory",
              "ServiceName", "ResourceId", "x_Tier", "x_SiteId", "Tags"]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i, name in enumerate(hostile):
            for day in (27, 28):
                out.writerow([100 + i, 100 + i, "Usage", f"2025-11-{day}T00:00:00Z", f"2025-11-{day + 1}T00:00:00Z",
                              "2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z", "USD", name, "Compute", name, name,
                              "hyperscale" if i else "edge", name, json.dumps({"workload": name})])


def hostile_store(workdir: Path, hostile: list[str]) -> Path:
    """workdir/hostile.duckdb: traces and bills named `hostile` (written beside it), loaded by the real CLI."""
    write_traces(workdir / "traces.jsonl", hostile)
    write_bills(workdir / "bills.csv", hostile)
    db = workdir / "hostile.duckdb"
    ingest_cli(workdir, db, workdir / "traces.jsonl", workdir / "bills.csv")
    return db
