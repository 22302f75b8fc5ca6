"""Trace view: one trace as a waterfall that explains it, like a Jaeger or Tempo span panel: errors in red with their
status message, the start time and each span's offset, its self time apart from its children, events on the bars and
in a table, the critical path with its share per tier and hop, skewed clocks called out, a span's attributes."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import charts, charts_trace, components, data, plain, state
from app.views import common
from queries import trace_view
from store.contract import TIERS

HEADING = "Trace view"


def _from_url() -> str | None:
    """The trace_id the URL carried, exactly as given. The sidebar keeps only a well-formed id in the filters and the
    URL, before this view runs, so a malformed one is read from the query string this run started with."""
    raw = st.query_params.get("trace_id")
    if raw is not None:
        return raw
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    with ctx.session_state.query_params() as qp:
        given = qp.get_initial_value("trace_id")
    return given if isinstance(given, str) or given is None else (given[0] if given else None)


def _malformed(given: str) -> None:
    """Say that `given` is no trace id, showing it as given (as text), and nothing else."""
    st.error("That is not a trace id, so no trace is shown. A trace id is 32 hexadecimal characters (0–9, a–f), "
             f"as in `{'0af7651916cd43dd8448eb211c80319c'}`; this one has {len(given):,} characters. Paste another "
             "id above, or open one from Slow paths.", icon=":material/error:")
    st.caption("Given:")
    st.code(given, language=None, wrap_lines=True)


def _pick_trace() -> str | None:
    """The trace to show: the id typed or in the URL (None after saying it is malformed), else the slowest one."""
    f = common.current()
    given = f.trace_id or _from_url() or ""
    typed = st.text_input("Trace id (32 hexadecimal characters)", value=given, key="trace_id_input")
    tid = typed.strip().lower()
    if tid and not state.TRACE_ID.fullmatch(tid):
        _malformed(typed)
        return None
    if tid and tid != f.trace_id:
        st.query_params["trace_id"] = tid
    if tid:
        return tid
    for min_tiers in (2, 1):  # prefer a trace that crosses tiers: that is what this view is for
        slow = data.query("slow_traces", {**f.scope(), "limit_count": 1, "min_tiers_count": min_tiers})
        if slow.height:
            st.caption("No trace chosen: showing the slowest " + ("cross-tier " if min_tiers > 1 else "")
                       + "trace in the current filters. Open one from Slow paths, or paste a trace id.")
            return str(slow["trace_id"][0])
    components.no_rows("traces")
    return None


def _utc(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _span_text(r: dict[str, object]) -> str:
    return f"{r['row']}. {r['tier']} · {r['service_name'] or '?'} · {r['name']}"


def _notices(rows: pl.DataFrame) -> None:
    """Errors (with their status messages) and skewed clocks, in words, above the waterfall."""
    errs = rows.filter(pl.col("error"))
    if errs.height:
        lines = [f"- {plain.md(_span_text(r))}: {plain.md(r['status_message'] or 'no status message')}"
                 for r in errs.iter_rows(named=True)]
        st.error(f"{errs.height} span{'s' if errs.height > 1 else ''} failed (red in the waterfall):\n"
                 + "\n".join(lines), icon=":material/error:")
    skewed = rows.filter(pl.col("skewed"))
    if skewed.height:
        worst = float(skewed.select(pl.max_horizontal(pl.col("early_ms").max(), pl.col("late_ms").max())).item())
        many = skewed.height > 1
        st.warning(f"Clocks look skewed: {skewed.height} span{'s' if many else ''} (⚠) "
                   f"{'start' if many else 'starts'} before or {'end' if many else 'ends'} after "
                   f"{'their' if many else 'its'} parent on the times the hosts reported, by up to "
                   f"{charts.fmt_ms(worst)}. "
                   "The waterfall draws each call into another tier centred in its caller (as Jaeger does) and clips "
                   "children to their parent; a dotted outline shows where the span's own clock put it.",
                   icon=":material/schedule:")


def _kpis(rows: pl.DataFrame, shares: pl.DataFrame) -> None:
    root = rows.filter(pl.col("row") == 1)
    tiers = [t for t in (*TIERS, "unknown") if t in set(rows["tier"])]
    top = shares.row(0, named=True) if shares.height else None
    start = int(rows["trace_start_ns"][0])
    components.kpi_row([
        (f"trace start (UTC, {_utc(start)[:10]})", _utc(start)[11:-4], "the earliest span start as drawn"),
        ("end-to-end", charts.fmt_ms(root["duration_ms"][0] if root.height else None), "root span duration"),
        ("spans", f"{rows.height}", f"{rows.filter(pl.col('on_path')).height} on the critical path"),
        ("tiers", f"{len(tiers)}", " → ".join(tiers)),
        ("errors", f"{rows.filter(pl.col('error')).height}", "spans with status error"),
        ("most of the critical path", f"{top['share_pct']:.1f} %" if top else "–",
         f"{top['component']} ({top['part']}): {charts.fmt_ms(top['path_ms'])}" if top else "no critical path")])


def _span_table(rows: pl.DataFrame, tid: str) -> None:
    skew = (pl.when(pl.col("early_ms") > 0).then(pl.format("starts {} ms before its parent",
                                                          pl.col("early_ms").round(1)))
            .when(pl.col("late_ms") > 0).then(pl.format("ends {} ms after its parent", pl.col("late_ms").round(1)))
            .otherwise(pl.lit("–")))
    status = (pl.when(pl.col("status_message").is_not_null() & (pl.col("status_message") != ""))
              .then(pl.format("{}: {}", "status_code", "status_message")).otherwise(pl.col("status_code")))
    table = rows.select(pl.col("row").alias("#"), "offset_ms", "duration_ms", "self_ms",
                        pl.col("on_path").alias("on_critical_path"), pl.col("path_ms").alias("critical_path_ms"),
                        status.alias("status"), "tier", pl.col("site").fill_null("–"),
                        pl.col("service_name").fill_null("–").alias("service"), pl.col("name").alias("operation"),
                        "kind", skew.alias("clock_skew"), "span_id", pl.col("parent_span_id").fill_null("–"))
    components.table(table, "trace_spans", f"trace-{tid}.csv",
                     "Every span in waterfall order. Offset: after the trace start, as drawn. Self time: the span's "
                     "own time with no child running. Critical path: the time the span itself held it.")


def _path_section(rows: pl.DataFrame, shares: pl.DataFrame, tid: str) -> None:
    st.subheader("Critical path")
    off = rows.filter(~pl.col("on_path")).height
    st.caption("The chain of spans that held the end-to-end time: each holds it while none of its children on the "
               "path runs (the black line). "
               + (f"{rows.height - off} of {rows.height} spans are on it; the {off} off it are faded in the "
                  "waterfall: making them faster would not make this trace faster." if off else
                  f"All {rows.height} spans are on it (none ran alongside another): the black line shows where "
                  "each one itself held the time."))
    if not shares.height:
        st.info("No critical path: the root span has no duration.")
        return
    left, right = st.columns(2)
    with left:
        components.chart(charts_trace.path_share(shares), "trace_path_share")
    with right:
        components.table(shares, "trace_path", f"trace-{tid}-critical-path.csv")


def _events_table(events: pl.DataFrame, rows: pl.DataFrame, tid: str) -> None:
    st.subheader("Events")
    if not events.height:
        st.caption("No span in this trace recorded an event.")
        return
    names = rows.select("span_id", pl.format("{} · {} · {}", "tier", pl.col("service_name").fill_null("?"),
                                             "name").alias("span"))
    shown = events.join(names, on="span_id", how="left").select(
        pl.col("row").alias("#"), "event", "from_trace_start_ms", "from_span_start_ms", "attributes", "span")
    components.table(shown, "trace_events", f"trace-{tid}-events.csv",
                     "Each event (◆ on its bar) at its time after the trace start and after its own span's start.",
                     column_config={"attributes": {"width": "large"}, "span": {"width": "large"}})


def _attributes(spans: pl.DataFrame, rows: pl.DataFrame) -> None:
    st.subheader("Span attributes")
    order = rows["span_id"].to_list()
    text = {r["span_id"]: _span_text(r) for r in rows.iter_rows(named=True)}
    errs = rows.filter(pl.col("error"))["span_id"].to_list()
    # an error span first: the last one in waterfall order, deepest in the call chain, is where the failure began
    chosen = st.selectbox("Span", order, index=order.index(errs[-1]) if errs else 0, format_func=text.__getitem__,
                          key="trace_span_pick")
    r = rows.row(order.index(chosen), named=True)
    raw = spans.filter(pl.col("span_id") == chosen)["attributes"]
    st.caption(f"{plain.md(r['kind'])} span `{chosen}`, status {plain.md(r['status_code'])}"
               + (f" ({plain.md(r['status_message'])})" if r["status_message"] else "")
               + f", {charts.fmt_ms(r['duration_ms'])}, self time {charts.fmt_ms(r['self_ms'])}.")
    attrs = trace_view.attributes(raw[0] if raw.len() else None)
    if attrs.height:
        st.dataframe(attrs, key="trace_span_attributes", hide_index=True, width="stretch")
    else:
        st.caption("This span carries no attributes.")


def view() -> None:
    st.title(HEADING)
    tid = _pick_trace()
    if tid is None:
        return
    spans = data.query("trace_detail", {"trace_id": tid})
    if spans.height == 0:
        st.info(f"No spans for trace `{tid}` in this store.")
        return
    layout = data.trace_layout(tid)
    rows = trace_view.timeline(spans.lazy(), trace_view.layout_frame(layout.path, layout.aligned, layout.order)
                               .lazy()).collect()
    shares = trace_view.path_shares(spans)
    events = trace_view.events(spans, rows)
    _kpis(rows, shares)
    _notices(rows)
    own = trace_view.self_segments(rows.lazy()).collect()
    path = trace_view.segments(rows.lazy()).collect()
    st.caption("Waterfall: a light bar is a span, its solid part the span's self time (no child running); the "
               "black line runs where the span itself holds the critical path; faded spans are off it; red spans "
               "failed (status message under the name); ◆ is an event, ✕ an exception.")
    components.chart(charts_trace.waterfall(rows, own, path, events, _utc(int(rows["trace_start_ns"][0]))),
                     "trace_waterfall")
    _span_table(rows, tid)
    _path_section(rows, shares, tid)
    _events_table(events, rows, tid)
    _attributes(spans, rows)
    details = st.expander("Raw JSON: attributes and events per span", key="trace_details", on_change="rerun")
    if not details.open:  # one JSON viewer per span: drawn only once the reader opens it
        return
    with details:
        for r in spans.iter_rows(named=True):
            # span and service names come from whoever sends spans: shown as text, never as Markdown or HTML
            st.markdown(f"**{plain.md(r['tier'])} · {plain.md(r['service_name'] or '?')} · {plain.md(r['name'])}** "
                        f"({plain.md(r['kind'])}, {charts.fmt_ms(r['duration_ms'])}, {plain.md(r['status_code'])})")
            st.json({"attributes": charts_trace.pretty_json(r["attributes"]),
                     "events": charts_trace.pretty_json(r["events"])}, expanded=False)
