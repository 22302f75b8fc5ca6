"""Benchmark of the dashboard in a real browser: time to first chart per page, and redraw after a filter change.

Usage: .venv/bin/python bench/pages.py [--db STORE | --spans 1000000 --days 30] [--runs 3]
Without --db a store is generated and ingested once under bench/out/pages-<spans>/ and reused. `tierwise serve`
runs as a child process; headless Chromium (/usr/bin/chromium) opens each page in a fresh tab (a new Streamlit
session) of one browser context, so the app's JavaScript comes from the HTTP cache as in a reader's browser. "First chart"
is the time from navigation to the first `.js-plotly-plot` in the DOM; "idle" is when Streamlit's running
indicator is gone; "filter" is from picking a tier in the sidebar until the page's metrics and charts are redrawn.
The first run of a page fills the query cache (cold); later runs measure warm sessions.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# a rerun is over when nothing drawn by the previous run is still marked stale
FRESH = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && !document.querySelector('[data-stale=\"true\"]')"


def tierwise(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, cwd=ROOT)


def ensure_store(spans: int, days: int) -> Path:
    work = ROOT / "bench" / "out" / f"pages-{spans}"
    db = work / "store.duckdb"
    if not db.exists():
        tierwise("generate", "--out", str(work / "estate"), "--spans", str(spans), "--days", str(days), "--workers", "2")
        tierwise("ingest", "--quiet", "--db", str(db), str(work / "estate"))
    return db


def serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(port),
                             "--address", "127.0.0.1"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).close()
            return proc, base
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("dashboard did not start")


def load(pg: Page, url: str) -> tuple[float, float]:
    t = time.perf_counter()
    pg.goto(url)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    first = time.perf_counter() - t
    pg.wait_for_function(IDLE, timeout=120_000)
    return first, time.perf_counter() - t


def change_tier(pg: Page, tier: str) -> float:
    t = time.perf_counter()
    pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Tier").click()
    pg.get_by_role("option", name=tier, exact=True).click()
    pg.wait_for_url(f"**tier={tier}**", timeout=120_000)
    pg.wait_for_function(FRESH, timeout=120_000)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from app.pages import PAGES

    db = a.db or ensure_store(a.spans, a.days)
    proc, base = serve(db)
    print(f"store {db} ({db.stat().st_size / 1e6:,.0f} MB); load average {os.getloadavg()[0]:.1f}")
    print("| page | first chart, cold s | first chart, warm s (median) | idle, warm s | filter → redraw s (median) |")
    print("|---|---:|---:|---:|---:|")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})  # one HTTP cache, as a reader's
            for spec in PAGES:
                loads, filters = [], []
                for run in range(a.runs + 1):
                    pg = context.new_page()
                    loads.append(load(pg, f"{base}/{spec.href}"))
                    if run:
                        filters.append(change_tier(pg, ("edge", "regional", "device")[run % 3]))
                    pg.close()
                warm = loads[1:]
                print(f"| {spec.title} | {loads[0][0]:.2f} | {statistics.median(f for f, _ in warm):.2f} | "
                      f"{statistics.median(i for _, i in warm):.2f} | {statistics.median(filters):.2f} |")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
