"""Telemetry and bill text made inert: escaped for Streamlit Markdown and for Plotly's HTML-like chart text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# Everything CommonMark lets a backslash escape that Streamlit's Markdown gives a meaning: emphasis, links and
# images, code, headings, lists, tables, :colour[...] and :icon: directives, $maths$, ~strikes~ and autolinks' `:`.
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$=^\"'])")
# GFM turns a URL or an e-mail address in text into a link even when its characters are backslash-escaped (remark's
# autolink pass runs on the parsed text); one starts only after a space or punctuation, so a WORD JOINER (invisible,
# not a space) before it leaves it text.
_AUTOLINK = re.compile(r"(?=https?://|www\.|@)", re.IGNORECASE)
_JOINER = "\u2060"


def md(text: object) -> str:
    """`text` as literal characters inside st.markdown (and every other Markdown-rendering label): HTML's `<`, `>`
    and `&` as entities, Markdown's specials backslash-escaped, line breaks as spaces, an invisible word joiner
    before what GFM would autolink. A span named `![x](http://host/x.png)` shows those characters; it fetches no
    image and makes no link."""
    joined = _AUTOLINK.sub(_JOINER, " ".join(str(text).splitlines()))
    escaped = html.escape(joined, quote=False)
    return _MD_SPECIALS.sub(r"\\\1", escaped)


def label(text: object) -> str:
    """`text` as literal characters in Plotly's text, tick labels, legend names, annotations and hover text, which
    render `<a href>`, `<b>` and `<br>`: `<`, `>` and `&` become entities that Plotly shows as the characters."""
    return html.escape(str(text), quote=False)


def labels(values: Iterable[object]) -> list[str | None]:
    """label() of each value (None stays None: Plotly's gap)."""
    return [None if v is None else label(v) for v in values]
