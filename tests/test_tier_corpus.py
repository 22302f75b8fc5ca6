"""Tier derivation from the OpenTelemetry semantic conventions, on resources as real SDKs and detectors emit them.

The corpus (tests/fixtures/resources) holds iOS, Android and browser resources, Python, Java, .NET, Go and Node.js
services on EC2, ECS, EKS, Lambda, GCE, GKE, Cloud Run, Azure VMs and AKS, bare metal, and the gateway-Collector
pitfall, each with the tier, tier_source and site tierwise must give it with no tierwise.* attribute at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import tier_corpus
from click.testing import CliRunner
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from otel_sdk_data import framed, otlp_json_line

from app.cli import cli
from ingest.otlp.rows import resource_context
from store import contract
from store.contract import derive_tier, zone_region
from store.settings import Settings, TierRules

CASES = tier_corpus.load()
SCHEMA_0104 = Path(contract.__file__).parent / "clickhouse" / "schema" / "0104_semconv_tier_rules.sql"
SPANS_PER_CASE = 3


def test_the_corpus_covers_every_platform_and_pitfall() -> None:
    ids = {c.id for c in CASES}
    assert len(ids) == len(CASES) >= 50
    for needed in ("ios-iphone", "android", "browser-default", "browser-chrome", "python-ec2", "java-ecs-fargate",
                   "python-eks-collector-default", "python-lambda", "python-gce", "python-gke-zonal",
                   "python-cloud-run", "python-azure-vm", "python-aks", "bare-metal-k8s", "gateway-android-ec2",
                   "consul-datacenter"):
        assert needed in ids
    assert sum(c.python_detector is not None for c in CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_resource_gets_its_tier_source_and_site(case: tier_corpus.Case) -> None:
    assert derive_tier(case.resource, case.rules) == (case.tier, case.tier_source)
    ctx = resource_context(dict(case.resource), Settings(tier_rules=case.rules))
    assert (ctx.tier, ctx.tier_source, ctx.site) == (case.tier, case.tier_source, case.site)


@pytest.mark.parametrize("case", [c for c in CASES if c.python_detector], ids=lambda c: c.id)
def test_the_real_python_detectors_emit_the_corpus_attributes(case: tier_corpus.Case) -> None:
    """The corpus records what the detector packages give on each platform (metadata service or environment faked
    with the case's inputs), so it cannot drift from them."""
    built = dict(tier_corpus.build(case).attributes)
    skip = tier_corpus.VERSIONED
    assert {k: v for k, v in built.items() if k not in skip} == {k: v for k, v in case.resource.items() if k not in skip}


@pytest.mark.parametrize(("zone", "provider", "region"), [
    ("us-east-1a", "aws", "us-east-1"), ("us-gov-west-1b", "aws", "us-gov-west-1"),
    ("us-west-2-lax-1a", "aws", "us-west-2"), ("us-east-1-wl1-bos-wlz-1", "aws", "us-east-1"),
    ("us-central1-c", "gcp", "us-central1"), ("northamerica-northeast1-b", None, "northamerica-northeast1"),
    ("cn-hangzhou-h", "alibaba_cloud", "cn-hangzhou"), ("eastus-1", "azure", "eastus"), ("eastus2-3", "azure", "eastus2"),
    ("ap-guangzhou-3", "tencent_cloud", "ap-guangzhou"), ("eastus-1", None, None), ("us-east-1", "aws", None),
    ("2", "azure", None), ("", "aws", None), (None, None, None), (3, "azure", None),
])
def test_the_region_of_a_zone(zone: Any, provider: str | None, region: str | None) -> None:
    assert zone_region(zone, provider) == region


@pytest.mark.parametrize(("attrs", "cloud"), [
    ({"host.type": "m5.large"}, True), ({"host.type": "g5.12xlarge"}, True), ({"host.type": "c7i.metal-24xl"}, True),
    ({"host.type": "mac2.metal"}, True), ({"host.type": "u-6tb1.metal"}, True), ({"host.type": "n2-standard-4"}, True),
    ({"host.type": "e2-medium"}, True), ({"host.type": "a3-highgpu-8g"}, True), ({"host.type": "ct5lp-hightpu-4t"}, True),
    ({"host.type": "Standard_NC24ads_A100_v4"}, True), ({"host.id": "i-0123456789abcdef0"}, True),
    ({"host.id": "i-0123abcd"}, True), ({"host.type": "laptop"}, False), ({"host.type": "x86_64"}, False),
    ({"host.type": "large"}, False), ({"host.id": "fdbf79e8af94cb7f9e8df36789187052"}, False),
    ({"host.name": "m5.large"}, False), ({"host.type": 5}, False),
])
def test_a_cloud_machine_type_or_instance_id_alone(attrs: dict[str, Any], cloud: bool) -> None:
    want = ("hyperscale", "derived:cloud-host") if cloud else ("unknown", "unknown")
    assert derive_tier(attrs, TierRules()) == want


@pytest.mark.parametrize(("attrs", "expected"), [
    ({"cloud.region": "dc-ams1"}, ("unknown", "unknown")),  # a Consul datacenter
    ({"cloud.region": "dc-ams1", "cloud.provider": "aws"}, ("hyperscale", "derived:cloud")),
    ({"cloud.region": "europe-west4"}, ("hyperscale", "derived:cloud")),  # GCP-shaped
    ({"cloud.region": "westeurope"}, ("unknown", "unknown")),
    ({"os.name": "IOS"}, ("device", "derived:device")),
    ({"os.name": "Android", "cloud.provider": "gcp"}, ("device", "derived:device")),
    ({"android.os.api_level": "34"}, ("device", "derived:device")),
    ({"user_agent.original": "curl/8.5.0"}, ("unknown", "unknown")),
    ({"telemetry.sdk.language": "java", "os.name": "Linux"}, ("unknown", "unknown")),
    ({"telemetry.sdk.language": "swift", "os.type": "darwin"}, ("device", "derived:device")),
    ({"k8s.node.name": "edge-node-1", "cloud.provider": "aws"}, ("edge", "derived:edge-inventory")),
    ({"cloud.availability_zone": "us-central1-c"}, ("regional", "derived:cloud")),
    ({"cloud.availability_zone": "us-central1-c", "cloud.region": "us-east4"}, ("hyperscale", "derived:cloud")),
    ({"cloud.region": "dc-edge-7"}, ("edge", "derived:cloud")),  # configured: the region table decides
])
def test_rules_at_their_boundaries(attrs: dict[str, Any], expected: tuple[str, str]) -> None:
    rules = TierRules(edge_hosts=frozenset({"edge-node-1"}),
                      region_tiers=(("dc-edge-7", "edge"), ("us-central1", "regional")))
    assert derive_tier(attrs, rules) == expected


def test_the_clickhouse_views_use_the_contract_patterns_verbatim() -> None:
    """0104 repeats derive_tier in SQL; its regular expressions must be the contract's (the ClickHouse tests check
    the outcome on the corpus, this the text, so a pattern edited on one side only is caught on machines without
    chdb too)."""
    text = SCHEMA_0104.read_text("utf-8")
    for pattern in (contract.AWS_ZONE, contract.LETTER_ZONE, contract.NUMBER_ZONE, contract.AWS_REGION,
                    contract.GCP_REGION, *contract.CLOUD_HOST_TYPES, contract.EC2_HOST_ID):
        assert text.count(f"'{pattern}'") == (4 if "ZONE" in _name(pattern) else 2), pattern
    for name in sorted(contract.DEVICE_OS_NAMES):
        assert f"'{name}'" in text
    for source in contract.TIER_SOURCES:
        assert f"'{source}'" in text


def _name(pattern: str) -> str:
    return next(k for k, v in vars(contract).items() if v == pattern and k.isupper())


def _sdk_spans(case: tier_corpus.Case) -> list[ReadableSpan]:
    """A server span with a client and an internal child, made by the SDK with the case's resource."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=tier_corpus.build(case))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tier.corpus")
    with tracer.start_as_current_span("GET /chat", kind=SpanKind.SERVER, attributes={"http.request.method": "GET"}):
        with tracer.start_as_current_span("POST /v1/embeddings", kind=SpanKind.CLIENT):
            pass
        with tracer.start_as_current_span("rank"):
            pass
    provider.shutdown()
    spans = list(exporter.get_finished_spans())
    assert len(spans) == SPANS_PER_CASE
    return spans


@pytest.fixture(scope="module")
def sdk_telemetry() -> dict[str, tuple[tier_corpus.Case, list[ReadableSpan]]]:
    """Trace id (hex) → the case and its spans, for every case that needs no configuration."""
    made = {}
    for case in CASES:
        if not case.configured:
            spans = _sdk_spans(case)
            made[trace.format_trace_id(spans[0].context.trace_id)] = (case, spans)
    return made


@pytest.mark.parametrize("form", ["proto", "jsonl"])
def test_sdk_telemetry_ingested_without_config_gets_its_tier(
        tmp_path: Path, form: str, sdk_telemetry: dict[str, tuple[tier_corpus.Case, list[ReadableSpan]]]) -> None:
    """The SDK's spans, written as the Collector's file exporter writes them (one export request per resource) and
    loaded by `tierwise ingest` with no tierwise.toml: device and cloud spans get their tier, all spans their
    tier_source and site, read back from the DuckDB store."""
    requests = [encode_spans(spans) for _, spans in sdk_telemetry.values()]
    path = tmp_path / f"traces.{form}"
    path.write_bytes(framed([r.SerializeToString() for r in requests]) if form == "proto"
                     else b"".join(otlp_json_line(r) for r in requests))
    db = tmp_path / "store.duckdb"
    assert not (tmp_path / "tierwise.toml").exists()
    res = CliRunner().invoke(cli, ["ingest", "--quiet", "--db", str(db), str(path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT trace_id, tier, tier_source, site FROM spans").fetchall()
    assert len(rows) == SPANS_PER_CASE * len(sdk_telemetry)
    right = {"device": 0, "cloud": 0}
    total = {"device": 0, "cloud": 0}
    for trace_id, tier, source, site in rows:
        case, _ = sdk_telemetry[trace_id]
        if case.category in total:
            total[case.category] += 1
            right[case.category] += tier == case.tier
        assert (tier, source, site) == (case.tier, case.tier_source, case.site), case.id
    assert total["device"] >= 14 * SPANS_PER_CASE and total["cloud"] >= 25 * SPANS_PER_CASE
    for category in total:
        assert right[category] / total[category] >= 0.95, (category, right[category], total[category])
