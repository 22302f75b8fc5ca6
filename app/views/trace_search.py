"""Trace search page, the Jaeger/Tempo habit: span conditions, status, duration and attributes in, traces out, each
opening in the trace view. Every control lives in the URL (to_params / from_params), the sidebar's filters beside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from app import charts_red, components, data
from app.state import Filters
from app.views import common, url_controls
from queries import traces
from queries.traces import Condition, TraceFilter

HEADING = "Trace search"
ANY = "Any"
KEYS = ("service", "operation", "status", "min_ms", "max_ms", "where", "sort", "limit")
STATUS_CHOICES = ("any", "error", "ok")
LIMITS = (20, 50, 100, 500, 1000)


@dataclass(frozen=True)
class Search:
    """The page's own controls; the sidebar gives tier, site, workload and the time window."""

    service: str | None = None
    operation: str | None = None
    status: str | None = None  # None: any
    min_ms: float | None = None
    max_ms: float | None = None
    where: str = ""  # one condition per line, as typed
    sort: str = "recent"
    limit: int = 20


def to_params(s: Search) -> dict[str, str]:
    """The URL form: only controls away from their default."""
    raw = {"service": s.service, "operation": s.operation, "status": s.status,
           "min_ms": None if s.min_ms is None else f"{s.min_ms:g}", "max_ms": None if s.max_ms is None else f"{s.max_ms:g}",
           "where": s.where.strip() or None, "sort": None if s.sort == "recent" else s.sort,
           "limit": None if s.limit == 20 else str(s.limit)}
    return {k: v for k, v in raw.items() if v is not None}


def from_params(params: Mapping[str, str | list[str]]) -> Search:
    """A Search from URL parameters; a value that cannot be one (unknown status, negative duration) is dropped."""
    text = url_controls.text
    status = text(params, "status")
    sort = text(params, "sort")
    limit = url_controls.number(params, "limit", 1, traces.MAX_LIMIT)
    raw_where = params.get("where")
    where = (raw_where[-1] if isinstance(raw_where, list) and raw_where else raw_where) or ""
    return Search(service=text(params, "service"), operation=text(params, "operation"),
                  status=status if status in traces.STATUSES else None,
                  min_ms=url_controls.number(params, "min_ms"), max_ms=url_controls.number(params, "max_ms"),
                  where=where.strip() if isinstance(where, str) and len(where) <= url_controls.MAX_CHARS else "",
                  sort=sort if sort in traces.SORTS else "recent",
                  limit=int(limit) if limit is not None and limit == int(limit) else 20)


def conditions(text: str) -> tuple[Condition, ...]:
    """One `key=value` (or !=, >, >=, <, <=) per line; ValueError names the first line that is not one."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(traces.parse_condition(line.strip()))
            except ValueError as e:
                raise ValueError(f"Attribute conditions, line {number}: {e}") from None
    return tuple(out)


def trace_filter(s: Search, f: Filters) -> TraceFilter:
    """The search the page runs (ValueError says what cannot be searched for)."""
    window = f.window()
    start, end = window.get("start_ns"), window.get("end_ns")
    return traces.checked(TraceFilter(
        service=s.service, operation=s.operation, tier=f.tier, site=f.site, workload=f.workload,
        where=conditions(s.where), status=s.status, min_ms=s.min_ms, max_ms=s.max_ms,
        start_ns=start if isinstance(start, int) else None, end_ns=end if isinstance(end, int) else None,
        sort=s.sort, limit=s.limit))


def found(tf: TraceFilter) -> pl.DataFrame:
    """The matching traces (traces.COLUMNS) through the dashboard's cache: the rows `tierwise traces` prints."""
    return traces.result(data.query("trace_search", tf.params()))


def services_and_operations() -> pl.DataFrame:
    """Every (service, operation) requests enter, over the whole store: the choices offered (others can be typed)."""
    if not data.models_measures():
        return pl.DataFrame(schema={"service": pl.String, "operation": pl.String})
    rows = data.metric(("requests_sampled",), ("service", "operation"))
    return rows.select("service", "operation").drop_nulls()


def _choice(options: list[str], current: str | None) -> list[str]:
    return [ANY, *dict.fromkeys([*([current] if current else []), *options])]


def _controls(pairs: pl.DataFrame) -> Search:
    url = from_params(url_controls.opened_with(KEYS))
    url_controls.seed({"ts_service": url.service or ANY, "ts_operation": url.operation or ANY,
                       "ts_status": url.status or "any", "ts_min_ms": url.min_ms, "ts_max_ms": url.max_ms,
                       "ts_where": url.where, "ts_sort": url.sort, "ts_limit": url.limit})
    c1, c2, c3 = st.columns([3, 3, 2])
    services = sorted(set(pairs["service"].to_list()))
    service = c1.selectbox("Service", _choice(services, st.session_state.get("ts_service")), key="ts_service",
                           accept_new_options=True, help="Any span of the trace; type a service not listed.")
    chosen = None if service in (None, ANY) else str(service)
    ops = pairs.filter(pl.col("service") == chosen) if chosen else pairs
    operation = c2.selectbox("Operation", _choice(sorted(set(ops["operation"].to_list())),
                                                   st.session_state.get("ts_operation")), key="ts_operation",
                             accept_new_options=True, help="The span name, on the same span as the service.")
    status = c3.segmented_control("Status", STATUS_CHOICES, key="ts_status") or "any"
    d1, d2, d3, d4 = st.columns(4)
    min_ms = d1.number_input("Min duration (ms)", min_value=0.0, value=None, step=100.0, key="ts_min_ms")
    max_ms = d2.number_input("Max duration (ms)", min_value=0.0, value=None, step=100.0, key="ts_max_ms")
    sort = d3.segmented_control("Sort", traces.SORTS, key="ts_sort",
                                format_func=lambda s: "most recent" if s == "recent" else "slowest") or "recent"
    limit_options = sorted({*LIMITS, int(st.session_state.get("ts_limit") or 20)})
    limit = d4.selectbox("Limit (traces)", limit_options, key="ts_limit")
    where = st.text_area("Attribute conditions, one per line (key=value, key!=value, key>n, key>=n, key<n, key<=n)",
                         key="ts_where", height=80, placeholder="gen_ai.request.model=llama\nhttp.status_code>=500")
    return Search(chosen, None if operation in (None, ANY) else str(operation), None if status == "any" else status,
                  min_ms, max_ms, where or "", sort, int(limit or 20))


def results_table(rows: pl.DataFrame, f: Filters, key: str = "ts_results") -> None:
    """The found traces, sortable: each id (its first 16 hex digits, as Jaeger shows a short id) a link to the trace
    view with the same sidebar filters; start in UTC (the time alone when every trace starts on one day, that day in
    the header); the CSV holds the full rows."""
    days = rows["start"].dt.date().unique().to_list()
    one_day = len(days) == 1
    shown = rows.with_columns(
        pl.Series("trace", [common.trace_link(t, f) for t in rows["trace_id"]], dtype=pl.String),
        pl.col("start").dt.strftime("%H:%M:%S%.3f" if one_day else "%Y-%m-%d %H:%M:%S"),
        pl.col("tiers").list.join(", "), pl.col("root_service").fill_null("–"),
        pl.col("root_operation").fill_null("–")).select(
        "trace", "start", "root_service", "root_operation", "duration_ms", "span_count", "tiers", "error_count")
    csv = rows.with_columns(pl.col("tiers").list.join(" "), pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"))
    config: dict[str, Any] = {
        "trace": st.column_config.LinkColumn("Trace", display_text=r"trace_id=([0-9a-f]{16})",
                                             help="Opens the trace view; the CSV holds the full 32-digit id."),
        "start": f"Start (UTC, {days[0]})" if one_day else "Start (UTC)",
        "root_service": st.column_config.TextColumn("Service", help="The root span's service."),
        "root_operation": st.column_config.TextColumn("Operation", help="The root span's operation."),
        "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%.1f ms"),
        "span_count": st.column_config.NumberColumn("Spans", format="%d"),
        "tiers": "Tiers crossed",
        "error_count": st.column_config.NumberColumn("Errors", format="%d", help="Spans with status error.")}
    st.dataframe(shown, key=f"{key}_table", hide_index=True, column_config=config,
                 height=35 * (min(shown.height, 50) + 1) + 3)
    st.download_button("Download CSV", csv.write_csv(), file_name="traces.csv", mime="text/csv", key=f"{key}_csv",
                       icon=":material/download:")


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("Find traces by the service, operation and attributes of one of their spans, by status, duration and "
               "start time. Sidebar filters apply: tier, site and workload to the same span, the time range to the "
               "trace's start.")
    s = _controls(services_and_operations())
    url_controls.write(to_params(s), KEYS)
    try:
        tf = trace_filter(s, f)
    except ValueError as e:
        st.error(str(e), icon=":material/error:")
        return
    rows = found(tf)
    slow = "slow-paths?" + urlencode(f.with_(trace_id=None).to_query_params())
    st.markdown(f"[Similar slow traces ↗]({slow}): the slow-path finder on Slow paths, same tier, site and workload.")
    if rows.height == 0:
        components.no_rows("traces")
        return
    order = "slowest" if s.sort == "slowest" else "most recent"
    st.subheader(f"{rows.height:,} {order} trace{'s' if rows.height != 1 else ''}")
    components.chart(charts_red.trace_scatter(rows), "ts_scatter")
    results_table(rows, f)
    if rows.height == s.limit:
        st.caption(f"Showing the first {s.limit:,}: raise the limit or narrow the search for more.")

