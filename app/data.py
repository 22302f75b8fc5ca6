"""The dashboard's only door to the store: read-only, cached per query, params and store version; a writer's lock is
waited out, then the last good data is shown with its age."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import streamlit as st

import store
from app import auth, connection
from app.connection import EngineQueryError, NotAStore, Stamp, StoreBusy, connect, opened, release
from app.state import Dimensions
from queries import critical_path, decisions, policy, recommend, registry, savings, scorecard, whatif
from queries.engines.duckdb_engine import DuckDBOnly
from queries.semantic import metric as metrics
from store.contract import TIERS
from store.settings import current_settings

ParamKey = tuple[tuple[str, object], ...]
T = TypeVar("T")
_connect = connect  # the store's read-only engine, as tests wait out a writer's lock with it
# The version this script run reads at once the store was busy (connection.last_good's), else None: the current one
_SERVING: ContextVar[Stamp | None] = ContextVar("tierwise_serving", default=None)


@dataclass(frozen=True)
class StoreStatus:
    """Whether the store can be shown: `ok`, `missing`, `behind` (needs migrate), `empty` (no spans), `locked`, or
    `unreadable` (not a DuckDB store)."""

    state: str
    path: Path
    detail: str = ""


@dataclass(frozen=True)
class TraceLayout:
    """One trace as the waterfall draws it: critical-path ns per span, repaired (start, end) ns, parent-first order."""

    path: dict[str, int]
    aligned: dict[str, tuple[int, int]]
    order: tuple[str, ...]


def store_path(argv: Sequence[str] | None = None) -> Path:
    """`--db FILE` after `--` on the streamlit command line, else TIERWISE_DB, else ./tierwise.duckdb."""
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--db="):
            return Path(arg.removeprefix("--db="))
    return current_settings().db_path


def version(path: Path) -> tuple[int, int, int, int]:
    """Changes whenever a writer commits (the file or its WAL): part of every cache key, so a refresh shows new data."""
    out: list[int] = []
    for p in (path, Path(f"{path}.wal")):
        try:
            s = p.stat()
            out += [s.st_mtime_ns, s.st_size]
        except FileNotFoundError:
            out += [0, 0]
    return out[0], out[1], out[2], out[3]


# `stamp` (the store's version) is a hashed argument on purpose: Streamlit leaves `_`-prefixed arguments out of the key.
@st.cache_data(show_spinner=False, max_entries=512)
def _run(db: str, stamp: tuple[int, int, int, int], name: str, params: ParamKey) -> pl.DataFrame:
    call = registry.source_call(name, dict(params))
    if call is not None:  # a polars job: its SQL rows are cached on their own, so jobs over the same rows share them
        return registry.derive(name, _run(db, stamp, call[0], tuple(sorted(call[1].items()))), dict(params))
    with opened(Path(db)) as engine:
        try:
            return registry.run(engine, name, dict(params))
        except Exception as e:
            if engine.name == "duckdb":  # the store's own queries: a failure is a bug, shown in full
                raise
            raise EngineQueryError(f"query {name} failed on {engine.name}: {str(e).strip().splitlines()[0][:240]}") from e


def _read(fn: Callable[..., T], *args: object, stop: bool = True) -> T:
    """fn(db, stamp, *args) at the store's current version. When a writer holds the store past the page's wait, the
    rest of this run reads at the last version read before (its results cached), and the page says how old that is;
    with nothing to fall back on, the page ends with a notice (`stop`) rather than a traceback."""
    path = store_path()
    db, serving = str(path), _SERVING.get()
    stamp = serving or version(path)
    try:
        out = fn(db, stamp, *args)
    except StoreBusy:
        older = None if serving else connection.last_good(db, stamp)
        if older:
            _SERVING.set(older[0])
            st.warning(f"Data as of {older[1]} ago: the store is busy (a writer is folding new data into it). Refresh "
                       "in a moment for newer data.", icon=":material/schedule:")
            return _read(fn, *args, stop=stop)
        if stop:
            st.warning("The store is busy (a writer is folding new data into it), so the rest of this page cannot be "
                       "read yet. Refresh in a moment.", icon=":material/schedule:")
            st.stop()
        raise
    if serving is None:
        connection.read_while_current(db, stamp)
    return out


def query(name: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """Rows of registered query `name` (see queries/registry.py) on the dashboard's store."""
    return _read(_run, name, tuple(sorted((params or {}).items())))


@st.cache_data(show_spinner=False, max_entries=512)
def _metric(db: str, stamp: tuple[int, int, int, int], req: metrics.Request) -> pl.DataFrame:
    with opened(Path(db)) as engine:
        try:
            return metrics.run(engine, req)
        except DuckDBOnly as e:
            raise EngineQueryError(str(e)) from None


def models_measures() -> bool:
    """Whether the semantic model can run here: on the DuckDB store; ClickHouse serves the registered queries only."""
    return current_settings().engine != "clickhouse"


def metric(measures: Sequence[str], by: Sequence[str] = (), where: Sequence[tuple[str, str]] = (),
           from_ns: int | None = None, to_ns: int | None = None, grain: str = "day") -> pl.DataFrame:
    """Measures of the semantic model (queries/semantic) on the dashboard's store: what `tierwise metric` gives."""
    currency = metrics.configured_currency(current_settings().config_path)
    req = metrics.Request(tuple(measures), tuple(by), tuple(where), from_ns, to_ns, grain, currency)
    return _read(_metric, req)


def narrowed(name: str, params: dict[str, object], by: str | tuple[str, ...] = "tier") -> pl.DataFrame:
    """Rows of `name` for the values params gives the `by` keys, taken from its cached result for every value of
    them, so a filter change there reruns no query: for queries grouped by those columns whose `$by` filters are
    plain row predicates on them, or whose tests show the filtered call equals these rows (critical_path_shares,
    slow_path by workload)."""
    keys = (by,) if isinstance(by, str) else by
    chosen = {k: params[k] for k in keys if params.get(k) is not None}
    rows = query(name, {**params, **dict.fromkeys(chosen)})
    for key, value in chosen.items():
        rows = rows.filter(pl.col(key) == value)
    return rows


@st.cache_data(show_spinner=False, max_entries=16)
def _status(db: str, stamp: tuple[int, int, int, int]) -> StoreStatus:
    path = Path(db)
    if current_settings().engine == "clickhouse":  # no store file: ClickHouse's tables are checked when queried
        return StoreStatus("ok", path)
    if not path.exists():
        return StoreStatus("missing", path)
    try:
        engine = _connect(path)  # StoreBusy goes up uncached: status() falls back or says the store is busy
    except NotAStore as e:
        return StoreStatus("unreadable", path, str(e))
    except duckdb.IOException as e:
        return StoreStatus("locked", path, str(e))
    con = engine.duckdb_connection("the store's status")
    try:
        store.check_current(con)
        row = con.execute("SELECT count(*) FROM (SELECT 1 FROM spans LIMIT 1)").fetchone()
    except store.StoreError as e:
        return StoreStatus("behind", path, str(e))
    except duckdb.CatalogException:
        return StoreStatus("behind", path, "no spans table")
    finally:
        engine.close()
    return StoreStatus("ok" if row and row[0] else "empty", path)


def status() -> StoreStatus:
    """Whether the store can be shown; the first call of every page run, so it also starts the run at the current
    version (or, with the store busy, at the last good one: see _read)."""
    _SERVING.set(None)
    try:
        return _read(_status, stop=False)
    except StoreBusy:
        return StoreStatus("locked", store_path(), f"waited {connection.PAGE_LOCK_WAIT_S:g} s; no data read earlier to "
                                                   "show meanwhile")


def dimensions() -> Dimensions:
    """The values filters may take, from query `filter_values`."""
    rows = query("filter_values")
    by: dict[str, list[str]] = {}
    for dim, value in rows.select("dimension", "value").iter_rows():
        by.setdefault(dim, []).append(value)
    order = {tier: i for i, tier in enumerate(TIERS)}
    days = sorted(by.get("day", []))
    return Dimensions(tiers=tuple(sorted(by.get("tier", []), key=lambda t: (order.get(t, len(TIERS)), t))),
                      sites=tuple(sorted(by.get("site", []))), workloads=tuple(sorted(by.get("workload", []))),
                      first_day=date.fromisoformat(days[0]) if days else None,
                      last_day=date.fromisoformat(days[-1]) if days else None)


@st.cache_data(show_spinner=False, max_entries=64)
def _path(db: str, stamp: tuple[int, int, int, int], trace_id: str) -> TraceLayout:
    spans = _run(db, stamp, "trace_detail", (("trace_id", trace_id),))
    nodes = [critical_path.SpanNode(r["span_id"], r["parent_span_id"], r["start_ns"], r["end_ns"],
                                    r["service_name"] or "", r["name"], r["tier"], r["kind"], r["site"])
             for r in spans.iter_rows(named=True)]
    on_path = {seg.span_id: seg.self_ns for seg in critical_path.critical_path(nodes)}
    # The critical path's own repaired tree (cross-tier clock skew centred, children clipped to their parents):
    # drawing those times keeps a cloud server inside the device call that caused it, whatever the clocks said.
    tree = critical_path._sanitize(nodes)
    aligned: dict[str, tuple[int, int]] = {}
    order: list[str] = []
    if tree is not None:
        stack = [tree.root]
        while stack:
            node = stack.pop()
            aligned[node.span_id] = (node.start_ns, node.end_ns)
            order.append(node.span_id)
            stack.extend(sorted(tree.children.get(node.span_id, []), key=lambda c: c.start_ns, reverse=True))
    order += [n.span_id for n in nodes if n.span_id not in aligned]
    return TraceLayout(on_path, aligned, tuple(order))


def trace_layout(trace_id: str) -> TraceLayout:
    """Critical path (span id → exclusive ns) and skew-repaired times of one trace, from queries/critical_path.py."""
    return _read(_path, trace_id)


@st.cache_data(show_spinner=False, max_entries=16)
def _recommendations(db: str, stamp: tuple[int, int, int, int]) -> pl.DataFrame:
    with opened(Path(db)) as engine:
        return recommend.as_frame(recommend.run(engine))


def recommendations() -> pl.DataFrame:
    """The engine's ranked recommendations (queries/recommend), one row each, best first."""
    return _read(_recommendations)


@dataclass(frozen=True)
class WhatIf:
    """One what-if: the priced move (one row), or no rows and the reason the move was refused."""

    move: pl.DataFrame
    refusal: str = ""


@st.cache_data(show_spinner=False, max_entries=64)
def _what_if(db: str, stamp: tuple[int, int, int, int], workload: str, to_tier: str, from_tier: str | None,
             to_site: str | None) -> WhatIf:
    # whatif.run's inputs, from the cached queries: trying several moves reruns no query
    inputs, hops = _run(db, stamp, "scorecard_inputs", ()), _run(db, stamp, "scorecard_hops", ())
    cfg = scorecard.configured()
    try:
        move = whatif.estimate(inputs, _run(db, stamp, "scorecard", ()), hops, workload, to_tier, from_tier, to_site,
                               cfg.speed, policy.configured())  # the framework's refusal, as `tierwise whatif`
    except whatif.WhatIfError as e:
        return WhatIf(pl.DataFrame(), str(e).replace("pass --from to price one", "pick a from tier to price one"))
    return WhatIf(whatif.as_frame([move]))


def what_if(workload: str, to_tier: str, from_tier: str | None = None, to_site: str | None = None) -> WhatIf:
    """queries/whatif.py's priced move of `workload` to `to_tier` (one row), or the reason it cannot be priced."""
    return _read(_what_if, workload, to_tier, from_tier, to_site)


def default_move(workload: str | None = None) -> tuple[str, str, str | None, str | None] | None:
    """(workload, to tier, from tier, to site) the what-if opens on: the most valuable open recommendation (for
    `workload`, when given), else the first workload × tier pair the what-if accepts; None when nothing can be priced."""
    recs = recommendations()
    recs = recs.filter(~savings.rec_keys(recs).is_in(list(decided())))  # open ones: neither accepted nor dismissed
    if workload:
        recs = recs.filter(pl.col("workload") == workload)
    if recs.height:
        r = recs.row(0, named=True)
        return str(r["workload"]), str(r["to_tier"]), r["from_tier"], r["to_site"]
    names = [workload] if workload else sorted(query("scorecard")["workload"].unique().to_list())
    for name in names:
        for tier in TIERS:
            if what_if(name, tier).move.height:
                return name, tier, None, None
    return None


_DECISIONS_NOTICE = "tierwise_decisions_notice"


def decided() -> dict[str, decisions.Decision]:
    """Accept/dismiss decisions kept beside the store (never cached: another session may just have written one); a
    damaged file is set aside and the page says so in one line."""
    loaded = decisions.read(store_path())
    for problem in (st.session_state.pop(_DECISIONS_NOTICE, ""), loaded.problem):
        if problem:
            st.warning(problem, icon=":material/warning:")
    return loaded.decisions


def decide(rec_key: str, state: str) -> None:
    """Remember a decision, and who made it, in the JSON file beside the store; the store itself stays read-only.

    A damaged file found while recording is set aside; the page that reruns after the click says so.
    """
    done = decisions.record(store_path(), rec_key, state, by=auth.current_user())
    if done.problem:
        st.session_state[_DECISIONS_NOTICE] = done.problem


def savings_summary() -> pl.DataFrame:
    """queries/savings.summary of the ranked recommendations and the accepted ones (one row)."""
    made = decided()
    return savings.summary(recommendations(), [k for k, d in made.items() if d.state == "accepted"],
                           [k for k, d in made.items() if d.state == "dismissed"])


def clear() -> None:
    """Drop every cached result and the kept chdb session (tests; a store replaced under the same mtime)."""
    st.cache_data.clear()
    release()

