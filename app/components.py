"""Reusable page pieces: KPI rows, charts, tables with CSV download, and the empty-store guide."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import plain
from app.connection import EngineQueryError
from app.data import StoreStatus
from queries.semantic import metric as metrics
from queries.semantic import present
from queries.units import format_frame

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def kpi_row(items: Sequence[tuple[str, str, str | None]]) -> None:
    """One st.metric per (label, value, help), side by side: four to a row, three when a value is long (money with
    its currency), so a laptop's width never cuts a figure off. Help text may carry telemetry names: shown as text."""
    if not items:
        return
    per_row = 3 if any(len(value) > 10 for _, value, _ in items) else 4
    for start in range(0, len(items), per_row):
        chunk = items[start:start + per_row]
        for col, (label, value, help_) in zip(st.columns(per_row), chunk, strict=False):
            col.metric(label, value, help=None if help_ is None else plain.md(help_))


def chart(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG)


def calendar_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Day and month buckets shown as dates: a datetime column whose values all fall on midnight becomes a Date
    (2026-10-03), and one named like a month whose values are all first-of-month becomes text 2026-10."""
    out = []
    for name, dtype in frame.schema.items():
        col = frame.get_column(name)
        if not isinstance(dtype, pl.Datetime | pl.Date) or col.null_count() == col.len():
            continue
        if isinstance(dtype, pl.Datetime) and not bool((col.dt.truncate("1d") == col).fill_null(True).all()):
            continue
        monthly = "month" in name and bool((col.dt.day() == 1).fill_null(True).all())
        if monthly or isinstance(dtype, pl.Datetime):
            out.append(pl.col(name).dt.strftime("%Y-%m") if monthly else pl.col(name).dt.date())
    return frame.with_columns(out) if out else frame


def table(frame: pl.DataFrame, key: str, filename: str, caption: str | None = None,
          column_config: Mapping[str, Any] | None = None, download: pl.DataFrame | None = None) -> None:
    """The rows as an interactive table with a CSV download of exactly those rows (day/month buckets as dates);
    `download`, when given, is what the CSV holds instead (the rows without the table's link columns)."""
    if caption:
        st.caption(caption)
    frame = calendar_dates(frame)
    st.dataframe(frame, key=f"{key}_table", hide_index=True, column_config=readable(frame, column_config))
    csv = frame if download is None else calendar_dates(download)
    st.download_button("Download CSV", csv.write_csv(), file_name=filename, mime="text/csv", key=f"{key}_csv",
                       icon=":material/download:")


def readable(frame: pl.DataFrame, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Headers with units for a registered query's columns, fractions shown as %, numbers with separators, under
    what the caller configured (which keeps its own label, or gets this one); the frame (and so its CSV) keeps the
    names and values as the query returns them."""
    money_beside = "currency" in frame.columns
    pct, hundredths = set(present.percent_columns(frame.columns)), set(present.pct_columns(frame.columns))
    out: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        label = present.header(name, money_beside)
        mine = given.get(name) if given else None
        if isinstance(mine, dict):
            out[name] = {**mine, "label": mine.get("label") or label}
        elif mine is not None:
            out[name] = mine
        elif dtype == pl.Date:
            out[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif dtype.is_numeric():
            money = "_usd" in name and not dtype.is_integer()  # cents with separators: USD, or its row's currency
            fmt = ("percent" if name in pct else "%.1f %%" if name in hundredths
                   else ("accounting" if money_beside else "dollar") if money else "localized")
            out[name] = st.column_config.NumberColumn(label, format=fmt)
        else:
            out[name] = label
    return out


_EVERY_TAB: ContextVar[bool] = ContextVar("every_tab", default=False)


@contextmanager
def every_tab() -> Iterator[None]:
    """Within it, a run with no reader (the warm-up's, app/warm.py) draws every lazy tab, filling the cache that the
    tabs a reader opens one by one will read."""
    token = _EVERY_TAB.set(True)
    try:
        yield
    finally:
        _EVERY_TAB.reset(token)


def measure_table(frame: pl.DataFrame, keys: Sequence[str], key: str, filename: str, caption: str,
                  download: pl.DataFrame | None = None) -> None:
    """Semantic-model rows as people read them: headers are the measures' labels, cells formatted by unit (money
    with its currency, – for a missing value); the CSV holds the unformatted values under the measures' names."""
    shown = format_frame(metrics.rows_for_output(frame), present.units(frame.columns))
    shown = shown.with_columns(pl.col(k).cast(pl.String).fill_null("–") for k in keys if k in shown.columns)
    shown = shown.rename(present.labels(shown.columns))
    st.caption(caption)
    st.dataframe(shown, key=f"{key}_table", hide_index=True)
    csv = metrics.rows_for_output(frame if download is None else download).write_csv()
    st.download_button("Download CSV", csv, file_name=filename, mime="text/csv", key=f"{key}_csv",
                       icon=":material/download:")


def drawn(tab: Any) -> bool:
    """Whether a lazy tab runs its queries and draws: the open one, or every one in the warm-up's every_tab()."""
    return bool(tab.open) or (_EVERY_TAB.get() and get_script_run_ctx(suppress_warning=True) is None)


@contextmanager
def engine_gaps() -> Iterator[None]:
    """Where a section's query fails on ClickHouse, say so in the section's place; the rest of the page still draws."""
    try:
        yield
    except EngineQueryError as e:
        st.warning(f"This part cannot be shown on this engine yet ({e}). The same view on the DuckDB store works.",
                   icon=":material/construction:")


def no_rows(what: str) -> None:
    st.info(f"No {what} in this selection: widen the time range or clear a filter in the sidebar.")


def empty_store(status: StoreStatus) -> None:
    """How to load data, instead of an error, when the store is missing, empty, behind, busy or not a store."""
    st.title("tierwise")
    db = str(status.path)
    if status.state == "behind":
        st.warning(f"The store at `{db}` was written by an older tierwise: {status.detail}")
        st.code(f"tierwise migrate --db {db}", language="sh")
        return
    if status.state == "locked":
        st.warning(f"The store at `{db}` is busy (a writer holds it). Refresh in a moment. ({status.detail})")
        return
    if status.state == "unreadable":
        st.error(f"The file at `{db}` is not a tierwise store: {plain.md(status.detail)}")
        return
    what = "does not exist yet" if status.state == "missing" else "holds no spans yet"
    st.info(f"The store at `{db}` {what}. Load some data, then refresh this page.")
    st.markdown("Generate a seeded hybrid AI estate and load it:")
    st.code(f"tierwise generate --out estate --spans 100000\ntierwise ingest estate --db {db}", language="sh")
    st.markdown("Or load your own OpenTelemetry files and billing exports, or receive live OTLP/HTTP:")
    st.code(f"tierwise ingest traces.jsonl bills/ --db {db}\ntierwise receive --db {db}", language="sh")
