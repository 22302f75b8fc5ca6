"""`tierwise serve` on a generated store, driven by headless Chromium: every page, filters in the URL, hostile URLs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import duckdb
import polars as pl
import pytest
from ingest_helpers import ingest_cli, isolated, run_cli
from polars.testing import assert_frame_equal
from serve_helpers import ARGS, CHROMIUM, serving

from app import charts
from app.pages import PAGES
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as model_metric
from store.contract import TIERS

pytest.importorskip("playwright")
from playwright.sync_api import BrowserContext, Page, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-artifacts" / "screenshots"
EXCEPTION = '[data-testid="stException"]'


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated week (~20k spans, bills) loaded by the real CLI."""
    work = tmp_path_factory.mktemp("browser")
    db = work / "gen.duckdb"
    with isolated(work):
        made = run_cli("generate", "--out", str(work / "estate"), "--spans", "20000", "--days", "7")
        assert made.exit_code == 0, made.output
    ingest_cli(work, db, work / "estate" / "traces", work / "estate" / "bills")
    return db


@pytest.fixture(scope="module")
def server(store_db: Path) -> Iterator[str]:
    """`tierwise serve` as a real process on a free port."""
    with serving(store_db, store_db.parent) as base:
        yield base


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    """One browser profile for the module: tabs share the HTTP cache, each tab is a new Streamlit session."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = b.new_context(viewport={"width": 1400, "height": 2400})
        yield ctx
        ctx.close()
        b.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    pg = context.new_page()
    yield pg
    pg.close()


def open_page(pg: Page, url: str, heading: str, chart: bool = True) -> None:
    pg.goto(url)
    pg.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    if chart:
        pg.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def metric(pg: Page, label: str) -> str:
    box = pg.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_every_page_renders_a_chart_without_exceptions(server: str, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for spec in PAGES:
        open_page(page, f"{server}/{spec.href}", spec.heading)
        assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
        page.wait_for_timeout(1500)  # tables paint their canvas a moment after the script finishes
        page.screenshot(path=str(SHOTS / f"{spec.url_path}.png"))


def test_the_sidebar_moves_between_pages_in_one_tab_keeping_the_filters(server: str, page: Page) -> None:
    open_page(page, server, PAGES[0].heading)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Tier").click()
    page.get_by_role("option", name="edge", exact=True).click()
    page.wait_for_url("**tier=edge**", timeout=20_000)
    for spec in (*PAGES[1:], PAGES[0]):
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=spec.title).click()
        page.get_by_role("heading", name=spec.heading).first.wait_for(timeout=60_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                               "!document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # Plotly may draw after the run has ended
        assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
        path = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        assert path == (spec.href or server.rsplit("/", 1)[-1]), page.url
        assert "tier=edge" in page.url, (spec.title, page.url)


def test_a_filter_changes_the_url_and_the_numbers(server: str, page: Page, store_db: Path) -> None:
    duck = DuckDBEngine.open(store_db)
    try:
        def worst(tier: str | None) -> float | None:
            where = (("tier", tier),) if tier else ()
            cells = model_metric.run(duck, model_metric.Request(("latency_p95_ms",), ("tier", "workload"), where))
            return float(cells.sort("latency_p95_ms")["latency_p95_ms"][-1]) if cells.height else None

        worst_all = worst(None)
        by_tier = {t: worst(t) for t in TIERS}
    finally:
        duck.close()
    tier = next(t for t, v in by_tier.items() if v is not None and charts.fmt_ms(v) != charts.fmt_ms(worst_all))
    open_page(page, f"{server}/slow-paths", "Slow paths")
    assert metric(page, "slowest cell p95") == charts.fmt_ms(worst_all)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Tier").click()
    page.get_by_role("option", name=tier, exact=True).click()
    page.wait_for_url(f"**tier={tier}**", timeout=20_000)
    page.wait_for_function(
        "([label, want]) => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some("
        "m => m.innerText.includes(label) && m.innerText.includes(want))",
        arg=["slowest cell p95", charts.fmt_ms(by_tier[tier])], timeout=20_000)
    assert page.locator(EXCEPTION).count() == 0
    # the URL reopens the same view in a fresh session
    shared = page.url
    fresh = page.context.new_page()
    try:
        open_page(fresh, shared, "Slow paths")
        assert metric(fresh, "slowest cell p95") == charts.fmt_ms(by_tier[tier])
    finally:
        fresh.close()


def test_hostile_urls_render_and_leave_the_store_intact(server: str, page: Page, store_db: Path) -> None:
    def spans() -> int:
        con = duckdb.connect(str(store_db), read_only=True)
        try:
            row = con.execute("SELECT count(*) FROM spans").fetchone()
        finally:
            con.close()
        return int(row[0]) if row else -1

    before = spans()
    hostile = ["'; DROP TABLE spans; --", "x" * 10_000, '"><script>alert(1)</script>', "edge' OR '1'='1", "mars",
               "2026-99-99"]
    keys = ("tier", "site", "workload", "start", "end", "trace_id")
    for spec in PAGES:
        for shift in (0, 3):  # every hostile value lands in every other key across the two loads
            qs = urlencode({k: hostile[(i + shift) % len(hostile)] for i, k in enumerate(keys)}, quote_via=quote)
            # the trace view refuses a malformed trace id with an error and draws no chart (no other trace)
            open_page(page, f"{server}/{spec.href}?{qs}", spec.heading, chart=spec.url_path != "trace")
            assert page.locator(EXCEPTION).count() == 0
            if spec.url_path == "trace":
                page.get_by_text("is not a trace id").first.wait_for(timeout=60_000)
            assert "DROP" not in page.url and "xxxxxxxx" not in page.url and "script" not in page.url
    assert spans() == before


TRUNCATED_KPIS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"]')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


@pytest.mark.parametrize("size", [(1280, 800), (1600, 1000)], ids=["1280x800", "1600x1000"])
def test_every_page_at_laptop_and_desktop_sizes(server: str, context: BrowserContext, size: tuple[int, int]) -> None:
    """Screenshots of every page at both sizes (full page, to look at): no KPI cut off, no `None` or `null` text."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg = context.new_page()
    try:
        pg.set_viewport_size({"width": size[0], "height": size[1]})
        for spec in PAGES:
            open_page(pg, f"{server}/{spec.href}", spec.heading)
            pg.wait_for_timeout(1500)
            pg.screenshot(path=str(SHOTS / f"{spec.url_path}-{size[0]}x{size[1]}.png"), full_page=True)
            assert pg.evaluate(TRUNCATED_KPIS) == [], f"{spec.url_path}: KPI text cut off at {size}"
            text = pg.locator("section.main, [data-testid='stMain']").first.inner_text()
            words = set(text.replace(",", " ").split())
            assert not {"None", "null", "NaN", "nan"} & words, f"{spec.url_path}: shows None/null at {size}"
    finally:
        pg.close()


def test_a_csv_download_is_what_tierwise_metric_gives(server: str, page: Page, store_db: Path, tmp_path: Path) -> None:
    """The FinOps breakdown's CSV, downloaded in the browser with a range and a tier chosen, equals the CLI's CSV."""
    con = duckdb.connect(str(store_db), read_only=True)
    try:
        first, last = con.execute("SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE FROM costs").fetchone()
    finally:
        con.close()
    start, end = first + timedelta(days=1), last - timedelta(days=1)  # charges straddle both edges: prorated
    open_page(page, f"{server}/finops?{urlencode({'start': start, 'end': end, 'tier': 'edge'})}", "Monthly costs")
    with page.expect_download(timeout=60_000) as got:
        page.locator(".st-key-finops_detail_csv button").click()
    downloaded = pl.read_csv(got.value.path())
    cli = run_cli("metric", "effective_cost,billed_cost", "--by", "workload,tier", "--where", "tier=edge",
                  "--from", start.isoformat(), "--to", (end + timedelta(days=1)).isoformat(), "--format", "csv",
                  "--db", str(store_db))
    assert cli.exit_code == 0, cli.output
    expected = pl.read_csv(io.StringIO(cli.output))
    assert downloaded.height > 0 and downloaded.columns == expected.columns
    assert_frame_equal(downloaded.sort("workload"), expected.sort("workload"), check_exact=False, rel_tol=1e-9)
