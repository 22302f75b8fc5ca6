"""Shared pieces of the mapping-rule tests: real-SDK telemetry from resources without tierwise.* attributes, the
rules that place it, and table-by-table comparison of stores."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from click.testing import Result
from ingest_helpers import isolated, run_cli
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from otel_sdk_data import otlp_json_line

from store import derived

FINOPS = Path(__file__).parent / "fixtures" / "finops"
# A FOCUS export (stored in the wide ledger table) and a legacy CUR (stored narrow): both ledger tables get rules.
BILLS = (FINOPS / "focus-1.0-sample-1000.csv", FINOPS / "aws-cur-legacy-anon-sample.csv")
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
MS = 1_000_000
# Where telemetry runs, as the SDK's resource detectors would describe it: no tierwise.* attribute anywhere.
RESOURCES: dict[str, dict[str, Any]] = {
    "factory-1": {"service.name": "vision", "k8s.cluster.name": "factory-1", "k8s.node.name": "rack-a",
                  "host.name": "rack-a"},
    "factory-2": {"service.name": "vision", "k8s.cluster.name": "factory-2", "k8s.node.name": "rack-b",
                  "host.name": "rack-b"},
    "eks": {"service.name": "api", "cloud.provider": "aws", "cloud.platform": "aws_eks",
            "cloud.region": "us-east-1", "k8s.cluster.name": "prod-eks"},
    "lab": {"service.name": "lab", "host.name": "lab-1"},
}
TRACES_PER_RESOURCE = 40

# One rule per edge cluster, rules over span attributes (glob, CIDR over a list, bool) and a data-class-only rule.
MAP_RULES = """
[[map]]
name = "factory one"
when = { "k8s.cluster.name" = "factory-1" }
set = { tier = "edge", site = "factory-1" }

[[map]]
name = "factory two"
when = { "k8s.cluster.name" = { regex = "factory-[2-9]" } }
set = { tier = "edge", site = "factory-2", workload = "vision-line-2" }

[[map]]
name = "lab v2 route"
when = { "http.route" = "/v2/*", "service.name" = "lab" }
set = { tier = "regional", workload = "lab-v2" }

[[map]]
name = "lab net"
when = { "host.ip" = { cidr = "10.1.2.0/30" } }
set = { tier = "edge", site = "lab", data_class = "confidential" }

[[map]]
name = "busy gpus"
when = { "gpu.busy" = true, "service.name" = "api" }
set = { data_class = "regulated" }
"""

COST_RULES = """
[[cost_map]]
name = "ec2 main account"
when = { ServiceName = "Amazon Elastic Compute Cloud", SubAccountId = "11353890204" }
set = { workload = "vision", tier = "hyperscale", site = "us-east-1" }

[[cost_map]]
name = "prod apps"
when = { "tag:environment" = "prod", ServiceName = "Amazon*" }
set = { workload = "prod-apps" }

[[cost_map]]
name = "storage accounts"
when = { ServiceName = "Storage Accounts" }
set = { tier = "regional" }

[[cost_map]]
name = "datalake"
when = { ServiceName = { regex = "Amazon Simple (Storage|Queue) Service" }, ProviderName = "AWS" }
set = { workload = "datalake", site = "us-west-2" }
"""


def _provider(name: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(RESOURCES[name]))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def make_spans(traces: int = TRACES_PER_RESOURCE) -> list[ReadableSpan]:
    """Per resource `traces` traces: a server span, its client call and the EKS api's server span answering it."""
    providers = {name: _provider(name) for name in RESOURCES}
    api = providers["eks"][0].get_tracer("api")
    for r, name in enumerate(n for n in RESOURCES if n != "eks"):
        tracer = providers[name][0].get_tracer(name)
        for i in range(traces):
            t = T0 + (r * traces + i) * 1000 * MS
            attrs = {"http.route": "/v2/y" if i % 3 == 0 else "/v1/x", "host.ip": [f"10.1.2.{i % 8}", "fe80::1"],
                     "retry": i % 2}
            root = tracer.start_span("handle", kind=SpanKind.SERVER, attributes=attrs, start_time=t)
            call = tracer.start_span("call api", context=trace.set_span_in_context(root), kind=SpanKind.CLIENT,
                                     start_time=t + 2 * MS)
            served = api.start_span("serve", context=trace.set_span_in_context(call), kind=SpanKind.SERVER,
                                    attributes={"gpu.busy": i % 4 == 0, "http.route": "/v1/api"},
                                    start_time=t + 5 * MS)
            served.end(end_time=t + (20 + i % 7) * MS)
            call.end(end_time=t + (30 + i % 5) * MS)
            root.end(end_time=t + (40 + i % 11) * MS)
    spans: list[ReadableSpan] = []
    for provider, memory in providers.values():
        provider.shutdown()
        spans.extend(memory.get_finished_spans())
    return spans


def make_metrics() -> list[MetricsData]:
    """One collection per resource: a request counter by route and a GPU utilisation gauge."""
    out = []
    for attrs in RESOURCES.values():
        reader = InMemoryMetricReader()
        provider = MeterProvider(resource=Resource.create(attrs), metric_readers=[reader])
        meter = provider.get_meter("rules-test")
        counter = meter.create_counter("requests", unit="{request}")
        counter.add(5, {"http.route": "/v1/x"})
        counter.add(3, {"http.route": "/v2/y"})
        meter.create_gauge("hw.gpu.utilization", unit="1").set(0.5, {"gpu": "0"})
        data = reader.get_metrics_data()
        assert data is not None
        provider.shutdown()
        out.append(data)
    return out


def write_telemetry(folder: Path, spans: Sequence[ReadableSpan], metrics: Sequence[MetricsData]) -> tuple[Path, Path]:
    """traces.jsonl (OTLP/JSON, a few export requests) and metrics.jsonl of SDK-made telemetry in `folder`."""
    traces = folder / "traces.jsonl"
    step = max(1, len(spans) // 4)
    traces.write_bytes(b"".join(otlp_json_line(encode_spans(spans[i:i + step])) for i in range(0, len(spans), step)))
    points = folder / "metrics.jsonl"
    points.write_bytes(b"".join(otlp_json_line(encode_metrics(m)) for m in metrics))
    return traces, points


def write_config(path: Path, *parts: str) -> Path:
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


# Every relation a placement reaches: the rows, the ledger as queries read it, and every derived table.
RELATIONS = ("spans", "metric_points", "costs", "cost_links", *(d.table for d in derived.REGISTRY))


def differences(a: Path, b: Path, relations: Sequence[str] = RELATIONS,
                exclude: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """Per relation that differs: rows only in `a` and rows only in `b` (multisets, EXCEPT ALL both ways), less
    the columns `exclude` names for a relation (e.g. {"spans": "batch_key"})."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        out = {}
        for rel in relations:
            less = f" EXCLUDE ({exclude[rel]})" if exclude and rel in exclude else ""
            a_rows, b_rows = f"SELECT *{less} FROM a.{rel}", f"SELECT *{less} FROM b.{rel}"
            only_a = con.execute(f"SELECT count(*) FROM ({a_rows} EXCEPT ALL {b_rows})").fetchone()
            only_b = con.execute(f"SELECT count(*) FROM ({b_rows} EXCEPT ALL {a_rows})").fetchone()
            got = (int(only_a[0]) if only_a else -1, int(only_b[0]) if only_b else -1)
            if got != (0, 0):
                out[rel] = got
        return out
    finally:
        con.close()


def fingerprint(db: Path, relations: Sequence[str] = RELATIONS) -> dict[str, tuple[int, int]]:
    """Per relation its row count and the sum of its rows' hashes (equal contents, equal fingerprints)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for rel in relations:
            row = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {rel} t").fetchone()
            assert row is not None
            out[rel] = (int(row[0]), int(row[1]))
        return out
    finally:
        con.close()


@dataclass(frozen=True)
class Estate:
    """SDK telemetry and two bills, loaded without rules (`plain`) and with them (`ruled`), in `workdir`."""

    workdir: Path
    spans: list[ReadableSpan]
    metrics: list[MetricsData]
    sources: tuple[Path, ...]
    config: Path
    plain: Path
    ruled: Path


def cli(workdir: Path, *args: str) -> Result:
    """`tierwise ARGS...` run in `workdir`, free of the developer's TIERWISE_* settings."""
    with isolated(workdir):
        return run_cli(*args)


def load(workdir: Path, db: Path, sources: Sequence[Path], config: Path | None = None) -> Path:
    """`tierwise ingest` of `sources` into `db` (with `config`'s rules when given); fails unless it exits 0."""
    extra = ("--config", str(config)) if config else ()
    done = cli(workdir, "ingest", "--quiet", "--db", str(db), *extra, *map(str, sources))
    assert done.exit_code == 0, done.output
    return db


def build_estate(workdir: Path) -> Estate:
    spans, metrics = make_spans(), make_metrics()
    sources = (*write_telemetry(workdir, spans, metrics), *BILLS)
    config = write_config(workdir / "rules.toml", MAP_RULES, COST_RULES)
    return Estate(workdir, spans, metrics, sources, config, load(workdir, workdir / "plain.duckdb", sources),
                  load(workdir, workdir / "ruled.duckdb", sources, config))


def copy(db: Path, to: Path) -> Path:
    """A copy of a closed store (its write-ahead log checkpointed: the file holds everything)."""
    assert not Path(f"{db}.wal").exists()
    shutil.copyfile(db, to)
    return to
