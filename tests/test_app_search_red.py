"""Trace search and Services (RED) pages under AppTest on the hand-built estate of test_trace_search: filters find
the traces `tierwise traces` finds, every control survives the URL, the RED table is `tierwise metric`'s, and a click
on a latency point lists the traces of its bucket. Also the model's request rate and minute grain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import isolated, run_cli
from pytest import approx
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, open_page  # noqa: F401  (the page tests' cache reset and page runner)
from test_trace_search import HOUR, T0, T1, T2, T5, T6, db  # noqa: F401  (the hand-built estate's store)

from app.views import services, trace_search
from app.views.services import Exemplar, Red
from app.views.trace_search import Search
from queries.units import format_value

DAY_S = 86_400
SEARCHES = [Search(), Search(service="llm"), Search(operation="GET /chat"), Search(status="error"),
            Search(status="ok"), Search(min_ms=100.0), Search(max_ms=1200.5), Search(where="a=b\nmodel!=x\nn>=3"),
            Search(sort="slowest"), Search(limit=500),
            Search("gateway", "GET /chat", "error", 100.0, 1200.0, "http.route=/chat", "slowest", 50)]


def ids(at: AppTest) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    if not at.dataframe:
        return []
    return [link.split("trace_id=")[1].split("&")[0] for link in at.dataframe[0].value["trace"]]


@pytest.mark.parametrize("s", SEARCHES, ids=lambda s: ",".join(f"{k}={v}" for k, v in trace_search.to_params(s).items())
                         or "defaults")
def test_search_controls_round_trip_through_the_url(s: Search) -> None:
    assert trace_search.from_params(trace_search.to_params(s)) == s


@pytest.mark.parametrize("r", [Red(), Red("llm"), Red("gateway", "GET /chat"), Red(grain="minute"), Red(grain="day")])
def test_services_controls_round_trip_through_the_url(r: Red) -> None:
    assert services.from_params(services.to_params(r)) == r


def test_malformed_url_values_are_dropped() -> None:
    bad = {"status": "maybe", "min_ms": "-5", "max_ms": "soon", "sort": "random", "limit": "0", "where": "x" * 5000,
           "service": "y" * 5000, "grain": "fortnight"}
    assert trace_search.from_params(bad) == Search()
    assert services.from_params(bad) == Red()


CASES: list[tuple[dict[str, str], list[str]]] = [
    ({}, [T6, T5, "4" * 32, "3" * 32, T2, T1]),
    ({"service": "llm"}, [T2, T1]),
    ({"operation": "GET /chat"}, [T6, T2, T1]),
    ({"status": "error"}, [T2]),
    ({"min_ms": "1000"}, ["4" * 32, T1]),
    ({"max_ms": "100"}, [T5, "3" * 32]),
    ({"where": "gen_ai.request.model=llama"}, [T1]),
    ({"where": "gen_ai.usage.input_tokens>100\ngen_ai.request.model!=mistral"}, [T1]),
    ({"sort": "slowest", "limit": "50"}, ["4" * 32, T1, T2, T6, "3" * 32, T5]),
    ({"tier": "hyperscale", "workload": "chat"}, [T2, T1]),  # sidebar filters: on the same span
    ({"service": "gateway", "operation": "GET /chat", "status": "ok", "min_ms": "100", "max_ms": "1200",
      "where": "http.route=/chat", "sort": "slowest", "limit": "50"}, [T1, T6]),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[",".join(p) or "none" for p, _ in CASES])
def test_the_search_page_finds_what_tierwise_traces_finds(db: Path, params: dict[str, str],  # noqa: F811
                                                         expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"limit": "50", **params}
    at = open_page(db, "search", monkeypatch, **params)
    assert ids(at) == expected
    assert at.query_params == params, "the URL keeps every control"
    args = [a for k, v in params.items() if k not in ("where", "limit") for a in (f"--{k.replace('_', '-')}", v)]
    args += [a for w in params.get("where", "").splitlines() for a in ("--where", w)]
    with isolated(db.parent):
        cli = run_cli("traces", "--db", str(db), "--format", "json", "--limit", params.get("limit", "50"), *args)
    assert [r["trace_id"] for r in json.loads(cli.output)] == expected


def test_every_control_is_seeded_from_the_url_and_written_back(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    full = {"service": "gateway", "operation": "GET /chat", "status": "ok", "min_ms": "100", "max_ms": "1200",
            "where": "http.route=/chat", "sort": "slowest", "limit": "50"}
    at = open_page(db, "search", monkeypatch, **full)
    state = {k: at.session_state[f"ts_{k}"] for k in full}
    assert state == {"service": "gateway", "operation": "GET /chat", "status": "ok", "min_ms": 100.0, "max_ms": 1200.0,
                     "where": "http.route=/chat", "sort": "slowest", "limit": 50}
    at.selectbox(key="ts_service").set_value("llm")
    at.selectbox(key="ts_operation").set_value(trace_search.ANY)
    at.text_area(key="ts_where").set_value("")
    at.number_input(key="ts_min_ms").set_value(None)
    at.run()
    assert at.query_params == {"service": "llm", "status": "ok", "max_ms": "1200", "sort": "slowest", "limit": "50"}
    assert ids(at) == [T1]
    again = open_page(db, "search", monkeypatch, **at.query_params)  # the link, opened in a new session
    assert ids(again) == [T1]


def test_a_bad_condition_is_named_by_its_line(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    at = open_page(db, "search", monkeypatch, where="http.route=/chat\ntokens>many")
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("Attribute conditions, line 2:") and "compares numbers" in error
    assert not at.dataframe


def test_results_link_to_the_trace_view_and_to_similar_slow_traces(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    at = open_page(db, "search", monkeypatch, service="llm", workload="chat")
    table = at.dataframe[0].value
    assert list(table["trace"]) == [f"trace?workload=chat&trace_id={T2}", f"trace?workload=chat&trace_id={T1}"]
    assert list(table["duration_ms"]) == [300.0, 1200.0] and list(table["tiers"]) == ["edge, hyperscale"] * 2
    assert any("(slow-paths?workload=chat)" in m.value for m in at.markdown)


def cli_red(store: Path, *args: str) -> list[dict[str, Any]]:
    with isolated(store.parent):
        result = run_cli("metric", "requests,error_rate_pct,latency_p95_ms,request_rate_per_s",
                         "--by", "service,operation,tier", "--format", "json", "--db", str(store), *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


@pytest.mark.parametrize("params", [{}, {"tier": "edge"}, {"workload": "chat"}])
def test_the_red_table_is_tierwise_metric(db: Path, params: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    at = open_page(db, "services", monkeypatch, **params)
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[0].value
    got = [tuple(r) for r in shown[["service", "operation", "tier", "requests", "error_rate_pct", "latency_p95_ms",
                                    "request_rate_per_s"]].itertuples(index=False)]
    rows = cli_red(db, *[a for k, v in params.items() for a in ("--where", f"{k}={v}")])
    assert got == [(r["service"], r["operation"], r["tier"], format_value(r["requests"], "count"),
                    format_value(r["error_rate_pct"], "pct"), format_value(r["latency_p95_ms"], "ms"),
                    format_value(r["request_rate_per_s"], "per_s")) for r in rows]
    assert rows and all("–" not in v and "None" not in v for row in got for v in row)


def test_services_controls_live_in_the_url(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    at = open_page(db, "services", monkeypatch, service="gateway", operation="GET /chat", grain="minute")
    assert (at.session_state["svc_service"], at.session_state["svc_operation"], at.session_state["svc_grain"]) == (
        "gateway", "GET /chat", "minute")
    assert at.query_params == {"service": "gateway", "operation": "GET /chat", "grain": "minute"}
    assert [s.value for s in at.subheader][0] == "gateway · GET /chat, per minute"
    at.segmented_control(key="svc_grain").set_value("auto")
    at.run()
    assert at.query_params == {"service": "gateway", "operation": "GET /chat"}
    assert [s.value for s in at.subheader][0] == "gateway · GET /chat, per hour"  # one day: hourly


@pytest.mark.parametrize(("hour", "value", "expected"), [(0, 1200.0, [T1]), (1, 300.0, [T2]), (5, 150.0, [T6])])
def test_a_latency_click_lists_the_traces_of_its_bucket(db: Path, hour: int, value: float, expected: list[str],  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(db, "services", monkeypatch, service="gateway", operation="GET /chat")
    assert not [s for s in at.subheader if s.value.startswith("Traces behind")]
    bucket_s = (T0 // 10**9) // 3600 * 3600 + hour * 3600
    point = {"customdata": ["edge", "p95", bucket_s], "y": value, "x": "ignored"}
    events: list[Any] = [_event([point]), _event([])]  # Plotly's click, then the empty selection that may follow
    real = services.clicked
    monkeypatch.setattr(services, "clicked", lambda event: real(events.pop(0) if events else _event([])))
    at.run()
    heading = [s.value for s in at.subheader if s.value.startswith("Traces behind")]
    assert heading and heading[0].startswith("Traces behind p95 = ") and " in edge, " in heading[0], heading
    assert ids_of(at, 0) == expected
    at.run()  # an empty selection keeps the click's traces
    assert ids_of(at, 0) == expected
    at.selectbox(key="svc_operation").set_value(services.ALL)  # new choices drop it
    at.run()
    assert not [s for s in at.subheader if s.value.startswith("Traces behind")]


def _event(points: list[dict[str, Any]]) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(selection=SimpleNamespace(points=points))


def ids_of(at: AppTest, index: int) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [link.split("trace_id=")[1].split("&")[0] for link in at.dataframe[index].value["trace"]]


def metric_json(store: Path, *args: str) -> list[dict[str, Any]]:
    with isolated(store.parent):
        result = run_cli("metric", *args, "--format", "json", "--db", str(store))
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_request_rate_divides_by_the_bucket_or_the_range(db: Path) -> None:  # noqa: F811
    """Interactive roots of the estate: T1, T2, T5, T6 (two roots: one trace) at the gateway, T3 on the phone; the
    training job is left out. Per minute each bucket divides by 60 s, with no grouping by the store's whole day,
    with --from/--to by that range, and a bucket cut by the range by its part inside."""
    minutes = metric_json(db, "requests,request_rate_per_s", "--by", "time", "--grain", "minute")
    assert [(r["time"], r["requests"], r["request_rate_per_s"]) for r in minutes] == [
        ("2026-11-30T00:53:00Z", 1.0, approx(1 / 60)), ("2026-11-30T01:53:00Z", 1.0, approx(1 / 60)),
        ("2026-11-30T02:53:00Z", 1.0, approx(1 / 60)), ("2026-11-30T04:53:00Z", 1.0, approx(1 / 60)),
        ("2026-11-30T05:53:00Z", 2.0, approx(2 / 60))]
    (whole,) = metric_json(db, "requests,request_rate_per_s")
    assert (whole["requests"], whole["request_rate_per_s"]) == (6.0, approx(6 / DAY_S))
    (ranged,) = metric_json(db, "request_rate_per_s", "--from", "2026-11-30T00:00:00Z", "--to", "2026-11-30T02:00:00Z")
    assert ranged["request_rate_per_s"] == approx(2 / 7200)
    cut = metric_json(db, "request_rate_per_s", "--by", "time", "--grain", "hour", "--from", "2026-11-30T00:30:00Z",
                      "--to", "2026-11-30T02:00:00Z")
    assert [(r["time"], r["request_rate_per_s"]) for r in cut] == [("2026-11-30T00:00:00Z", approx(1 / 1800)),
                                                                   ("2026-11-30T01:00:00Z", approx(1 / 3600))]
    with isolated(db.parent):
        table = run_cli("metric", "request_rate_per_s", "--by", "tier", "--db", str(db)).output
        money = run_cli("metric", "effective_cost", "--by", "time", "--grain", "minute", "--db", str(db))
    assert "Request rate" in table and "/s" in table
    assert money.exit_code != 0 and "prorated by the hour" in money.output


@pytest.mark.parametrize(("value", "text"), [(0, "0.00/s"), (0.0026, "0.0026/s"), (0.38, "0.38/s"), (9.19, "9.19/s"),
                                              (10.44, "10.4/s"), (123.4, "123/s"), (12_345.6, "12,346/s")])
def test_rates_read_with_their_unit(value: float, text: str) -> None:
    assert format_value(value, "per_s") == text


def test_exemplar_search_is_the_points_bucket_and_percentile() -> None:
    point = Exemplar("edge", "p95", 1_796_000_400, 1234.7)
    s = services.exemplar_search(Red("gateway", "GET /chat"), "hour", point)
    assert (s.service, s.operation, s.min_ms, s.sort) == ("gateway", "GET /chat", 1234.0, "slowest")
    assert services.exemplar_window("minute", point) == (1_796_000_400 * 10**9, (1_796_000_400 + 60) * 10**9)
    assert services.clicked(_event([])) is None and services.clicked(None) is None
    assert services.clicked(_event([{"customdata": ["edge", "p95", 7], "y": 5}])) == Exemplar("edge", "p95", 7, 5.0)
    assert HOUR == 3600 * 10**9
