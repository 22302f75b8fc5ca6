"""Telemetry is data, never markup: hostile names reach Markdown escaped and Plotly text HTML-escaped, on every page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hostile_names import hostile_store, names, trace_id
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, open_page

from app import charts, plain
from app.pages import PAGES

__all__ = ["fresh_cache"]
HOSTILE = names(9)
HTML = ("<a ", "<script", "<img")  # what a name rendered as HTML would bring along (Plotly renders <a>)
MARKUP = (*HTML, "](http")  # and as Markdown (Streamlit's text elements)


def test_md_leaves_nothing_for_markdown_to_render() -> None:
    wj = "\u2060"  # an invisible word joiner: GFM autolinks a URL or an address only after a space or punctuation
    assert plain.md(HOSTILE[0]) == r"\!\[px\]\(" + wj + r"http\://127\.0\.0\.1\:9/x\.png\)"
    assert plain.md(HOSTILE[1]) == r'&lt;a href\=\"' + wj + r'http\://127\.0\.0\.1\:9/y\"&gt;y&lt;/a&gt;'
    assert plain.md("see www.x.org or a@b.io") == f"see {wj}www\\.x\\.org or a{wj}@b\\.io"
    assert plain.md("AT&T: **bold** _x_ `c` $m$ :red[r]\nnext") == \
        r"AT&amp;T\: \*\*bold\*\* \_x\_ \`c\` \$m\$ \:red\[r\] next"
    assert plain.md("kiosk-copilot") == r"kiosk\-copilot" and plain.md(None) == "None"


def test_label_escapes_plotly_html_only() -> None:
    assert plain.label(HOSTILE[1]) == '&lt;a href="http://127.0.0.1:9/y"&gt;y&lt;/a&gt;'
    assert plain.label("edge & <b>") == "edge &amp; &lt;b&gt;" and plain.labels(["a<", None]) == ["a&lt;", None]


def strings(value: object, skip: tuple[str, ...] = ()) -> Iterator[str]:
    """Every string in a figure's JSON, but under the keys in `skip`."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in skip:
                yield from strings(v, skip)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, skip)


def test_the_heatmap_shows_escaped_names_and_hands_clicks_the_real_ones() -> None:
    cells = pl.DataFrame({"tier": ["edge", "hyperscale"], "workload": HOSTILE[:2], "latency_p95_ms": [10.0, 20.0]})
    fig = charts.heatmap(cells).to_plotly_json()
    trace = fig["data"][0]
    assert list(trace["x"]) == sorted(HOSTILE[:2])  # what a click returns: the workload itself, to filter on
    assert list(fig["layout"]["xaxis"]["ticktext"]) == [plain.label(w) for w in sorted(HOSTILE[:2])]
    clicks = fig["data"][1]  # the invisible markers that take a click on a cell (a heatmap cannot be selected)
    assert sorted(clicks["x"]) == sorted(HOSTILE[:2])
    assert "%{x}" not in clicks["hovertemplate"] and "%{customdata}" in clicks["hovertemplate"]
    shown = list(strings(fig, skip=("x", "tickvals")))
    assert not [s for s in shown if any(m in s for m in ("<a ", "<script"))]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_store(tmp_path_factory.mktemp("hostile"), HOSTILE)


def rendered(at: AppTest) -> tuple[list[str], list[str]]:
    """The Markdown-rendered text of a run (titles, headings, captions, notices, cards), and its figures' strings."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "warning", "info", "error", "success")
    texts = [str(getattr(e, "value", "")) for kind in kinds for e in at.get(kind)]
    texts += [m.label for m in at.metric]
    figures = []
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        heatmap_x = [v for t in fig["data"] if t.get("type") == "heatmap" for v in t.get("x", [])]
        figures += [s for s in strings(fig, skip=("tickvals",)) if s not in heatmap_x]  # raw x: never drawn
    return texts, figures


def drawn_runs(db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, AppTest]]:
    """Every page, every lazy tab and the trace view's per-span details, opened."""
    for spec in PAGES:
        at = open_page(db, spec.url_path, monkeypatch)
        yield spec.url_path, at
        for key, tabs in (("sre_tab", ("Over time", "Hops", "Critical path", "Slow-path finder", "Latency budgets",
                                       "GPU and queues", "Caches", "Trust zones")),
                          ("finops_tab", ("Egress", "GPU allocated vs used", "Anomalies", "Reconciliation"))):
            if key in at.session_state:
                for tab in tabs:
                    at.session_state[key] = tab
                    yield f"{spec.url_path}/{tab}", at.run()
    at = open_page(db, "trace", monkeypatch, trace_id=trace_id(1, 0))
    at.session_state["trace_details"] = True
    yield "trace/details", at.run()


def test_every_page_shows_hostile_names_as_text(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = 0
    for where, at in drawn_runs(hostile_db, monkeypatch):
        assert not at.exception, (where, [e.value for e in at.exception])
        texts, figures = rendered(at)
        leaks = [t for t in texts if any(m in t for m in MARKUP)] + [t for t in figures if any(m in t for m in HTML)]
        assert not leaks, (where, leaks[:3])
        seen += sum(any(plain.md(h) in t for h in HOSTILE) for t in texts)
        seen += sum(any(plain.label(h) in t for h in HOSTILE) for t in figures)
    assert seen > 20  # the names were there to be shown, escaped
    details = open_page(hostile_db, "trace", monkeypatch, trace_id=trace_id(0, 0))
    details.session_state["trace_details"] = True
    heads = [m.value for m in details.run().markdown if m.value.startswith("**")]
    assert heads and all(plain.md(HOSTILE[0]) in h for h in heads)
    cards = [m.value for m in open_page(hostile_db, "recommendations", monkeypatch).markdown]
    assert any(c.startswith("**1. ") and (plain.md(HOSTILE[0]) in c or plain.md(HOSTILE[1]) in c) for c in cards)
