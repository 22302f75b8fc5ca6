"""Issue 21: in headless Chromium, a click on a Slow paths heatmap cell lands on that cell's traces (Plotly sends an
empty selection for a heatmap click; the page must still list the clicked cell), and the cell is in the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import ingest_cli
from serve_helpers import ARGS, CHROMIUM, serving

from app import charts
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine

pytest.importorskip("playwright")
from playwright.sync_api import Page, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("slow_browser")
    db = work / "sample.duckdb"
    ingest_cli(work, db, SAMPLE / "traces")
    return db


@pytest.fixture(scope="module")
def page(store_db: Path) -> Iterator[tuple[Page, str]]:
    with serving(store_db, store_db.parent, start_s=120) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1400})
        yield pg, base
        browser.close()


def _cell_centre(pg: Page, workload: str, tier: str) -> tuple[float, float]:
    box = pg.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    assert box is not None
    xs, ys = pg.evaluate("() => { const d = document.querySelector('.js-plotly-plot').data[0]; return [d.x, d.y]; }")
    return (box["x"] + box["width"] * (xs.index(workload) + 0.5) / len(xs),
            box["y"] + box["height"] * (ys.index(tier) + 0.5) / len(ys))


def test_a_click_on_a_cell_lists_that_cells_traces(page: tuple[Page, str], store_db: Path) -> None:
    pg, base = page
    pg.goto(f"{base}/slow-paths?tier=edge")
    pg.get_by_role("heading", name="Slow paths").first.wait_for(timeout=120_000)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    pg.wait_for_function(IDLE, timeout=120_000)
    duck = DuckDBEngine.open(store_db)
    try:
        for workload in ("public-chat", "kiosk-copilot"):
            x, y = _cell_centre(pg, workload, "edge")
            pg.mouse.click(x, y)
            pg.wait_for_url(f"**cell={workload}**", timeout=60_000)
            heading = pg.get_by_role("heading", name=f"Traces with a request in edge · {workload}")
            heading.first.wait_for(timeout=60_000)
            pg.wait_for_function(IDLE, timeout=60_000)
            traces = registry.run(duck, "cell_traces", {"tier": "edge", "workload": workload})
            box = pg.locator('[data-testid="stMetric"]').filter(has_text="slowest request in cell").first
            assert box.locator('[data-testid="stMetricValue"]').inner_text().strip() == \
                charts.fmt_ms(traces["entry_ms"][0])
            assert "cell_tier=edge" in pg.url
    finally:
        duck.close()
