"""The serve-time warm-up: every page drawn once, headless, at default filters, so first visits hit a full cache."""

from __future__ import annotations

import logging
import sys
import threading
import time

DONE = "tierwise: warm-up done"  # bench/pages.py waits for this line on the server's stdout
THREAD = "tierwise-warm-up"


def warm_pages() -> list[tuple[str, float]]:
    """Run every page's view outside any session: Streamlit calls are no-ops and widgets keep their defaults, so the
    cached queries filled are those a first visitor's run asks for; then the pages with lazy tabs again, every tab
    drawn (components.every_tab), so opening one at default filters waits for no query. Expanders stay closed."""
    from app import components, data  # imported here: the app's modules load once the server's Runtime exists
    from app.pages import PAGES
    from app.views import common, executive, finops, mapping

    if data.status().state != "ok":
        return []
    common.sidebar(data.dimensions())
    mapping.strip()  # drawn above every page by app/main.py
    took = []
    for spec in PAGES:
        t = time.perf_counter()
        spec.view()
        took.append((spec.url_path, time.perf_counter() - t))
    # Fragment bodies do not run outside a session: draw them directly, with the defaults their pages pass.
    t = time.perf_counter()
    finops.breakdown_section(None)
    executive.what_if_section(None)
    took.append(("fragments", time.perf_counter() - t))
    t = time.perf_counter()
    with components.every_tab():  # a second pass, so every page's first view is cached before any tab is
        for spec in PAGES:
            if spec.lazy_tabs:
                spec.view()
    took.append(("tabs", time.perf_counter() - t))
    return took


def _wait_for_runtime(timeout_s: float = 60.0) -> bool:
    """The server's cache storage exists once Streamlit's Runtime does; results cached before it would be lost."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout_s
    while not Runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _quiet(record: logging.LogRecord) -> bool:
    """Streamlit warns about every call made outside a session; in the warm-up thread that is the point."""
    return record.threadName != THREAD or record.levelno >= logging.ERROR


def _run() -> None:
    t = time.perf_counter()
    try:
        if not _wait_for_runtime():
            return
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if name.startswith("streamlit") and isinstance(logger, logging.Logger):
                logger.addFilter(_quiet)
        took = warm_pages()
    except Exception as e:  # a warm-up failure must never stop the dashboard; the page itself will show the error
        print(f"tierwise: warm-up failed: {e!r}", flush=True)
        return
    pages = ", ".join(f"{name} {s:.1f} s" for name, s in took)
    print(f"{DONE} in {time.perf_counter() - t:.1f} s ({pages})", flush=True)


def start() -> threading.Thread:
    """Begin the warm-up in a daemon thread; a visitor arriving meanwhile shares its results (per-key cache locks)."""
    thread = threading.Thread(target=_run, name=THREAD, daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> None:
    """`python -m app.warm run app/main.py … -- --db FILE`: the warm-up beside the `streamlit` command line it gets."""
    from streamlit.web import cli

    start()
    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
