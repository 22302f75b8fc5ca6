"""Services page: RED per service, operation and tier (request rate, error rate, p50/p95/p99) from the semantic model,
over time for the chosen service and operation; clicking a latency point lists the traces behind it (exemplars)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from app import charts, charts_red, components, data, plain
from app.state import Filters
from app.views import common, trace_search, url_controls
from queries.semantic import metric as metrics
from queries.semantic import model, present
from queries.units import format_frame

HEADING = "Services"
RED = ("request_rate_per_s", "requests", "error_rate_pct", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
OVER_TIME = ("request_rate_per_s", "error_rate_pct", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
KEYS = ("service", "operation", "grain")
GRAINS = ("auto", "minute", "hour", "day")
GRAIN_S = {"minute": 60, "hour": 3600, "day": 86_400}
MAX_POINTS = 3000  # buckets per series a grain may draw
_EXEMPLAR = "svc_exemplar"  # the latency point last clicked, with the choices it was clicked under
ALL = "All"
SHORT = {"request_rate_per_s": "Rate", "error_rate_pct": "Errors", "latency_p50_ms": "p50", "latency_p95_ms": "p95",
         "latency_p99_ms": "p99"}  # table headers; the measures' labels and meanings are in each header's help


@dataclass(frozen=True)
class Red:
    """The page's own controls: the service and operation the charts show, and their time grain."""

    service: str | None = None
    operation: str | None = None
    grain: str = "auto"


@dataclass(frozen=True)
class Exemplar:
    """A clicked latency point: its tier, percentile, bucket start (Unix s) and value (ms)."""

    tier: str
    percentile: str
    bucket_s: int
    value_ms: float


def to_params(r: Red) -> dict[str, str]:
    raw = {"service": r.service, "operation": r.operation, "grain": None if r.grain == "auto" else r.grain}
    return {k: v for k, v in raw.items() if v is not None}


def from_params(params: Mapping[str, str | list[str]]) -> Red:
    grain = url_controls.text(params, "grain")
    return Red(url_controls.text(params, "service"), url_controls.text(params, "operation"),
               grain if grain in GRAINS else "auto")


def auto_grain(seconds: float) -> str:
    """Minutes up to 6 hours, hours up to 3 days, else days."""
    return "minute" if seconds <= 6 * 3600 else "hour" if seconds <= 3 * 86_400 else "day"


def grain_for(choice: str, seconds: float) -> str:
    """The chosen grain, or auto's when the chosen one would draw more than MAX_POINTS buckets."""
    if choice in GRAIN_S and seconds / GRAIN_S[choice] <= MAX_POINTS:
        return choice
    return auto_grain(seconds)


def _range(f: Filters) -> tuple[int | None, int | None, float]:
    """The window's (start ns, end ns) as the queries take them, and its length in seconds (the store's days when
    the window is open)."""
    window = f.window()
    lo, hi = window.get("start_ns"), window.get("end_ns")
    lo, hi = (lo if isinstance(lo, int) else None), (hi if isinstance(hi, int) else None)
    dims = data.dimensions()
    first = lo if lo is not None else _day_ns(dims.first_day, 0)
    last = hi if hi is not None else _day_ns(dims.last_day, 1)
    return lo, hi, (last - first) / 1e9 if first is not None and last is not None else 86_400.0


def _day_ns(day: Any, plus: int) -> int | None:
    if day is None:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + plus * 86_400) * 10**9


def red_table(f: Filters) -> pl.DataFrame:
    """RED per service × operation × tier under the sidebar's filters: `tierwise metric` with the same flags."""
    lo, hi, _ = _range(f)
    return data.metric(RED, ("service", "operation", "tier"), f.where(), lo, hi)


def clicked(event: Any) -> Exemplar | None:
    """The latency point of a click; None for the empty selection Plotly sends before it (and anything else)."""
    try:
        points = event.selection.points
    except AttributeError:
        return None
    for p in points or []:
        data_ = p.get("customdata") if isinstance(p, Mapping) else None
        y = p.get("y") if isinstance(p, Mapping) else None
        if isinstance(data_, list | tuple) and len(data_) >= 3 and isinstance(y, int | float):
            return Exemplar(str(data_[0]), str(data_[1]), int(data_[2]), float(y))
    return None


def _controls(table: pl.DataFrame, seconds: float) -> tuple[Red, str]:
    url = from_params(url_controls.opened_with(KEYS))
    url_controls.seed({"svc_service": url.service or ALL, "svc_operation": url.operation or ALL,
                       "svc_grain": url.grain})
    c1, c2, c3 = st.columns([2, 2, 2])
    services = sorted({s for s in table["service"].to_list() if s})
    current = st.session_state.get("svc_service")
    service = c1.selectbox("Service", [ALL, *dict.fromkeys([*([current] if current and current != ALL else []),
                                                              *services])], key="svc_service")
    chosen = None if service in (None, ALL) else str(service)
    ops = sorted({o for o in table.filter(pl.col("service") == chosen)["operation"].to_list() if o}) if chosen else []
    current_op = st.session_state.get("svc_operation")
    if not chosen or (current_op not in (None, ALL) and current_op not in ops):
        st.session_state["svc_operation"] = ALL
    operation = c2.selectbox("Operation", [ALL, *ops], key="svc_operation", disabled=not chosen,
                             help="Pick a service first.")
    grain = c3.segmented_control("Time grain", GRAINS, key="svc_grain") or "auto"
    red = Red(chosen, None if operation in (None, ALL) else str(operation), grain)
    return red, grain_for(red.grain, seconds)


def view() -> None:
    f = common.current()
    st.title(HEADING)
    st.caption("RED per service and operation, per tier: request rate, error rate and latency percentiles of the "
               "requests entering each (the semantic model's requests: `tierwise metric`). Sidebar filters apply; "
               "batch and training work is left out unless a workload of that type is picked.")
    if not data.models_measures():
        st.info("RED comes from the semantic model, which runs on the DuckDB store.")
        return
    table = red_table(f)
    if table.height == 0:
        components.no_rows("requests")
        return
    lo, hi, seconds = _range(f)
    red, grain = _controls(table, seconds)
    url_controls.write(to_params(red), KEYS)
    _over_time(f, red, grain, lo, hi)
    shown = table.filter(pl.col("service") == red.service) if red.service else table
    if red.operation:
        shown = shown.filter(pl.col("operation") == red.operation)
    red_table_view(shown)


def _width(column: pl.Series) -> int:
    """Pixels that show the longest name of a text column whole (the table's automatic widths cut long ones)."""
    return round(6.4 * max([len(str(v)) for v in column.to_list()] + [8])) + 18


def red_table_view(rows: pl.DataFrame) -> None:
    """The RED rows formatted by their units (as `tierwise metric` prints them), short headers so that the nine
    columns fit a laptop's width, every row shown; the CSV holds the unformatted values under the measures' names."""
    st.subheader("Per service, operation and tier")
    st.caption("Over the whole selection: requests entering each service and operation in each tier; the rate is "
               "per second of the time range (semantic model: `tierwise metric` gives the same numbers).")
    keys = ("service", "operation", "tier")
    shown = format_frame(rows, present.units(rows.columns)).with_columns(pl.col(k).fill_null("–") for k in keys)
    help_ = {c: f"{model.measure(c).label}: {model.measure(c).meaning}" for c in RED}
    config = {c: st.column_config.TextColumn(SHORT.get(c, present.labels([c])[c]), help=help_.get(c),
                                             width=_width(shown[c]) if c in keys else None) for c in shown.columns}
    st.dataframe(shown, key="svc_red_table", hide_index=True, column_config=config,
                 height=35 * (min(shown.height, 40) + 1) + 3)
    st.download_button("Download CSV", metrics.rows_for_output(rows).write_csv(), file_name="red.csv",
                       mime="text/csv", key="svc_red_csv", icon=":material/download:")


def _over_time(f: Filters, red: Red, grain: str, lo: int | None, hi: int | None) -> None:
    where = (*f.where(), *((k, v) for k, v in (("service", red.service), ("operation", red.operation)) if v))
    rows = data.metric(OVER_TIME, ("time", "tier"), where, lo, hi, grain)
    what = plain.md(" · ".join(x for x in (red.service, red.operation) if x) or "All services")
    st.subheader(f"{what}, per {grain}")
    if rows.height == 0:
        components.no_rows("requests")
        return
    c1, c2 = st.columns(2)
    with c1:
        components.chart(charts_red.rate_chart(rows), "svc_rate")
    with c2:
        components.chart(charts_red.error_chart(rows), "svc_errors")
    event = st.plotly_chart(charts_red.latency_chart(rows), key="svc_latency", on_select="rerun",
                            selection_mode="points", config=components.PLOTLY_CONFIG)
    context = (red, grain, f)
    point = clicked(event)
    kept = st.session_state.get(_EXEMPLAR)
    if point is not None:
        st.session_state[_EXEMPLAR] = (context, point)
    elif not (isinstance(kept, tuple) and kept[0] == context):
        st.session_state.pop(_EXEMPLAR, None)  # an empty selection keeps the last click; new choices drop it
    chosen = st.session_state.get(_EXEMPLAR)
    if chosen is None:
        st.caption("Click a point of the latency chart to list the traces behind it.")
        return
    _exemplars(f, red, grain, chosen[1])


def exemplar_search(red: Red, grain: str, point: Exemplar) -> trace_search.Search:
    """The trace search a latency point stands for: its service and operation, traces at least as long as the point
    (the slowest first), in its tier and its time bucket (exemplar_window)."""
    return trace_search.Search(service=red.service, operation=red.operation, min_ms=float(int(point.value_ms)),
                               sort="slowest", limit=20)


def exemplar_window(grain: str, point: Exemplar) -> tuple[int, int]:
    start = point.bucket_s * 10**9
    return start, start + GRAIN_S.get(grain, 86_400) * 10**9


def bucket_text(grain: str, bucket_s: int) -> str:
    """'2026-11-22 (UTC day)', '2026-11-22 14:00–15:00 UTC' or '2026-11-22 14:05–14:06 UTC'."""
    start = datetime.fromtimestamp(bucket_s, UTC)
    if grain not in ("minute", "hour"):
        return f"{start:%Y-%m-%d} (UTC day)"
    return f"{start:%Y-%m-%d %H:%M}–{start + timedelta(seconds=GRAIN_S[grain]):%H:%M} UTC"


def _exemplars(f: Filters, red: Red, grain: str, point: Exemplar) -> None:
    s = exemplar_search(red, grain, point)
    lo, hi = exemplar_window(grain, point)
    tf = replace(trace_search.trace_filter(s, f.with_(tier=point.tier)), start_ns=lo, end_ns=hi)
    rows = trace_search.found(tf)
    st.subheader(f"Traces behind {point.percentile} = {charts.fmt_ms(point.value_ms)} in {plain.md(point.tier)}, "
                 f"{bucket_text(grain, point.bucket_s)}")
    st.caption(f"Traces with a span of this service and operation in {plain.md(point.tier)}, starting in the bucket, "
               f"at least {charts.fmt_ms(s.min_ms)} long, slowest first (trace search).")
    if rows.height == 0:
        components.no_rows("traces")
        return
    trace_search.results_table(rows, f, "svc_exemplars")
