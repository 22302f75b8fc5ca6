"""One trace as the trace view explains it: offsets, self time, clock skew, events and critical-path shares.

Pure functions, frames in and frames out, over the rows of query `trace_detail` (span_id, parent_span_id,
start_ns, end_ns, ...; Unix ns) and the critical path of queries/critical_path.py. "Drawn" times are the ones the
waterfall uses: a cross-tier server moved into the client call that caused it (skew repair), children clipped to
their parent; a span the repair left out keeps its own times.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from queries.critical_path import SpanNode, path_parts

_INTERVAL: dict[str, type[pl.DataType]] = {"span_id": pl.String, "start_ns": pl.Int64, "end_ns": pl.Int64}


def layout_frame(path: Mapping[str, int], aligned: Mapping[str, tuple[int, int]],
                 order: Sequence[str]) -> pl.DataFrame:
    """The critical path's layout of one trace (app/data.TraceLayout's parts) as rows: span_id, row (1 = first in
    the waterfall), drawn_start_ns and drawn_end_ns (null where the repair left the span out), path_ns (the time the
    span alone holds the critical path; null off the path)."""
    rows = [(s, i + 1, *(aligned.get(s) or (None, None)), path.get(s)) for i, s in enumerate(order)]
    schema = {"span_id": pl.String, "row": pl.Int64, "drawn_start_ns": pl.Int64, "drawn_end_ns": pl.Int64,
              "path_ns": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def gaps(spans: pl.LazyFrame) -> pl.LazyFrame:
    """Per span, the stretches of its window [start_ns, end_ns] that none of its children covers: span_id, start_ns,
    end_ns. Children are clipped to the parent's window first, so one outside it covers nothing, and overlapping
    children count once. Input: span_id, parent_span_id, start_ns, end_ns."""
    parents = spans.select("span_id", "start_ns", "end_ns").unique("span_id", keep="first")
    kids = (spans.select(pl.col("parent_span_id").alias("span_id"), pl.col("start_ns").alias("c_start"),
                         pl.col("end_ns").alias("c_end"))
            .join(parents, on="span_id")
            .with_columns(pl.max_horizontal("c_start", "start_ns").alias("c_start"),
                          pl.min_horizontal("c_end", "end_ns").alias("c_end"))
            .filter(pl.col("c_end") > pl.col("c_start"))
            .sort("span_id", "c_start", "c_end")
            # the furthest any earlier child reached (else the parent's start): a gap lies between it and this child
            .with_columns(pl.max_horizontal(pl.col("c_end").cum_max().shift(1).over("span_id"), "start_ns")
                          .alias("reached")))
    before = kids.filter(pl.col("c_start") > pl.col("reached")).select(
        "span_id", pl.col("reached").alias("start_ns"), pl.col("c_start").alias("end_ns"))
    last = kids.group_by("span_id").agg(pl.col("c_end").max().alias("reached"), pl.col("end_ns").first())
    after = last.filter(pl.col("end_ns") > pl.col("reached")).select(
        "span_id", pl.col("reached").alias("start_ns"), "end_ns")
    alone = parents.join(kids.select("span_id").unique(), on="span_id", how="anti")
    typed = [pl.col(k).cast(t) for k, t in _INTERVAL.items()]
    return pl.concat([f.select(typed) for f in (before, after, alone)]).sort(
        "span_id", "start_ns")


def self_times(spans: pl.LazyFrame) -> pl.LazyFrame:
    """Per span its self time: duration minus the union of its children's intervals clipped to the span (the time no
    child accounts for: its own work, queueing, waiting). Rows: span_id, self_ns. Input as `gaps`."""
    own = gaps(spans).group_by("span_id").agg((pl.col("end_ns") - pl.col("start_ns")).sum().alias("self_ns"))
    return (spans.select("span_id").unique().join(own, on="span_id", how="left")
            .with_columns(pl.col("self_ns").fill_null(0)))


def skew(spans: pl.LazyFrame) -> pl.LazyFrame:
    """Per span, on the times each host reported: early_ns, how long it starts before its parent, and late_ns, how
    long it ends after it (0 when inside; a root gets 0). Outside its parent usually means the two hosts' clocks
    disagree. Rows: span_id, early_ns, late_ns. Input: span_id, parent_span_id, start_ns, end_ns."""
    parents = spans.select(pl.col("span_id").alias("parent_span_id"), pl.col("start_ns").alias("p_start"),
                           pl.col("end_ns").alias("p_end")).unique("parent_span_id", keep="first")
    return (spans.join(parents, on="parent_span_id", how="left")
            .select("span_id", (pl.col("p_start") - pl.col("start_ns")).clip(lower_bound=0).fill_null(0)
                    .alias("early_ns"),
                    (pl.col("end_ns") - pl.col("p_end")).clip(lower_bound=0).fill_null(0).alias("late_ns")))


def timeline(spans: pl.LazyFrame, layout: pl.LazyFrame) -> pl.LazyFrame:
    """One row per span in waterfall order with all the view shows of it.

    `spans`: rows of trace_detail; `layout`: rows of `layout_frame`. Rows: row, span_id, parent_span_id, tier, site,
    service_name, name, kind, status_code, status_message, error, start_ns/end_ns (drawn), offset_ms (drawn start
    after the trace's start), duration_ms (as reported), self_ms (on the drawn times), on_path, path_ms (0 off the
    path), early_ms/late_ms (see `skew`), skewed, shift_ms (how far the drawing moved its start), trace_start_ns.
    """
    drawn = (spans.join(layout, on="span_id", how="left")
             .with_columns(pl.coalesce("drawn_start_ns", "start_ns").alias("d_start"),
                           pl.coalesce("drawn_end_ns", "end_ns").alias("d_end")))
    own = self_times(drawn.select("span_id", "parent_span_id", pl.col("d_start").alias("start_ns"),
                                  pl.col("d_end").alias("end_ns")))
    off = skew(spans.select("span_id", "parent_span_id", "start_ns", "end_ns"))
    ms = 1e6
    return (drawn.join(own, on="span_id", how="left").join(off, on="span_id", how="left")
            .with_columns(pl.col("d_start").min().alias("trace_start_ns"))
            .select(
                pl.col("row").fill_null(pl.len() + 1), "span_id", "parent_span_id", "tier", "site", "service_name",
                "name", "kind", "status_code", "status_message", (pl.col("status_code") == "error").alias("error"),
                pl.col("d_start").alias("start_ns"), pl.col("d_end").alias("end_ns"),
                ((pl.col("d_start") - pl.col("trace_start_ns")) / ms).alias("offset_ms"),
                ((pl.col("end_ns") - pl.col("start_ns")) / ms).alias("duration_ms"),
                (pl.col("self_ns").fill_null(0) / ms).alias("self_ms"),
                pl.col("path_ns").is_not_null().alias("on_path"), (pl.col("path_ns").fill_null(0) / ms).alias("path_ms"),
                (pl.col("early_ns").fill_null(0) / ms).alias("early_ms"),
                (pl.col("late_ns").fill_null(0) / ms).alias("late_ms"),
                ((pl.col("early_ns") > 0) | (pl.col("late_ns") > 0)).fill_null(False).alias("skewed"),
                ((pl.col("d_start") - pl.col("start_ns")) / ms).alias("shift_ms"), "trace_start_ns")
            .sort("row", "start_ns", "span_id"))


def segments(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Where the critical path runs: per span on it, the stretches of its drawn window that none of its children on
    the path covers (there the span itself holds the end-to-end time). Rows: span_id, start_ns, end_ns.
    Input: rows of `timeline`."""
    on = rows.filter(pl.col("on_path")).select("span_id", "parent_span_id", "start_ns", "end_ns")
    return gaps(on)


def self_segments(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per span, the stretches of its drawn window no child covers (its self time, drawn darker). Input: `timeline`."""
    return gaps(rows.select("span_id", "parent_span_id", "start_ns", "end_ns")).filter(
        pl.col("end_ns") > pl.col("start_ns"))


def _attribute_text(attrs: object) -> str:
    """Event attributes as `key=value; …` (values as JSON when not text), '–' when there are none."""
    if not isinstance(attrs, dict) or not attrs:
        return "–"
    return "; ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in attrs.items())


def events(spans: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Every span event as a row: row (the span's waterfall number), span_id, event, from_trace_start_ms,
    from_span_start_ms, attributes (text). An event keeps its span's clock: it is placed where its span is drawn,
    at the same distance from the span's start; one without a time (0) is placed at its span's start.
    `spans`: rows of trace_detail (span_id, start_ns, events as JSON text); `rows`: rows of `timeline`."""
    at = {r["span_id"]: (r["row"], r["offset_ms"]) for r in rows.iter_rows(named=True)}
    out: list[tuple[int, str, str, float, float, str]] = []
    for span_id, start_ns, raw in spans.select("span_id", "start_ns", "events").iter_rows():
        parsed: Any = json.loads(raw) if raw else []
        row, offset_ms = at.get(span_id, (0, 0.0))
        for ev in parsed if isinstance(parsed, list) else []:
            if not isinstance(ev, dict):
                continue
            t = ev.get("time_ns") or 0
            into = (int(t) - start_ns) / 1e6 if t else 0.0
            attrs = _attribute_text(ev.get("attributes"))
            if not t:
                attrs = "time not given: drawn at the span's start" + ("" if attrs == "–" else f"; {attrs}")
            out.append((row, span_id, str(ev.get("name") or "–"), offset_ms + into, into, attrs))
    schema = {"row": pl.Int64, "span_id": pl.String, "event": pl.String, "from_trace_start_ms": pl.Float64,
              "from_span_start_ms": pl.Float64, "attributes": pl.String}
    return pl.DataFrame(out, schema=schema, orient="row").sort("from_trace_start_ms", "row")


def path_shares(spans: pl.DataFrame) -> pl.DataFrame:
    """The trace's critical path split as queries/critical_path.py splits it for the p50/p95 shares: per tier's
    compute and per hop (`from→to`, a call into another tier or site), its time on the path and share of the path.
    Rows: component, part (compute or hop), path_ms, share_pct; largest first. `spans`: rows of trace_detail."""
    nodes = [SpanNode(r["span_id"], r["parent_span_id"], r["start_ns"], r["end_ns"], r["service_name"] or "",
                      r["name"], r["tier"], r["kind"], r["site"]) for r in spans.iter_rows(named=True)]
    parts = pl.DataFrame(path_parts(nodes), schema={"component": pl.String, "part": pl.String, "self_ns": pl.Int64},
                         orient="row")
    total = pl.col("path_ms").sum()
    return (parts.group_by("component", "part").agg((pl.col("self_ns").sum() / 1e6).alias("path_ms"))
            .with_columns(pl.when(total > 0).then(pl.col("path_ms") / total * 100).otherwise(0.0).alias("share_pct"))
            .sort(["path_ms", "component"], descending=[True, False]))


def attributes(raw: str | None) -> pl.DataFrame:
    """A span's attributes (JSON text from trace_detail) as rows key, value (text; lists and maps as JSON), in the
    order they were sent."""
    parsed: Any = json.loads(raw) if raw else {}
    items = parsed.items() if isinstance(parsed, dict) else []
    rows = [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in items]
    return pl.DataFrame(rows, schema={"key": pl.String, "value": pl.String}, orient="row")
