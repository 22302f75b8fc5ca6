"""The sidebar's global filters (kept in sync with the URL query string) and what every view reads from them."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import streamlit as st

from app import state
from app.state import Dimensions, Filters

ALL = "All"
_KEY = "tierwise.filters"


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


def sidebar(dims: Dimensions) -> Filters:
    """Draw the filters, seeded from the URL on a session's first run, and write the result back to the URL."""
    from_url = state.parse(st.query_params.to_dict(), dims)
    st.sidebar.header("Filters")
    start = end = None
    if dims.first_day and dims.last_day:
        _init("f_range", (from_url.start or dims.first_day, from_url.end or dims.last_day))
        picked = st.sidebar.date_input("Time range (UTC days)", key="f_range", min_value=dims.first_day,
                                       max_value=dims.last_day)
        days = [d for d in (picked if isinstance(picked, tuple) else (picked,)) if isinstance(d, date)]
        if days:
            start, end = min(days), max(days)
        if start == dims.first_day and end == dims.last_day:
            start = end = None  # the whole store: keep the URL clean and include data that arrives later
    tier = _pick("Tier", "f_tier", dims.tiers, from_url.tier)
    site = _pick("Site", "f_site", dims.sites, from_url.site)
    workload = _pick("Workload", "f_workload", dims.workloads, from_url.workload)
    filters = Filters(start, end, tier, site, workload, from_url.trace_id)
    st.session_state[_KEY] = filters
    wanted = filters.to_query_params()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    return filters


def trace_link(trace_id: str, filters: Filters) -> str:
    """A relative URL opening the trace view on `trace_id` with the same filters."""
    return "trace?" + urlencode({**filters.with_(trace_id=trace_id).to_query_params()})


def scope_caption(filters: Filters, applies: str = "time range, tier, site and workload") -> None:
    st.caption(f"Filters applied here: {applies}.")
