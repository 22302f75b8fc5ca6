"""Hostile telemetry names in a real browser: every page, tab and detail drawn, nothing fetched from or linked to them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hostile_names import hostile_store, names, trace_id
from serve_helpers import ARGS, CHROMIUM, serving

from app.pages import PAGES

pytest.importorskip("playwright")
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from test_app_browser import EXCEPTION, SHOTS, open_page  # noqa: E402

pytestmark = pytest.mark.slow
TABS = {"slow-paths": ("Over time", "Hops", "Critical path", "Slow-path finder", "Latency budgets", "GPU and queues",
                       "Caches", "Trust zones", "Slow traces"),
        "finops": ("Egress", "GPU allocated vs used", "Anomalies", "Reconciliation", "Unit costs")}
# Every element that would fetch from or link to the bait port: anchors (HTML and SVG), images, scripts, frames.
LINKS = """(port) => [...document.querySelectorAll('a, img, image, script, iframe, link, source')]
    .map(e => [e.tagName, e.getAttribute('href') || e.getAttribute('xlink:href') || e.getAttribute('src') || ''])
    .filter(([, url]) => url.includes(':' + port))"""
DEBUG = """(port) => [...document.querySelectorAll('a')].filter(a => (a.getAttribute('href') || '').includes(':' + port))
    .map(a => a.outerHTML.slice(0, 1500))"""  # what to look at when LINKS finds something


class Bait:
    """A local HTTP server that counts every request: a rendered name would make the browser call it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def _count(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_OPTIONS = _count

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def bait() -> Iterator[Bait]:
    b = Bait()
    yield b
    b.server.shutdown()


@pytest.fixture(scope="module")
def server(bait: Bait, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tierwise serve` on a store built by hand whose names aim at the bait's port."""
    work = tmp_path_factory.mktemp("hostile-browser")
    with serving(hostile_store(work, names(bait.port)), work) as base:
        yield base


def settled(pg: Page) -> None:
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                         "!document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    pg.wait_for_timeout(500)  # Plotly draws a moment after the run ends


def check(pg: Page, bait: Bait, where: str) -> None:
    assert pg.locator(EXCEPTION).count() == 0, (where, pg.locator(EXCEPTION).first.inner_text())
    assert pg.evaluate(LINKS, str(bait.port)) == [], (where, pg.evaluate(DEBUG, str(bait.port)))
    assert bait.hits == [], (where, bait.hits)


def test_no_page_fetches_or_links_what_telemetry_names(server: str, bait: Bait) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        try:
            for spec in PAGES:
                open_page(pg, f"{server}/{spec.href}", spec.heading)
                settled(pg)
                check(pg, bait, spec.url_path)
                for tab in TABS.get(spec.url_path, ()):
                    pg.get_by_role("tab", name=tab, exact=True).click()
                    settled(pg)
                    check(pg, bait, f"{spec.url_path}/{tab}")
            pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Workload").click()
            pg.get_by_role("option").first.wait_for(timeout=10_000)  # the names as options
            check(pg, bait, "workload options")
            pg.keyboard.press("Escape")
            for i in range(3):
                open_page(pg, f"{server}/trace?trace_id={trace_id(i, 0)}", "Trace view")
                pg.get_by_text("Attributes and events per span").click()
                pg.locator('[data-testid="stJson"]').first.wait_for(timeout=60_000)
                settled(pg)
                check(pg, bait, f"trace {i} details")
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(SHOTS / "hostile-trace-details.png"), full_page=True)
            open_page(pg, f"{server}/recommendations", "Recommendations")
            settled(pg)
            cards = pg.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")  # plain.md's joiners
            assert "![px](http://127.0.0.1:" in cards and '<a href="http://127.0.0.1:' in cards  # shown as text
            pg.screenshot(path=str(SHOTS / "hostile-recommendations.png"), full_page=True)
            pg.wait_for_timeout(1000)
            check(pg, bait, "the end")
        finally:
            browser.close()

