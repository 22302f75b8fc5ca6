"""Benchmark of the dashboard in a real browser: time to first chart per page, and redraw after a filter change.

Usage: .venv/bin/python bench/pages.py [--db STORE | --spans 1000000 --days 30] [--runs 3] [--no-warm-wait]
Without --db a store is generated and ingested once under bench/out/pages-<spans>/ and reused (a 10M-span store:
bench/queries.py --scale 10, then `tierwise migrate` on it). `tierwise serve` runs as a child process and pre-warms
the query cache (app/warm.py); the benchmark waits for its "warm-up done" line (reported with the server's CPU
seconds) unless --no-warm-wait. Headless Chromium (/usr/bin/chromium) opens each page in a fresh tab (a new
Streamlit session) of one browser context, so the app's JavaScript comes from the HTTP cache as in a reader's
browser. "First chart" is the time from navigation to the first `.js-plotly-plot` in the DOM; "idle" is when
Streamlit's running indicator is gone; "filter" is from picking a tier in the sidebar until the page's metrics and
charts are redrawn (each run picks a tier not picked before on that page: a query-cache miss), timed twice: from the
click that opens the Tier menu (the menu's own opening and playwright's clicks included, as before Round 5) and from the
click on the option, when the filter changes and the rerun starts. "First visit" is
the page's first session; later runs are warm. "Via the sidebar" is how a reader moves between pages once the
dashboard is open: in one tab, from a click on the page's sidebar link until its heading shows, its run is fully
drawn (nothing stale) and a chart is in the DOM; the app's JavaScript is already loaded, so this is the page's own
cost, while a fresh tab also pays the framework's start. CPU columns are the server's CPU seconds (all its threads) per
visit and per filter change. Two references are timed in the same run, so ratios survive a noisy machine: DuckDB's
exact p50/p95/p99 of span duration over the store, and the first chart of a bare Streamlit page drawing one small
Plotly chart (app/reference_page.py, no store, no query) in the same browser: the floor any Streamlit + Plotly page
pays here for the framework's JavaScript and the chart library in headless, software-rendered Chromium.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
LOG = ROOT / "bench" / "out" / "pages-server.log"  # the dashboard's stderr, for a run that times out
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


def reference_s(db: Path) -> float:
    """Wall seconds of DuckDB's own exact p50/p95/p99 of span duration per (workload, tier, service), warm."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = "SELECT workload, tier, service_name, quantile_cont(duration_ns, [0.5, 0.95, 0.99]) FROM spans GROUP BY ALL"
        con.execute(sql).fetchall()
        t = time.perf_counter()
        con.execute(sql).fetchall()
        return time.perf_counter() - t
    finally:
        con.close()


def _processes() -> tuple[dict[int, int], dict[int, float]]:
    """(pid → parent pid, pid → CPU seconds, user + system) of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parent[pid], cpu[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    return parent, cpu


def _under(pid: int, root: int, parent: dict[int, int]) -> bool:
    while pid > 1 and pid != root:
        pid = parent.get(pid, 0)
    return pid == root


def server_cpu_s(root: int) -> float:
    """CPU seconds of the server process and everything it started (its Streamlit child runs in a group of its own)."""
    parent, cpu = _processes()
    return sum(c for pid, c in cpu.items() if _under(pid, root, parent))


def browser_cpu_s(server_root: int) -> float:
    """CPU seconds of this benchmark's descendants outside the server's tree: Chromium and its driver."""
    parent, cpu = _processes()
    me = os.getpid()
    return sum(c for pid, c in cpu.items()
               if pid != me and _under(pid, me, parent) and not _under(pid, server_root, parent))


def _log() -> IO[str]:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    return LOG.open("w")


def serve(db: Path) -> tuple[subprocess.Popen[str], str, threading.Event]:
    """`tierwise serve` on a free port; the event is set once the server reports its warm-up done."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(port),
                             "--address", "127.0.0.1"], cwd=ROOT, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=_log())
    warmed = threading.Event()

    def follow() -> None:
        for line in proc.stdout or ():
            if line.startswith("tierwise: warm-up"):
                print(line.strip(), flush=True)
                warmed.set()

    threading.Thread(target=follow, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).close()
            return proc, base, warmed
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("dashboard did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_bare() -> tuple[subprocess.Popen[str], str]:
    """`streamlit run app/reference_page.py`: the reference page."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "reference_page.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, start_new_session=True, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).close()
            return proc, base
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("reference page did not start")


def load(pg: Page, url: str) -> tuple[float, float]:
    t = time.perf_counter()
    pg.goto(url)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    first = time.perf_counter() - t
    pg.wait_for_function(IDLE, timeout=120_000)
    return first, time.perf_counter() - t


def change_tier(pg: Page, tier: str) -> tuple[float, float]:
    """Seconds until the page is redrawn after picking `tier`: from the click that opens the sidebar's Tier menu, and
    from the click on the option (the filter change itself; the menu opening is the browser's own widget)."""
    t = time.perf_counter()
    pg.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Tier").click()
    option = pg.get_by_role("option", name=tier, exact=True)
    option.wait_for(timeout=120_000)
    picked = time.perf_counter()
    option.click()
    pg.wait_for_function("t => location.search.includes('tier=' + t)", arg=tier, timeout=120_000)
    pg.wait_for_function(FRESH, timeout=120_000)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    done = time.perf_counter()
    return done - t, done - picked


def navigate(pg: Page, title: str, heading: str) -> float:
    """Seconds from a click on the page's sidebar link until its heading shows and its run is drawn with a chart."""
    t = time.perf_counter()
    pg.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).click()
    pg.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
    pg.wait_for_function(FRESH, timeout=120_000)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    return time.perf_counter() - t


def _pair(samples: list[tuple[float, float]]) -> str:
    return f"{statistics.median(s for s, _ in samples):.2f} / {statistics.median(b for _, b in samples):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-warm-wait", action="store_true", help="measure first visits while the warm-up still runs")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from app.pages import PAGES
    from store.contract import TIERS

    db = a.db or ensure_store(a.spans, a.days)
    ref = reference_s(db)
    t0 = time.perf_counter()
    proc, base, warmed = serve(db)
    print(f"store {db} ({db.stat().st_size / 1e6:,.0f} MB); reference (DuckDB exact percentiles) {ref:.2f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    if not a.no_warm_wait:
        warmed.wait(timeout=3600)
        print(f"warm-up: {time.perf_counter() - t0:.1f} s wall, server CPU {server_cpu_s(proc.pid):.1f} s")
    bare_proc, bare_base = serve_bare()
    header = ("| page | first chart, first visit s | first chart, warm s (median) | ÷ bare page | idle, warm s | "
              "filter → redraw s, median: from opening the menu / from picking the option | "
              "CPU s per warm visit: server / browser | CPU s per filter change: server / browser |")
    tiers = tuple(TIERS[i] for i in (1, 2, 0, 3))  # each run's filter: edge first, as docs/benchmarks measured
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})  # one HTTP cache, as a reader's
            bare = []
            for _ in range(a.runs + 1):
                pg = context.new_page()
                c = browser_cpu_s(bare_proc.pid)
                bare.append((load(pg, bare_base)[0], browser_cpu_s(bare_proc.pid) - c))
                pg.close()
            bare_s = statistics.median(f for f, _ in bare[1:])
            print(f"reference page (bare Streamlit + one Plotly chart): first chart {bare_s:.2f} s warm (median), "
                  f"browser CPU {statistics.median(b for _, b in bare[1:]):.2f} s per visit")
            print(header)
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            def since(c: tuple[float, float]) -> tuple[float, float]:
                return server_cpu_s(proc.pid) - c[0], browser_cpu_s(proc.pid) - c[1]

            for spec in PAGES:
                loads: list[tuple[float, float]] = []
                filters: list[tuple[float, float]] = []
                visit_cpu: list[tuple[float, float]] = []
                filter_cpu: list[tuple[float, float]] = []
                for run in range(a.runs + 1):
                    pg = context.new_page()
                    c = since((0.0, 0.0))
                    loads.append(load(pg, f"{base}/{spec.href}"))
                    visit_cpu.append(since(c))
                    if run:
                        c = since((0.0, 0.0))
                        try:
                            filters.append(change_tier(pg, tiers[(run - 1) % len(tiers)]))
                        except PlaywrightTimeout:  # reported, not fatal: the other pages still get measured
                            filters.append((float("inf"), float("inf")))
                            print(f"{spec.title}: filter change timed out (see {LOG})", flush=True)
                        filter_cpu.append(since(c))
                    pg.close()
                warm = loads[1:]
                warm_first = statistics.median(f for f, _ in warm)
                print(f"| {spec.title} | {loads[0][0]:.2f} | {warm_first:.2f} | {warm_first / bare_s:.1f}× | "
                      f"{statistics.median(i for _, i in warm):.2f} | {_pair(filters)} | "
                      f"{_pair(visit_cpu[1:])} | {_pair(filter_cpu)} |", flush=True)
            print("\nIn one tab, as a reader moves between pages: a click on the page's sidebar link until the page "
                  "is drawn (heading, every element of the run, a chart); each page is visited `--runs` times.")
            print("| page | page drawn via the sidebar s (median) | max s | CPU s per visit: server / browser |")
            print("|---|---:|---:|---:|")
            pg = context.new_page()
            load(pg, base)
            order = PAGES[1:] + PAGES[:1]
            navs: dict[str, list[float]] = {spec.title: [] for spec in order}
            nav_cpu: dict[str, list[tuple[float, float]]] = {spec.title: [] for spec in order}
            for _ in range(a.runs):
                for spec in order:
                    c = since((0.0, 0.0))
                    navs[spec.title].append(navigate(pg, spec.title, spec.heading))
                    nav_cpu[spec.title].append(since(c))
            for spec in PAGES:
                print(f"| {spec.title} | {statistics.median(navs[spec.title]):.2f} | {max(navs[spec.title]):.2f} | "
                      f"{_pair(nav_cpu[spec.title])} |", flush=True)
            browser.close()
    finally:
        for child in (proc, bare_proc):
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=20)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
