"""The ingest fast paths must store exactly what the Python decoders store, and decline what they cannot prove."""

from __future__ import annotations

import copy
import importlib.util
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import otel_sdk_data as sdk
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import store
from ingest.files import fast_json, fast_proto
from ingest.files.sources import Record
from ingest.sinks import loader
from store.settings import Settings, TierRules

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = {"spans": "", "metric_points": "", "quarantine": "EXCLUDE (quarantined_at)",
          "ingest_batches": "EXCLUDE (committed_at)", "ingest_files": "EXCLUDE (first_seen_at, completed_at)"}
RULES = Settings(tier_rules=TierRules(edge_hosts=frozenset({"gw-1"}), region_tiers=(("eu-x", "regional"),)))


def _kv(key: str, value: dict[str, Any] | None) -> dict[str, Any]:
    return {"key": key, "value": value} if value is not None else {"key": key}


def _span(i: int, attrs: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    sp: dict[str, Any] = {"traceId": f"{i:032x}", "spanId": f"{i + 1:016x}", "parentSpanId": f"{i + 2:016x}",
                          "name": f"op-{i}", "kind": 2, "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
                          "endTimeUnixNano": str(1_700_000_000_500_000_000 + i),
                          "attributes": attrs if attrs is not None else [
                              _kv("http.route", {"stringValue": "/v1/chat"}),
                              _kv("gen_ai.usage.input_tokens", {"intValue": "42"}),
                              _kv("tierwise.cache.hit", {"boolValue": True})],
                          "status": {"code": 1}}
    sp.update(over)
    return sp


def _doc(spans: list[dict[str, Any]], res: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resource = {"attributes": res if res is not None else [
        _kv("service.name", {"stringValue": "svc"}), _kv("tierwise.tier", {"stringValue": "edge"}),
        _kv("host.name", {"stringValue": "gw-1"})]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [
        {"scope": {"name": "lib", "version": "1.2", "attributes": [_kv("k", {"intValue": 7})]}, "spans": spans}]}]}


def _records(lines: list[bytes]) -> list[Record]:
    return [Record(i + 1, line) for i, line in enumerate(lines)]


def _decode(lines: list[bytes], settings: Settings, fast: bool) -> loader.Decoded:
    return loader.decode_batch(_records(lines), "jsonl", settings, fast=fast)


def assert_same(lines: list[bytes], settings: Settings = RULES) -> bool:
    """Both decoders give identical tables and rejections; returns whether the fast path took the batch."""
    slow, fast = _decode(lines, settings, False), _decode(lines, settings, True)
    assert fast.rejections == slow.rejections
    assert (fast.spans is None) == (slow.spans is None)
    if slow.spans is not None and fast.spans is not None:
        assert fast.spans.schema == slow.spans.schema
        for name in slow.spans.column_names:
            assert fast.spans[name].to_pylist() == slow.spans[name].to_pylist(), name
    return fast_json.decode_traces(_records(lines), settings) is not None


def _line(doc: Any) -> bytes:
    return orjson.dumps(doc) + b"\n"


CLEAN = [
    ("base", lambda: _doc([_span(1), _span(2)])),
    ("upper-case and empty ids", lambda: _doc([_span(3, traceId="AB" * 16, parentSpanId="", spanId="0A" * 8)])),
    ("numbers for 64-bit fields, enum names", lambda: _doc([_span(
        4, startTimeUnixNano=5, endTimeUnixNano=9, kind="SPAN_KIND_CLIENT", flags=257,
        status={"code": "STATUS_CODE_ERROR", "message": "boom"}, droppedAttributesCount=3, traceState="a=b")])),
    ("string escapes and unicode", lambda: _doc([_span(5, [
        _kv("q", {"stringValue": 'a"b\\c\n\t\r/é😀\u2028\x7f'}), _kv('we"ird\nkey', {"stringValue": ""})])])),
    ("ints, bools, missing values", lambda: _doc([_span(6, [
        _kv("i", {"intValue": "-9223372036854775808"}), _kv("j", {"intValue": "9223372036854775807"}),
        _kv("b", {"boolValue": False}), _kv("none", None), _kv("empty", {}), _kv("z", {"intValue": "0"})])])),
    ("ints as JSON numbers", lambda: {"resourceSpans": [{"scopeSpans": [{"spans": [_span(13, [
        _kv("i", {"intValue": -5}), _kv("j", {"intValue": 9223372036854775807})])]}]}]}),
    ("doubles", lambda: _doc([_span(14, [
        _kv("d", {"doubleValue": 1.5}), _kv("e", {"doubleValue": -0.0}), _kv("f", {"doubleValue": 5}),
        _kv("g", {"doubleValue": 0.1 + 0.2}), _kv("h", {"doubleValue": 123456789012345.6}),
        _kv("i", {"doubleValue": 0.0001}), _kv("tierwise.latency_budget_ms", {"doubleValue": 250.0}),
        _kv("gen_ai.usage.input_tokens", {"doubleValue": 12.0}), _kv("tierwise.cache.hit", {"doubleValue": 1.0})])])),
    ("promotions", lambda: _doc([_span(7, [
        _kv("tierwise.tier", {"stringValue": " Cloud "}), _kv("tierwise.site", {"stringValue": ""}),
        _kv("tierwise.workload", {"stringValue": "chat"}), _kv("tierwise.workload.type", {"stringValue": "Inference"}),
        _kv("tierwise.data_class", {"stringValue": "bogus"}), _kv("tierwise.latency_budget_ms", {"stringValue": "12.5"}),
        _kv("tierwise.cache.hit", {"stringValue": "TRUE"}), _kv("tierwise.cache.name", {"intValue": "3"}),
        _kv("gen_ai.request.model", {"stringValue": ""}), _kv("gen_ai.response.model", {"stringValue": "m1"}),
        _kv("gen_ai.usage.output_tokens", {"stringValue": "17"}), _kv("http.request.body.size", {"boolValue": True}),
        _kv("http.response.body.size", {"intValue": "5"})]),
        _span(8, [_kv("tierwise.tier", {"stringValue": "moon"}), _kv("gen_ai.request.model", {"intValue": "0"}),
                  _kv("gen_ai.response.model", {"stringValue": "m2"}), _kv("tierwise.latency_budget_ms", {"intValue": "9"})]),
        _span(9, [_kv("gen_ai.request.model", {"stringValue": "m3"}), _kv("tierwise.cache.hit", {"intValue": "1"})])])),
    ("content attributes", lambda: _doc([_span(10, [
        _kv("gen_ai.prompt", {"stringValue": "secret"}), _kv("gen_ai.prompt.0.content", {"stringValue": "x"}),
        _kv("llm.input_messages.1", {"stringValue": "y"}), _kv("keep", {"stringValue": "ok"})])])),
    ("no attributes, status or scope", lambda: {"resourceSpans": [{"scopeSpans": [{"spans": [
        {k: v for k, v in _span(11).items() if k not in ("attributes", "status", "kind")}]}]}]}),
    ("resource derivations", lambda: _doc([_span(12)], res=[
        _kv("cloud.region", {"stringValue": "eu-x"}), _kv("service.name", {"stringValue": "r"}),
        _kv("tags", {"arrayValue": {"values": [{"doubleValue": 1.5}]}})])),
    ("empty resourceSpans", lambda: {"resourceSpans": []}),
]


@pytest.mark.parametrize(("name", "make"), CLEAN, ids=[c[0] for c in CLEAN])
@pytest.mark.parametrize("store_content", [False, True])
def test_fast_path_takes_clean_batches_and_matches_python(name: str, make: Callable[[], Any],
                                                         store_content: bool) -> None:
    settings = Settings(tier_rules=RULES.tier_rules, store_content=store_content)
    assert assert_same([_line(make()), _line(_doc([_span(99)]))], settings), name


def _mut(path: tuple[Any, ...], value: Any) -> Callable[[], Any]:
    def make() -> Any:
        doc = _doc([_span(1), _span(2)])
        node = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value
        return doc
    return make


DECLINED = [
    ("double as string", _mut(("attributes", 0, "value"), {"doubleValue": "1.5"})),
    ("double too large to print alike", _mut(("attributes", 0, "value"), {"doubleValue": 1e16})),
    ("double too small to print alike", _mut(("attributes", 0, "value"), {"doubleValue": 1e-5})),
    ("nan", _mut(("attributes", 0, "value"), {"doubleValue": "NaN"})),
    ("array", _mut(("attributes", 0, "value"), {"arrayValue": {"values": [{"stringValue": "a"}]}})),
    ("kvlist", _mut(("attributes", 0, "value"), {"kvlistValue": {"values": []}})),
    ("bytes", _mut(("attributes", 0, "value"), {"bytesValue": "AAE="})),
    ("int out of range", _mut(("attributes", 1, "value"), {"intValue": "9223372036854775808"})),
    ("int with plus", _mut(("attributes", 1, "value"), {"intValue": "+5"})),
    ("int as float", _mut(("attributes", 1, "value"), {"intValue": 5.0})),
    ("bool as string", _mut(("attributes", 2, "value"), {"boolValue": "true"})),
    ("string as number", _mut(("attributes", 0, "value"), {"stringValue": 5})),
    ("control char", _mut(("attributes", 0, "value"), {"stringValue": "a\x0bb"})),
    ("oversized", _mut(("attributes", 0, "value"), {"stringValue": "x" * 300_000})),
    ("duplicate attribute", _mut(("attributes", 2), _kv("http.route", {"stringValue": "/other"}))),
    ("key not a string", _mut(("attributes", 0, "key"), 5)),
    ("attributes not a list", _mut(("attributes",), "x")),
    ("null value", _mut(("attributes", 0, "value"), {"stringValue": None})),
    ("base64 id", _mut(("traceId",), "AAECAwQFBgcICQoLDA0ODw==")),
    ("bad hex id", _mut(("spanId",), "zz" * 8)),
    ("short id", _mut(("spanId",), "abc")),
    ("id not a string", _mut(("traceId",), 12)),
    ("name not a string", _mut(("name",), 5)),
    ("end before start", _mut(("endTimeUnixNano",), "1")),
    ("time as float", _mut(("startTimeUnixNano",), 1.5)),
    ("time with spaces", _mut(("startTimeUnixNano",), " 5")),
    ("time leading zero", _mut(("startTimeUnixNano",), "0005")),
    ("negative time", _mut(("startTimeUnixNano",), "-5")),
    ("missing start", _mut(("startTimeUnixNano",), None)),
    ("unknown kind", _mut(("kind",), "SPAN_KIND_FOO")),
    ("kind out of range", _mut(("kind",), 9)),
    ("kind mixed types", _mut(("kind",), "SPAN_KIND_SERVER")),
    ("bad status code", _mut(("status",), {"code": 7})),
    ("status not an object", _mut(("status",), "ok")),
    ("flags too large", _mut(("flags",), 2**33)),
    ("dropped negative", _mut(("droppedEventsCount",), -1)),
    ("events", _mut(("events",), [{"name": "e", "timeUnixNano": "5"}])),
    ("links", _mut(("links",), [{"traceId": "ab" * 16, "spanId": "cd" * 8}])),
    ("span not an object", lambda: _doc([_span(1), "x"])),  # type: ignore[list-item]
    ("bad resource", lambda: _doc([_span(1)], res=[{"key": 5}])),
]


@pytest.mark.parametrize(("name", "make"), DECLINED, ids=[c[0] for c in DECLINED])
def test_fast_path_declines_what_it_cannot_prove_and_results_still_match(name: str, make: Callable[[], Any]) -> None:
    lines = [_line(_doc([_span(50)])), _line(make())]
    assert not assert_same(lines), f"{name}: the fast path must decline this batch"


@pytest.mark.parametrize("raw", [
    b'{"resourceSpans":[{"scopeSpans":[{"spans":[]}],}]}\n', b'{"resourceSpans":[]}} x\n', b"[1, 2]\n",
    b'{"resourceMetrics":[]}\n', b'{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"\\ud800"}}]}]}\n',
    b'{"resourceSpans":[],"x":NaN}\n', b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","startTimeUnixNano":1,'
    b'"endTimeUnixNano":2,"attributes":[{"key":"d","value":{"doubleValue":1e400}}]}]}]}]}\n',
    b'{"resourceSpans":[\xff]}\n', b'{"resourceSpans":[{"resource":[]}]}\n',
])
def test_fast_path_declines_text_orjson_rejects(raw: bytes) -> None:
    assert not assert_same([_line(_doc([_span(1)])), raw])


def test_equal_on_random_promotion_mixes() -> None:
    rng = random.Random(7)
    keys = ["tierwise.tier", "tierwise.site", "tierwise.workload.type", "tierwise.data_class",
            "tierwise.latency_budget_ms", "tierwise.cache.hit", "tierwise.cache.name", "gen_ai.request.model",
            "gen_ai.response.model", "gen_ai.usage.input_tokens", "http.request.body.size", "other"]
    values = [{"stringValue": s} for s in ("", "edge", "EDGE", "Hyperscale", "public", "batch", "1.5", "true",
                                           "False", "12", "x")] + [
        {"intValue": n} for n in ("0", "1", "-3", "77")] + [{"boolValue": True}, {"boolValue": False}, {}]
    spans = []
    for i in range(300):
        ks = rng.sample(keys, rng.randrange(0, 6))
        spans.append(_span(i, [_kv(k, copy.deepcopy(rng.choice(values))) for k in ks]))
    assert assert_same([_line(_doc(spans[:150])), _line(_doc(spans[150:]))])


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_ingest", Path(__file__).parent.parent / "bench" / "ingest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT * {ex} FROM {t}").fetchall() for t, ex in TABLES.items()}
    finally:
        con.close()


def _ingest_all(db: Path, files: list[Path], settings: Settings) -> None:
    con = store.open_writer(db)
    try:
        for f in files:
            loader.ingest_file(con, f, settings, workers=0)
    finally:
        con.close()


def test_stores_are_identical_row_for_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _bench()
    rng = random.Random(3)
    bench_file = tmp_path / "bench.jsonl"
    lines = [mod._line(rng, n, 1_760_000_000_000_000_000) for n in range(3)]
    bench_file.write_bytes(b"".join(j + b"\n" for j, _ in lines))
    bench_pb = tmp_path / "bench.pb"
    bench_pb.write_bytes(sdk.framed([p for _, p in lines]))
    forms = sdk.write_forms(tmp_path, "sdk", sdk.span_requests(sdk.make_spans()))
    files = [bench_file, bench_pb, forms["jsonl"], forms["jsonl.zst"], forms["proto"], forms["proto.gz"],
             FIXTURES / "tiny_store" / "traces.jsonl",
             *sorted((FIXTURES / "otlp").rglob("*.json*"))]
    used: list[bool] = []
    for module in (fast_json, fast_proto):
        def spy(records: Any, settings: Settings, real: Any = module.decode_traces) -> Any:
            out = real(records, settings)
            used.append(out is not None)
            return out

        monkeypatch.setattr(module, "decode_traces", spy)
    settings = Settings(tier_rules=RULES.tier_rules, batch_bytes=200_000)
    monkeypatch.setenv(fast_json.ENV_FAST, "0")
    _ingest_all(tmp_path / "slow.duckdb", files, settings)
    assert not used
    monkeypatch.setenv(fast_json.ENV_FAST, "1")
    _ingest_all(tmp_path / "fast.duckdb", files, settings)
    assert sum(used) >= 8, used  # the bench batches (both formats), SDK protobuf and the tiny store went fast
    slow, fast = _dump(tmp_path / "slow.duckdb"), _dump(tmp_path / "fast.duckdb")
    assert len(fast["spans"]) > 3000
    for table in TABLES:
        assert fast[table] == slow[table], table


def _request(edit: Callable[[Any], None] | None = None) -> bytes:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    for k, v in (("service.name", "svc"), ("tierwise.tier", "cloud"), ("host.name", "gw-1")):
        kv = rs.resource.attributes.add(key=k)
        kv.value.string_value = v
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    for i in range(3):
        sp = ss.spans.add(trace_id=bytes([i + 1]) * 16, span_id=bytes([i + 2]) * 8, name=f"op-{i}", kind=2,
                          start_time_unix_nano=10 + i, end_time_unix_nano=20 + i, flags=1)
        sp.status.code = 1
        attrs: tuple[tuple[str, Any], ...] = (("gen_ai.request.model", "m"), ("gen_ai.usage.input_tokens", 5 + i), ("d", 1.5),
                     ("tierwise.cache.hit", True), ("gen_ai.prompt", "secret"), ("b", b"\x00\x01"))
        for k, v in attrs:
            kv = sp.attributes.add(key=k)
            if isinstance(v, bool):
                kv.value.bool_value = v
            elif isinstance(v, int):
                kv.value.int_value = v
            elif isinstance(v, float):
                kv.value.double_value = v
            elif isinstance(v, bytes):
                kv.value.bytes_value = v
            else:
                kv.value.string_value = v
    if edit is not None:
        edit(ss.spans[1])
    out: bytes = req.SerializeToString()
    return out


def _set(obj: Any, **fields: Any) -> bool:
    for k, v in fields.items():
        setattr(obj, k, v)
    return True


def _attr(span: Any, key: str) -> Any:
    return span.attributes.add(key=key).value


def _same_proto(payloads: list[bytes], settings: Settings = RULES) -> bool:
    recs = _records(payloads)
    slow = loader.decode_batch(recs, "proto", settings, fast=False)
    fast = loader.decode_batch(recs, "proto", settings, fast=True)
    assert fast.rejections == slow.rejections
    assert (fast.spans is None) == (slow.spans is None)
    if slow.spans is not None and fast.spans is not None:
        for name in slow.spans.column_names:
            assert fast.spans[name].to_pylist() == slow.spans[name].to_pylist(), name
    return fast_proto.decode_traces(recs, settings) is not None


PROTO_EDITS: list[tuple[str, Callable[[Any], Any] | None, bool]] = [
    ("clean", None, True),
    ("events and links", lambda s: (s.events.add(name="gen_ai.choice", time_unix_nano=5),
                                    s.links.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)), True),
    ("nan, array, kvlist", lambda s: (_set(_attr(s, "n"), double_value=float("nan")),
                                      _attr(s, "a").array_value.values.add(string_value="x"),
                                      _attr(s, "kv").kvlist_value.values.add(key="y")), True),
    ("empty ids and status", lambda s: (s.ClearField("trace_id"), s.ClearField("status")), True),
    ("promotions", lambda s: (_set(_attr(s, "tierwise.tier"), string_value="Moon"),
                              _set(_attr(s, "tierwise.latency_budget_ms"), string_value="7"),
                              _set(_attr(s, "gen_ai.response.model"), string_value="r")), True),
    ("duplicate key", lambda s: _set(_attr(s, "d"), int_value=3), False),
    ("oversized", lambda s: _set(_attr(s, "big"), string_value="x" * 300_000), False),
    ("bad id length", lambda s: _set(s, span_id=b"\x01\x02"), False),
    ("end before start", lambda s: _set(s, end_time_unix_nano=1), False),
    ("unknown kind", lambda s: _set(s, kind=9), False),
    ("negative kind", lambda s: _set(s, kind=-1), False),
    ("unknown status", lambda s: _set(s.status, code=5), False),
    ("time beyond int64", lambda s: _set(s, end_time_unix_nano=2**63), False),
]


@pytest.mark.parametrize(("name", "edit", "fast"), PROTO_EDITS, ids=[e[0] for e in PROTO_EDITS])
@pytest.mark.parametrize("store_content", [False, True])
def test_proto_fast_path_matches_python(name: str, edit: Callable[[Any], Any] | None, fast: bool,
                                        store_content: bool) -> None:
    settings = Settings(tier_rules=RULES.tier_rules, store_content=store_content)
    assert _same_proto([_request(), _request(edit)], settings) == fast, name


def test_proto_fast_path_declines_what_is_not_a_clean_traces_request() -> None:
    assert not _same_proto([_request(), b"\x0a\x05garbage"])
    assert not _same_proto([_request(), sdk.metric_requests(sdk.make_metrics())[0].SerializeToString()])
