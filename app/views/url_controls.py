"""A page's own controls in the URL query string, beside the sidebar's filters, so a view can be shared as a link.

The sidebar (common.sidebar) rewrites the query string before a page draws, keeping the keys a page claimed; app/main.py
keeps the query string as the run began under AT_START, so a page seeds its controls from the link that opened it, then
claims and writes them back (common.keep_in_url).
Pages parse and render their own keys with pure functions (tested for round trips).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from app.state import param_text
from app.views import common

AT_START = "tierwise.url_at_start"
MAX_CHARS = 2000  # a longer value is never a control's: ignored unread


def opened_with(keys: Sequence[str] | None = None) -> dict[str, str]:
    """The query string this run began with (one value per key), all of it or only `keys`."""
    value = st.session_state.get(AT_START)
    url = dict(value) if isinstance(value, dict) else st.query_params.to_dict()
    return url if keys is None else {k: v for k, v in url.items() if k in keys}


def seed(values: Mapping[str, object]) -> None:
    """Widget key → value for each control not yet in this session (its first run of the page)."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def write(own: Mapping[str, str], keys: Sequence[str]) -> None:
    """Put this page's controls (`own`, only those not at their default) into the URL, removing the rest of `keys`;
    the sidebar keeps them on later runs."""
    common.keep_in_url(dict(own), tuple(keys))


def text(params: Mapping[str, str | list[str]], key: str) -> str | None:
    """One value of `key`, stripped; None when absent, empty or too long (a page's controls may be longer than the
    sidebar's: attribute conditions)."""
    return param_text(params, key, MAX_CHARS)


def number(params: Mapping[str, str | list[str]], key: str, low: float = 0.0, high: float = 1e12) -> float | None:
    raw = text(params, key)
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and low <= value <= high else None
