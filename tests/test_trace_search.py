"""Trace search (`tierwise traces`, queries/trace_search.sql) on a hand-built estate whose matches are known per filter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from ingest_helpers import isolated, run_cli

T0 = 1_796_000_000_000_000_000  # 2026-11-30T00:53:20Z
MS = 1_000_000
HOUR = 3600 * 10**9


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": v}


def _span(trace: str, span: str, parent: str | None, name: str, start: int, ms: float, attrs: dict[str, Any],
          error: bool = False, kind: int = 2) -> dict[str, Any]:
    return {"traceId": trace, "spanId": span, **({"parentSpanId": parent} if parent else {}), "name": name,
            "kind": kind, "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + int(ms * MS)),
            "attributes": [{"key": k, "value": _value(v)} for k, v in attrs.items()],
            **({"status": {"code": 2, "message": "upstream failed"}} if error else {})}


def _doc(resource: dict[str, Any], spans: list[dict[str, Any]]) -> str:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": k, "value": _value(v)}
                                                                       for k, v in resource.items()]},
                                          "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})


GW = {"service.name": "gateway", "tierwise.tier": "edge", "tierwise.site": "pop-ams", "tierwise.workload": "chat"}
LLM = {"service.name": "llm", "tierwise.tier": "hyperscale", "tierwise.site": "us-east-1", "tierwise.workload": "chat"}
PHONE = {"service.name": "mobile", "os.name": "iOS", "tierwise.site": "phones", "tierwise.workload": "assist"}
TRAIN = {"service.name": "trainer", "tierwise.tier": "hyperscale", "tierwise.workload": "tuning",
         "tierwise.workload.type": "training"}
# Trace ids: 1 slow chat with llama, 2 failing chat with mistral, 3 phone tap, 4 training job, 5 a health check,
# 6 one trace delivered with two roots.
T1, T2, T3, T4, T5, T6 = ("1" * 32, "2" * 32, "3" * 32, "4" * 32, "5" * 32, "6" * 32)


def estate() -> list[str]:
    return [
        _doc(GW, [_span(T1, "a1" * 8, None, "GET /chat", T0, 1200, {"http.route": "/chat"}),
                  _span(T2, "a2" * 8, None, "GET /chat", T0 + HOUR, 300, {"http.route": "/chat"}, error=True),
                  _span(T5, "a5" * 8, None, "GET /health", T0 + 4 * HOUR, 2, {"http.route": "/health"}),
                  _span(T6, "a6" * 8, None, "GET /chat", T0 + 5 * HOUR, 100, {"http.route": "/chat"}),
                  _span(T6, "b6" * 8, None, "GET /chat", T0 + 5 * HOUR + 50 * MS, 150, {"http.route": "/chat"})]),
        _doc(LLM, [_span(T1, "c1" * 8, "a1" * 8, "generate", T0 + 10 * MS, 1100,
                         {"gen_ai.request.model": "llama", "gen_ai.usage.input_tokens": 500}),
                   _span(T2, "c2" * 8, "a2" * 8, "generate", T0 + HOUR + 10 * MS, 250,
                         {"gen_ai.request.model": "mistral", "gen_ai.usage.input_tokens": 50}, error=True)]),
        _doc(PHONE, [_span(T3, "d3" * 8, None, "tap", T0 + 2 * HOUR, 50, {"screen": "home"}, kind=1)]),
        _doc(TRAIN, [_span(T4, "e4" * 8, None, "train", T0 + 3 * HOUR, 90_000, {"epoch": 3}, kind=1)]),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("search")
    source = work / "estate.jsonl"
    source.write_text("\n".join(estate()) + "\n", encoding="utf-8")
    store_path, output = ingest_isolated(work, [source])
    assert "9 accepted, 0 rejected" in output
    return store_path


def _ids(db: Path, *args: str) -> list[str]:
    with isolated(db.parent):
        result = run_cli("traces", "--db", str(db), "--format", "json", "--limit", "50", *args)
    assert result.exit_code == 0, result.output
    return [r["trace_id"] for r in json.loads(result.output)]


CASES: list[tuple[tuple[str, ...], list[str]]] = [
    ((), [T6, T5, T4, T3, T2, T1]),                                             # most recent first
    (("--sort", "slowest"), [T4, T1, T2, T6, T3, T5]),
    (("--service", "llm"), [T2, T1]),                                           # any span of the trace
    (("--operation", "GET /chat"), [T6, T2, T1]),
    (("--tier", "device"), [T3]),                                               # derived from os.name
    (("--site", "us-east-1"), [T2, T1]),
    (("--workload", "tuning"), [T4]),
    (("--status", "error"), [T2]),
    (("--status", "ok"), [T6, T5, T4, T3, T1]),
    (("--min-ms", "1000"), [T4, T1]),
    (("--max-ms", "100"), [T5, T3]),
    (("--min-ms", "100", "--max-ms", "1200"), [T6, T2, T1]),                   # T6 spans both its roots: 200 ms
    (("--where", "gen_ai.request.model=llama"), [T1]),
    (("--where", "gen_ai.request.model!=llama"), [T2]),
    (("--where", "gen_ai.usage.input_tokens>100"), [T1]),
    (("--where", "gen_ai.usage.input_tokens<=50"), [T2]),
    (("--where", "os.name=iOS"), [T3]),                                         # a resource attribute
    (("--where", "http.route=/chat", "--where", "gen_ai.request.model=llama"), []),  # never on one span
    (("--service", "llm", "--where", "gen_ai.request.model=mistral"), [T2]),
    (("--from", "2026-11-30T01:50:00Z", "--to", "2026-11-30T04:00:00Z"), [T4, T3, T2]),
    (("--limit", "2",), [T6, T5]),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_each_filter_finds_exactly_its_traces(db: Path, args: tuple[str, ...], expected: list[str]) -> None:
    limit = ("--limit", "50") if "--limit" not in args else ()
    with isolated(db.parent):
        result = run_cli("traces", "--db", str(db), "--format", "json", *limit, *args)
    assert result.exit_code == 0, result.output
    assert [r["trace_id"] for r in json.loads(result.output)] == expected


def test_clickhouse_finds_the_same_traces_with_the_same_rows(db: Path) -> None:
    """queries/engines/clickhouse/trace_search.sql, on the same estate loaded into chdb, gives DuckDB's rows."""
    url = f"chdb://{db.parent / 'ch'}"
    with isolated(db.parent):
        loaded = run_cli("ingest", "--quiet", "--engine", "clickhouse", "--clickhouse-url", url,
                         str(db.parent / "estate.jsonl"))
        assert loaded.exit_code == 0, loaded.output
        for args, expected in CASES:
            limit = ("--limit", "50") if "--limit" not in args else ()
            got = [run_cli("traces", *where, "--format", "json", *limit, *args).output
                   for where in (("--db", str(db)), ("--engine", "clickhouse", "--clickhouse-url", url))]
            assert got[0] == got[1], args
            assert [r["trace_id"] for r in json.loads(got[1])] == expected, args


def test_json_rows_say_what_a_trace_list_shows(db: Path) -> None:
    with isolated(db.parent):
        result = run_cli("traces", "--db", str(db), "--format", "json", "--service", "llm", "--status", "error")
    (row,) = json.loads(result.output)
    assert row == {"trace_id": T2, "start": "2026-11-30T01:53:20Z", "duration_ms": 300.0, "root_service": "gateway",
                   "root_operation": "GET /chat", "span_count": 2, "tiers": ["edge", "hyperscale"],
                   "error_count": 2}


def test_a_trace_with_two_roots_is_one_result_spanning_both(db: Path) -> None:
    with isolated(db.parent):
        result = run_cli("traces", "--db", str(db), "--format", "json", "--operation", "GET /chat", "--max-ms", "250")
    (row,) = json.loads(result.output)
    assert (row["trace_id"], row["duration_ms"], row["span_count"]) == (T6, 200.0, 2)


@pytest.mark.parametrize(("args", "says"), [
    (("--where", "tokens>many"), "compares numbers"),
    (("--where", "no-operator"), "is not a condition"),
    (("--min-ms", "10", "--max-ms", "5"), "below the shortest"),
    (("--last", "1h", "--from", "2026-11-30"), "not both"),
    (("--last", "yesterday"), "is not a duration"),
    (("--tier", "moon"), "is not one of"),
])
def test_bad_filters_are_refused_with_the_reason(db: Path, args: tuple[str, ...], says: str) -> None:
    with isolated(db.parent):
        result = run_cli("traces", "--db", str(db), *args)
    assert result.exit_code == 2
    assert says in result.output


def test_table_and_csv_forms(db: Path) -> None:
    with isolated(db.parent):
        table = run_cli("traces", "--db", str(db), "--service", "llm").output
        csv = run_cli("traces", "--db", str(db), "--service", "llm", "--format", "csv").output
        none = run_cli("traces", "--db", str(db), "--service", "nobody").output
    assert "2026-11-30 01:53:20.000 UTC" in table and "1.20 s" in table and "edge, hyperscale" in table
    assert csv.splitlines()[0] == "trace_id,start,duration_ms,root_service,root_operation,span_count,tiers,error_count"
    assert csv.splitlines()[1].startswith(f"{T2},2026-11-30T01:53:20.000000000Z,300.0,gateway")
    assert none.strip() == "no trace matches"


def test_golden_rows(db: Path) -> None:
    def flat(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col("tier_ranks").cast(pl.List(pl.String)).list.join(" "))

    assert_golden("trace_search", flat(run_query(db, "trace_search", {"sort": "slowest"})))
    assert_golden("trace_search__llm_errors",
                  flat(run_query(db, "trace_search", {"service": "llm", "status": "error"})))
