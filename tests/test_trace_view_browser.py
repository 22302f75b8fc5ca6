"""The trace view in headless Chromium on a hand-written store: waterfall screenshots of an error trace and of a trace
with skewed clocks at two laptop sizes (test-artifacts/screenshots/trace-*.png, to look at), and a malformed id
refused in the real app, whose sidebar drops it from the URL before the view runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import ARGS, CHROMIUM, serving
from trace_view_estate import FAILING, SKEWED, trace_store

pytest.importorskip("playwright")
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from test_app_browser import EXCEPTION, SHOTS  # noqa: E402

pytestmark = pytest.mark.slow
SIZES = ((1280, 800), (1600, 1000))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("trace-browser")
    with serving(trace_store(work), work) as base:
        yield base


def _open(pg: Page, url: str) -> None:
    pg.goto(url)
    pg.get_by_role("heading", name="Trace view").first.wait_for(timeout=60_000)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                         "!document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    pg.wait_for_timeout(1500)  # Plotly draws a moment after the run ends


def _shoot(pg: Page, name: str) -> list[Path]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    w = pg.viewport_size["width"] if pg.viewport_size else 0
    h = pg.viewport_size["height"] if pg.viewport_size else 0
    page, chart = SHOTS / f"trace-{name}-{w}x{h}.png", SHOTS / f"trace-{name}-waterfall-{w}x{h}.png"
    pg.screenshot(path=str(page))
    pg.locator(".js-plotly-plot").first.screenshot(path=str(chart))
    return [page, chart]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_waterfall_screenshots_of_an_error_trace_and_skewed_clocks(server: str, size: tuple[int, int]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pg = browser.new_page(viewport={"width": size[0], "height": size[1]})
            _open(pg, f"{server}/trace?trace_id={FAILING}")
            assert pg.locator(EXCEPTION).count() == 0
            pg.locator(".js-plotly-plot .ytick").first.wait_for(timeout=60_000)
            main = pg.locator("[data-testid='stMain']").inner_text()
            assert "4 spans failed" in main and "model server overloaded" in main
            ticks = pg.locator(".js-plotly-plot").first.locator(".ytick").evaluate_all(
                "els => els.map(e => e.textContent || '')")
            assert any("model server overloaded" in t for t in ticks), ticks  # under the failed span's name
            shots = _shoot(pg, "error")
            _open(pg, f"{server}/trace?trace_id={SKEWED}")
            pg.locator(".js-plotly-plot .ytick").first.wait_for(timeout=60_000)
            assert pg.locator(EXCEPTION).count() == 0
            assert "Clocks look skewed" in pg.locator("[data-testid='stMain']").inner_text()
            shots += _shoot(pg, "skewed")
            assert all(s.stat().st_size > 10_000 for s in shots)
        finally:
            browser.close()


def test_a_malformed_id_is_refused_in_the_real_app(server: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1280, "height": 800})
            _open(pg, f"{server}/trace?trace_id={FAILING[:-1]}x")
            main = pg.locator("[data-testid='stMain']").inner_text()
            assert "That is not a trace id, so no trace is shown." in main and f"{FAILING[:-1]}x" in main
            assert pg.locator(".js-plotly-plot").count() == 0 and pg.locator(EXCEPTION).count() == 0
            pg.screenshot(path=str(SHOTS / "trace-malformed-1280x800.png"))
        finally:
            browser.close()
