"""The data contract at ingest: prompt text privacy and tier derivation (rules and through a real load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from ingest_helpers import rows, run_cli

from store.contract import derive_tier
from store.settings import TierRules, load_settings

T = "1700000000000000000"


def _kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k, v in attrs.items():
        value = {"boolValue": v} if isinstance(v, bool) else {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}
        out.append({"key": k, "value": value})
    return out


def _doc(resource: dict[str, Any], spans: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": _kv(resource)},
                                            "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}) + b"\n"


def _span(n: int, attrs: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": f"s{n}", "kind": 2, "startTimeUnixNano": T,
            "endTimeUnixNano": T, "attributes": _kv(attrs or {}), "events": events or []}


# --- privacy ----------------------------------------------------------------------------------------

PROMPT = "tell me the secret recipe"


def _chat_file(tmp_path: Path) -> Path:
    event = {"timeUnixNano": T, "name": "gen_ai.content.prompt", "attributes": _kv({"gen_ai.prompt": PROMPT, "n": 1})}
    other = {"timeUnixNano": T, "name": "cache.lookup", "attributes": _kv({"hit": True})}
    span = _span(1, {"gen_ai.prompt": PROMPT, "gen_ai.input.messages": f'[{{"content": "{PROMPT}"}}]',
                     "gen_ai.request.model": "m-1", "gen_ai.usage.input_tokens": 12}, [event, other])
    p = tmp_path / "chat.jsonl"
    p.write_bytes(_doc({"service.name": "chat", "gen_ai.system_instructions": PROMPT}, [span]))
    return p


def test_prompt_text_is_dropped_by_default(tmp_path: Path, db_path: Path) -> None:
    assert run_cli("ingest", "--db", str(db_path), "--quiet", str(_chat_file(tmp_path))).exit_code == 0
    [s] = rows(db_path, "SELECT * FROM spans")
    assert s["attributes"] == {"gen_ai.request.model": "m-1", "gen_ai.usage.input_tokens": 12}
    assert s["resource_attributes"] == {"service.name": "chat"}
    assert s["events"] == [{"time_ns": int(T), "name": "gen_ai.content.prompt", "attributes": {}},
                           {"time_ns": int(T), "name": "cache.lookup", "attributes": {"hit": True}}]
    assert (s["gen_ai_model"], s["input_tokens"]) == ("m-1", 12)
    raw = rows(db_path, "SELECT attributes::VARCHAR || events::VARCHAR || resource_attributes::VARCHAR AS t FROM spans")
    assert PROMPT not in raw[0]["t"]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_prompt_text_is_kept_when_opted_in(tmp_path: Path, db_path: Path, how: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["ingest", "--db", str(db_path), "--quiet", str(_chat_file(tmp_path))]
    if how == "flag":
        args.insert(1, "--store-content")
    else:
        monkeypatch.setenv("TIERWISE_STORE_CONTENT", "1")
    assert run_cli(*args).exit_code == 0
    [s] = rows(db_path, "SELECT * FROM spans")
    assert s["attributes"]["gen_ai.prompt"] == PROMPT
    assert s["attributes"]["gen_ai.input.messages"] == f'[{{"content": "{PROMPT}"}}]'
    assert s["resource_attributes"]["gen_ai.system_instructions"] == PROMPT
    assert s["events"][0]["attributes"] == {"gen_ai.prompt": PROMPT, "n": 1}


# --- tier derivation --------------------------------------------------------------------------------

RULES = TierRules(edge_hosts=frozenset({"pop-ams-1", "edge-k3s"}), edge_sites=frozenset({"store-042"}),
                  edge_platforms=frozenset({"akamai_edge"}),
                  region_tiers=(("eu-central-1", "regional"), ("me-south-1", "Cloud"), ("xx-1", "moon")))


@pytest.mark.parametrize(("attrs", "expected"), [
    ({"tierwise.tier": "edge"}, ("edge", "declared")),
    ({"tierwise.tier": " Regional "}, ("regional", "declared")),
    ({"tierwise.tier": "cloud"}, ("hyperscale", "declared")),
    ({"tierwise.tier": "device", "cloud.provider": "aws"}, ("device", "declared")),
    ({"tierwise.tier": "moon"}, ("unknown", "unknown")),
    ({"tierwise.tier": 3}, ("unknown", "unknown")),
    ({"device.model.identifier": "Pixel 8"}, ("device", "derived:device")),
    ({"os.type": "android"}, ("device", "derived:device")),
    ({"os.type": "ios"}, ("device", "derived:device")),
    ({"browser.brands": "x"}, ("device", "derived:device")),
    ({"app.installation.id": "abc"}, ("device", "derived:device")),
    ({"os.type": "linux"}, ("unknown", "unknown")),
    ({"host.name": "pop-ams-1", "cloud.provider": "aws"}, ("edge", "derived:edge-inventory")),
    ({"k8s.cluster.name": "edge-k3s"}, ("edge", "derived:edge-inventory")),
    ({"tierwise.site": "store-042"}, ("edge", "derived:edge-inventory")),
    ({"cloud.platform": "akamai_edge"}, ("edge", "derived:edge-inventory")),
    ({"cloud.provider": "aws", "cloud.region": "eu-central-1"}, ("regional", "derived:cloud")),
    ({"cloud.region": "me-south-1"}, ("hyperscale", "derived:cloud")),
    ({"cloud.provider": "gcp", "cloud.region": "us-east4"}, ("hyperscale", "derived:cloud")),
    ({"cloud.provider": "gcp"}, ("hyperscale", "derived:cloud")),
    ({"cloud.region": "xx-1"}, ("unknown", "unknown")),
    ({"host.name": "laptop"}, ("unknown", "unknown")),
    ({}, ("unknown", "unknown")),
])
def test_derive_tier(attrs: dict[str, Any], expected: tuple[str, str]) -> None:
    assert derive_tier(attrs, RULES) == expected


def test_default_cloud_tier_is_configurable() -> None:
    assert derive_tier({"cloud.provider": "azure"}, TierRules(default_cloud_tier="regional")) == ("regional", "derived:cloud")


TOML = """
[tiers]
edge_hosts = ["pop-ams-1"]
edge_sites = ["store-042"]
default_cloud_tier = "hyperscale"

[tiers.regions]
"eu-central-1" = "regional"
"""


def test_tiers_through_ingest_with_tierwise_toml(tmp_path: Path, db_path: Path) -> None:
    (tmp_path / "tierwise.toml").write_text(TOML)  # the working directory of every test is tmp_path
    assert load_settings(env={}).tier_rules.edge_hosts == frozenset({"pop-ams-1"})
    src = tmp_path / "estate.jsonl"
    src.write_bytes(
        _doc({"service.name": "app", "os.type": "android"}, [_span(1), _span(2)])
        + _doc({"service.name": "pop", "host.name": "pop-ams-1"}, [_span(3)])
        + _doc({"service.name": "shop", "tierwise.site": "store-042"}, [_span(4)])
        + _doc({"service.name": "api", "cloud.provider": "aws", "cloud.region": "eu-central-1"}, [_span(5), _span(6)])
        + _doc({"service.name": "llm", "cloud.provider": "aws", "cloud.region": "us-east-1"}, [_span(7)])
        + _doc({"service.name": "declared", "tierwise.tier": "Cloud"}, [_span(8), _span(9, {"tierwise.tier": "edge"})])
        + _doc({"service.name": "mystery", "host.name": "somewhere"}, [_span(10), _span(11), _span(12)])
    )
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(src))
    assert res.exit_code == 0, res.output
    got = {r["name"]: (r["tier"], r["tier_source"]) for r in rows(db_path, "SELECT name, tier, tier_source FROM spans")}
    assert got == {
        "s1": ("device", "derived:device"), "s2": ("device", "derived:device"),
        "s3": ("edge", "derived:edge-inventory"), "s4": ("edge", "derived:edge-inventory"),
        "s5": ("regional", "derived:cloud"), "s6": ("regional", "derived:cloud"),
        "s7": ("hyperscale", "derived:cloud"),
        "s8": ("hyperscale", "declared"), "s9": ("edge", "declared"),  # a span may declare its own tier
        "s10": ("unknown", "unknown"), "s11": ("unknown", "unknown"), "s12": ("unknown", "unknown"),
    }
    [u] = rows(db_path, "SELECT count(*) AS n FROM spans WHERE tier = 'unknown'")
    assert u["n"] == 3
    sites = {r["name"]: r["site"] for r in rows(db_path, "SELECT name, site FROM spans")}
    assert (sites["s4"], sites["s5"], sites["s1"]) == ("store-042", "eu-central-1", None)


def test_prompt_text_is_dropped_from_protobuf_too(tmp_path: Path, db_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from otel_sdk_data import framed

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("chat", attributes={"gen_ai.prompt": PROMPT, "k": 1}) as sp:
        sp.add_event("gen_ai.content.prompt", {"gen_ai.prompt": PROMPT, "x": 2})
    src = tmp_path / "chat.binpb"
    src.write_bytes(framed([encode_spans(exporter.get_finished_spans()).SerializeToString()]))
    assert run_cli("ingest", "--db", str(db_path), "--quiet", str(src)).exit_code == 0
    [s] = rows(db_path, "SELECT attributes, events FROM spans")
    assert s["attributes"] == {"k": 1}
    assert s["events"][0]["name"] == "gen_ai.content.prompt" and s["events"][0]["attributes"] == {}


def test_prompt_text_in_scope_attributes_is_dropped(tmp_path: Path, db_path: Path) -> None:
    doc = orjson.loads(_doc({"service.name": "chat"}, [_span(1)]))
    doc["resourceSpans"][0]["scopeSpans"][0]["scope"]["attributes"] = _kv({"gen_ai.prompt": PROMPT, "lib": "x"})
    src = tmp_path / "scope.json"
    src.write_bytes(orjson.dumps(doc))
    assert run_cli("ingest", "--db", str(db_path), "--quiet", str(src)).exit_code == 0
    [s] = rows(db_path, "SELECT scope_attributes FROM spans")
    assert s["scope_attributes"] == {"lib": "x"}
