"""One page's rerun after a sidebar filter change, in Streamlit's AppTest: the registry queries it executes, timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from streamlit.testing.v1 import AppTest

from queries import registry


@dataclass(frozen=True)
class Rerun:
    """The second run of a page (caches filled by the first): its cost and every query it had to execute."""

    wall_s: float
    cpu_s: float
    queries: tuple[tuple[str, float, float, dict[str, object]], ...]  # name, wall s, CPU s, parameters


def _page_script(page: str) -> None:
    from app import main

    main.run(only=page)


def rerun_after_filter(page: str, key: str, value: str) -> Rerun:
    """Run `page` (the store from TIERWISE_DB), set the sidebar widget `key` to `value`, run it again, and time it.

    CPU is time.process_time (all threads); a cache hit executes no query and so is not listed. A polars job the
    dashboard derives from cached SQL rows (registry.derive) is listed apart from the SQL query it reads.
    """
    ran: list[tuple[str, float, float, dict[str, object]]] = []
    real_run, real_derive = registry.run, registry.derive

    def timed(name: str, params: Any, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        t, c = time.perf_counter(), time.process_time()
        out = compute()
        ran.append((name, time.perf_counter() - t, time.process_time() - c, dict(params or {})))
        return out

    def run(engine: Any, name: str, params: Any = None) -> pl.DataFrame:
        return timed(name, params, lambda: real_run(engine, name, params))

    def derive(name: str, rows: pl.DataFrame, params: Any = None) -> pl.DataFrame:
        return timed(name, params, lambda: real_derive(name, rows, params))

    registry.run, registry.derive = run, derive
    try:
        at = AppTest.from_function(_page_script, args=(page,), default_timeout=600)
        at.run()
        ran.clear()
        t, c = time.perf_counter(), time.process_time()
        at.selectbox(key=key).select(value).run()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        registry.run, registry.derive = real_run, real_derive
    if at.exception:
        raise RuntimeError(f"page {page} raised: {[e.value for e in at.exception]}")
    return Rerun(wall, cpu, tuple(ran))
