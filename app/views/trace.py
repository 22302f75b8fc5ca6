"""Trace view: one trace as a waterfall across tiers, its critical path, hops, attributes and events."""

from __future__ import annotations

import polars as pl
import streamlit as st

from app import charts, components, data, plain, state
from app.views import common
from store.contract import TIERS

HEADING = "Trace view"


def _pick_trace() -> str | None:
    f = common.current()
    typed = st.text_input("Trace id (32 hex characters)", value=f.trace_id or "", max_chars=32, key="trace_id_input")
    tid = typed.strip().lower()
    if tid and not state.TRACE_ID.fullmatch(tid):
        st.warning("A trace id is 32 hexadecimal characters.")
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
    return None


def view() -> None:
    st.title(HEADING)
    tid = _pick_trace()
    if tid is None:
        components.no_rows("traces")
        return
    spans = data.query("trace_detail", {"trace_id": tid})
    if spans.height == 0:
        st.info(f"No spans for trace `{tid}` in this store.")
        return
    layout = data.trace_layout(tid)
    root = spans.filter(spans["parent_span_id"].is_null())
    e2e = (root if root.height else spans).sort("duration_ms", descending=True)["duration_ms"][0]
    tiers = [t for t in (*TIERS, "unknown") if t in set(spans["tier"])]
    components.kpi_row([("end-to-end", charts.fmt_ms(e2e), "root span duration"),
                        ("spans", f"{spans.height}", None), ("tiers", f"{len(tiers)}", " → ".join(tiers)),
                        ("critical path spans", f"{len(layout.path)}", "spans that held the end-to-end time")])
    components.chart(charts.waterfall(spans, layout.path, layout.aligned, layout.order), "trace_waterfall")
    rank = {span_id: i for i, span_id in enumerate(layout.order)}  # rows in the waterfall's order, numbered alike
    table = spans.with_columns(pl.col("span_id").replace_strict(rank, default=len(rank)).alias("#")).sort("#").select(
        pl.col("#") + 1, "span_id", "parent_span_id", "tier", "site", "service_name", "name", "kind", "duration_ms",
        "status_code", "request_bytes", "response_bytes", "workload")
    components.table(table, "trace_spans", f"trace-{tid}.csv")
    details = st.expander("Attributes and events per span", key="trace_details", on_change="rerun")
    if not details.open:  # one JSON viewer per span: drawn only once the reader opens it
        return
    with details:
        for r in spans.iter_rows(named=True):
            # span and service names come from whoever sends spans: shown as text, never as Markdown or HTML
            st.markdown(f"**{plain.md(r['tier'])} · {plain.md(r['service_name'] or '?')} · {plain.md(r['name'])}** "
                        f"({plain.md(r['kind'])}, {charts.fmt_ms(r['duration_ms'])}, {plain.md(r['status_code'])})")
            st.json({"attributes": charts.pretty_json(r["attributes"]), "events": charts.pretty_json(r["events"])},
                    expanded=False)
