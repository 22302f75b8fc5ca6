"""The trace view under Streamlit's AppTest on a hand-written store: an error trace reads as one (red, its status
messages, a readable events table), skewed clocks are called out, and a malformed id is refused, showing no trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, open_page
from trace_view_estate import FAILING, SKEWED, trace_store

from app import plain
from app.charts_trace import ERROR_RED

__all__ = ["fresh_cache"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trace_store(tmp_path_factory.mktemp("trace-page"))


def _waterfall(at: AppTest) -> dict[str, Any]:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(c for c in charts if any(t.get("name") == "self time" for t in c["data"]))


def test_an_error_trace_is_red_with_its_status_messages_and_readable_events(store: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(store, "trace", monkeypatch, trace_id=FAILING)
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["trace start (UTC, 2026-11-30)"] == "00:53:20.000"
    assert metrics["errors"] == "4" and metrics["end-to-end"] == "2.60 s" and metrics["spans"] == "7"
    notice = at.error[0].value
    for message in ("request failed", "HTTP 503", "upstream failed", "model server overloaded"):
        assert plain.md(message) in notice
    fig = _waterfall(at)
    ticks = fig["layout"]["yaxis"]["categoryarray"]
    red = [t for t in ticks if ERROR_RED in t]
    assert len(red) == 4 and any("✖ model server overloaded" in t for t in red)
    bars = [t for t in fig["data"] if t.get("type") == "bar" and t.get("showlegend") is False and t["name"] != "self time"]
    lines = [c for t in bars for c in t["marker"]["line"]["color"]]
    assert lines.count(ERROR_RED) == 4  # the four failed spans outlined red, the others in their tier's colour
    assert any(t.get("name") == "exception event" for t in fig["data"])
    events = next(d.value for d in at.dataframe if "event" in d.value.columns)
    assert list(events.columns) == ["#", "event", "from_trace_start_ms", "from_span_start_ms", "attributes", "span"]
    queue = events[events["event"] == "queue.exit"].iloc[0]
    assert (queue["from_trace_start_ms"], queue["from_span_start_ms"]) == (1900.0, 1840.0)
    assert queue["span"] == "hyperscale · chat-origin · POST /v1/chat/completions"
    # the span picked for its attributes: the failure deepest in the chain, its attributes as key and value
    assert at.selectbox(key="trace_span_pick").value == "c0" * 8
    attrs = next(d.value for d in at.dataframe if list(d.value.columns) == ["key", "value"])
    assert dict(zip(attrs["key"], attrs["value"], strict=True))["http.response.status_code"] == "503"


def test_skewed_clocks_are_called_out(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(store, "trace", monkeypatch, trace_id=SKEWED)
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning if w.value.startswith("Clocks look skewed: 3 spans")]
    spans = next(d.value for d in at.dataframe if "clock_skew" in d.value.columns)
    assert "starts 700.0 ms before its parent" in set(spans["clock_skew"])
    assert "ends 150.0 ms after its parent" in set(spans["clock_skew"])


@pytest.mark.parametrize("given", ["e0" * 15, "E0E0-not-hex", "g" * 32, "e0" * 17, "<b>x</b>'; --"])
def test_a_malformed_id_is_refused_and_no_other_trace_is_shown(store: Path, given: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(store, "trace", monkeypatch, trace_id=given)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "not a trace id" in at.error[0].value
    assert f"this one has {len(given)} characters" in at.error[0].value
    assert [c.value for c in at.code] == [given]  # what was given, as text
    assert at.text_input(key="trace_id_input").value == given
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert "trace_id" not in at.query_params
    at = at.run()  # a rerun still refuses it, and still shows no trace
    assert len(at.error) == 1 and not at.get("plotly_chart")


def test_a_well_formed_id_of_no_trace_says_so(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(store, "trace", monkeypatch, trace_id="ab" * 16)
    assert not at.exception and not at.get("plotly_chart")
    assert at.info and "No spans for trace" in at.info[0].value
