"""The sidebar's global filters (kept in sync with the URL query string) and what every view reads from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

import streamlit as st

from app import data, state
from app.state import PRESETS, Dimensions, Filters

ALL = "All"
_KEY = "tierwise.filters"
_URL_IN = "tierwise.url_in"  # the query string as this run began, before the sidebar rewrote it
_CLAIMED = "tierwise.page_keys"  # URL keys the page claimed on its last run: the sidebar leaves them in place
DAYS, EXACT = "Whole UTC days", "Exact times (UTC)"
MODES = (DAYS, *(f"Last {p}" for p in PRESETS), EXACT)


def current() -> Filters:
    """The filters the sidebar resolved on this run."""
    value = st.session_state.get(_KEY)
    return value if isinstance(value, Filters) else Filters()


def _init(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _pick(label: str, key: str, options: tuple[str, ...], initial: str | None) -> str | None:
    choices = (ALL, *options)
    _init(key, initial or ALL)
    if st.session_state[key] not in choices:  # the store changed under an old session
        st.session_state[key] = ALL
    chosen = st.sidebar.selectbox(label, choices, key=key)
    return None if chosen == ALL else str(chosen)


def _last_ns() -> int | None:
    """The store's last span start (query data_extent), where the presets end."""
    rows = data.query("data_extent")
    value = rows["last_ns"][0] if rows.height else None
    return int(value) if value is not None else None


def _time(dims: Dimensions, from_url: Filters) -> Filters:
    """The time picker: whole UTC days, a preset ending at the store's last data, or exact UTC instants."""
    mode = f"Last {from_url.last}" if from_url.last else EXACT if from_url.from_ns or from_url.to_ns else DAYS
    _init("f_mode", mode)
    chosen = st.sidebar.selectbox("Time range", MODES, key="f_mode")
    if chosen.startswith("Last "):
        last = chosen.removeprefix("Last ")
        f = state.windowed(Filters(last=last, anchor_ns=_last_ns()))
        st.sidebar.caption(f"The {f.describe()}. Presets end at the store's last data, not at now: a store may hold "
                           "past data.")
        return f
    if chosen == EXACT:
        first = state.instant_text(from_url.from_ns) if from_url.from_ns is not None else \
            f"{dims.first_day} 00:00:00" if dims.first_day else ""
        to = state.instant_text(from_url.to_ns) if from_url.to_ns is not None else ""
        _init("f_from", first)
        _init("f_to", to)
        lo = st.sidebar.text_input("From (UTC, inclusive)", key="f_from", placeholder="2026-12-06 10:00")
        hi = st.sidebar.text_input("To (UTC, exclusive)", key="f_to", placeholder="empty: the last data")
        f = state.parse({"from": lo, "to": hi}, dims)
        if (lo.strip() and f.from_ns is None) or (hi.strip() and f.to_ns is None):
            st.sidebar.warning("Write times as 2026-12-06 10:00 or 2026-12-06T10:00:00Z, with From before To.")
        st.sidebar.caption(f"Showing {f.describe()}.")
        return f
    start = end = None
    if dims.first_day and dims.last_day:
        _init("f_range", (from_url.start or dims.first_day, from_url.end or dims.last_day))
        picked = st.sidebar.date_input("Days (UTC)", key="f_range", min_value=dims.first_day, max_value=dims.last_day)
        days = [d for d in (picked if isinstance(picked, tuple) else (picked,)) if isinstance(d, date)]
        if days:
            start, end = min(days), max(days)
        if start == dims.first_day and end == dims.last_day:
            start = end = None  # the whole store: keep the URL clean and include data that arrives later
    return Filters(start, end)


def sidebar(dims: Dimensions) -> Filters:
    """Draw the filters, seeded from the URL on a session's first run, and write the result back to the URL (with
    the keys the page claimed on its last run, which it validates itself)."""
    incoming = st.query_params.to_dict()
    st.session_state[_URL_IN] = incoming
    from_url = state.parse(incoming, dims)
    st.sidebar.header("Filters")
    window = _time(dims, from_url)
    tier = _pick("Tier", "f_tier", dims.tiers, from_url.tier)
    site = _pick("Site", "f_site", dims.sites, from_url.site)
    workload = _pick("Workload", "f_workload", dims.workloads, from_url.workload)
    filters = replace(window, tier=tier, site=site, workload=workload, trace_id=from_url.trace_id)
    st.session_state[_KEY] = filters
    claimed = st.session_state.get(_CLAIMED, frozenset())
    wanted = {**{k: v for k, v in incoming.items() if k in claimed}, **filters.to_query_params()}
    if incoming != wanted:
        st.query_params.from_dict(wanted)
    return filters


def from_url(key: str) -> str | None:
    """The value `key` had in the URL as this run began (before the sidebar dropped keys no page has claimed yet)."""
    value = st.session_state.get(_URL_IN, {}).get(key)
    return value if isinstance(value, str) else None


def keep_in_url(params: dict[str, str], keys: tuple[str, ...]) -> None:
    """Write a page's own controls to the URL: `params` (set values, validated by the page) among its `keys`; the
    page's other keys are removed. The sidebar keeps them on the next run."""
    st.session_state[_CLAIMED] = frozenset(keys)
    current = st.query_params.to_dict()
    wanted = {**{k: v for k, v in current.items() if k not in keys}, **params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def trace_link(trace_id: str, filters: Filters) -> str:
    """A relative URL opening the trace view on `trace_id` with the same filters."""
    return "trace?" + urlencode({**filters.with_(trace_id=trace_id).to_query_params()})
