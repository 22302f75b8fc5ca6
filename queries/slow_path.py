"""Slow-path finder: what makes a workload's p95 (and its p95−p50 gap), and which attribute values slow traces share."""

from __future__ import annotations

import polars as pl

from queries.critical_path import SpanNode, critical_path, is_hop, pick_traces

_SEGMENT_SCHEMA = {"workload": pl.String, "trace_id": pl.String, "e2e_ns": pl.Int64, "level": pl.String,
                   "component": pl.String, "self_ns": pl.Int64}


def _root(nodes: list[SpanNode]) -> SpanNode | None:
    """The span without a parent in its trace; of several the longest, then the earliest (as the critical path)."""
    ids = {n.span_id for n in nodes}
    roots = [n for n in nodes if n.parent_id is None or n.parent_id not in ids]
    return min(roots, key=lambda s: (-(s.end_ns - s.start_ns), s.start_ns)) if roots else None


def trace_segments(spans: pl.LazyFrame) -> pl.LazyFrame:
    """One row per trace, level and component of its critical path: workload, trace_id, e2e_ns, level, component,
    self_ns. Levels: `tier` (a tier's compute), `hop` (`from→to` network+queue time of a cross-tier/site call) and
    `operation` (`service: span name`, every path segment); tier+hop and operation each add up to the path time."""
    cols = ("trace_id", "span_id", "parent_span_id", "start_ns", "end_ns", "service_name", "name", "tier", "kind",
            "site", "workload")
    frame = spans.select(cols).filter(pl.col("trace_id").is_not_null()).sort("trace_id", "start_ns", "span_id")
    by_trace: dict[str, list[tuple[SpanNode, str | None]]] = {}
    for t, sid, pid, start, end, svc, name, tier, kind, site, workload in frame.collect().iter_rows():
        by_trace.setdefault(t, []).append((SpanNode(sid, pid, start, end, svc or "", name, tier, kind, site), workload))
    rows: list[tuple[str, str, int, str, str, int]] = []
    for trace_id, members in by_trace.items():
        nodes = [n for n, _ in members]
        root = _root(nodes)
        if root is None or root.end_ns <= root.start_ns:
            continue
        declared = [w for n, w in members if w is not None and n.span_id == root.span_id]
        workload = (declared or [w for _, w in members if w is not None] or [""])[0]
        by_id = {n.span_id: n for n in nodes}
        hop_to = {n.parent_id: n.tier for n in nodes
                  if n.parent_id in by_id and is_hop(by_id[n.parent_id], n)}
        e2e = root.end_ns - root.start_ns
        for seg in critical_path(nodes):
            node = by_id[seg.span_id]
            to = hop_to.get(node.span_id)
            level, component = ("hop", f"{node.tier}→{to}") if to else ("tier", node.tier)
            rows.append((workload, trace_id, e2e, level, component, seg.self_ns))
            rows.append((workload, trace_id, e2e, "operation", f"{node.service}: {node.operation}", seg.self_ns))
    return pl.LazyFrame(rows, schema=_SEGMENT_SCHEMA, orient="row")


def slow_path(spans: pl.LazyFrame, band: float = 0.05) -> pl.LazyFrame:
    """Per workload, level and component: mean critical-path ms in the traces near p50 and near p95, the gap between
    them, and their shares of the p95 traces' time and of the p95−p50 gap (null when the gap is 0).

    Rows: workload, level, component, p50_ms, p95_ms, gap_ms, share_of_p95_pct, share_of_gap_pct, e2e_p50_ms,
    e2e_p95_ms, p50_traces, p95_traces; within a level the shares add up to 100.
    """
    seg = trace_segments(spans).group_by("workload", "trace_id", "e2e_ns", "level", "component").agg(
        pl.col("self_ns").sum())
    traces = seg.select("workload", "trace_id", "e2e_ns").unique()
    sides = []
    for label, q in (("p50", 0.50), ("p95", 0.95)):
        chosen = pick_traces(traces, q, band, spans)
        n = chosen.group_by("workload").agg(pl.len().alias(f"{label}_traces"),
                                            (pl.col("e2e_ns").mean() / 1e6).alias(f"e2e_{label}_ms"))
        part = (chosen.join(seg, on=["workload", "trace_id", "e2e_ns"])
                .group_by("workload", "level", "component").agg(pl.col("self_ns").sum().alias("_sum"))
                .join(n, on="workload")
                .select("workload", "level", "component",
                        (pl.col("_sum") / pl.col(f"{label}_traces") / 1e6).alias(f"{label}_ms")))
        sides.append((part, n))
    (p50, n50), (p95, n95) = sides
    keys = ["workload", "level", "component"]
    both = (p50.join(p95, on=keys, how="full", coalesce=True)
            .with_columns(pl.col("p50_ms", "p95_ms").fill_null(0.0))
            .join(n50, on="workload").join(n95, on="workload"))
    gap = pl.col("e2e_p95_ms") - pl.col("e2e_p50_ms")
    return (both.with_columns((pl.col("p95_ms") - pl.col("p50_ms")).alias("gap_ms"))
            .with_columns((pl.col("p95_ms") / pl.col("e2e_p95_ms") * 100).alias("share_of_p95_pct"),
                          pl.when(gap != 0).then(pl.col("gap_ms") / gap * 100).alias("share_of_gap_pct"))
            .select(*keys, "p50_ms", "p95_ms", "gap_ms", "share_of_p95_pct", "share_of_gap_pct", "e2e_p50_ms",
                    "e2e_p95_ms", "p50_traces", "p95_traces")
            .sort("workload", "level", "gap_ms", "component", descending=[False, False, True, False]))


def slow_attributes(rows: pl.LazyFrame, quantile: float = 0.90, min_support: int = 2) -> pl.LazyFrame:
    """Attribute values over-represented among a workload's slow traces (end-to-end above its `quantile`, linear
    interpolation) against the rest: lift = share_slow / share_typical (null when no typical trace has the value,
    ranked first), keeping values seen in at least `min_support` slow traces.

    `rows` are trace_attributes rows (workload, trace_id, e2e_ns, attribute, value). Output: workload, attribute,
    value, slow_traces, typical_traces, share_slow, share_typical, lift, threshold_ms, n_slow, n_typical.
    """
    traces = rows.group_by("workload", "trace_id").agg(pl.col("e2e_ns").max())
    cut = traces.group_by("workload").agg(pl.col("e2e_ns").quantile(quantile, interpolation="linear").alias("_cut"))
    labelled = traces.join(cut, on="workload").with_columns((pl.col("e2e_ns") > pl.col("_cut")).alias("_slow"))
    totals = labelled.group_by("workload").agg(pl.col("_slow").sum().cast(pl.Int64).alias("n_slow"),
                                               (~pl.col("_slow")).sum().cast(pl.Int64).alias("n_typical"),
                                               (pl.col("_cut").first() / 1e6).alias("threshold_ms"))
    values = (rows.filter(pl.col("attribute").is_not_null()).select("workload", "trace_id", "attribute", "value")
              .unique().join(labelled.select("workload", "trace_id", "_slow"), on=["workload", "trace_id"]))
    counts = values.group_by("workload", "attribute", "value").agg(
        pl.col("_slow").sum().cast(pl.Int64).alias("slow_traces"),
        (~pl.col("_slow")).sum().cast(pl.Int64).alias("typical_traces"))
    return attribute_lift(counts.join(totals, on="workload"), min_support)


def attribute_lift(counts: pl.LazyFrame, min_support: int = 2) -> pl.LazyFrame:
    """Shares and lift from per-value counts (workload, attribute, value, slow_traces, typical_traces, threshold_ms,
    n_slow, n_typical: what slow_attributes counts here and queries/slow_attribute_counts.sql counts in SQL)."""
    share_slow = pl.col("slow_traces") / pl.col("n_slow")
    share_typical = pl.when(pl.col("n_typical") > 0).then(pl.col("typical_traces") / pl.col("n_typical"))
    out = (counts.with_columns(pl.col("slow_traces", "typical_traces", "n_slow", "n_typical").cast(pl.Int64))
           .filter(pl.col("slow_traces") >= max(min_support, 1))
           .with_columns(share_slow.alias("share_slow"), share_typical.alias("share_typical"))
           .with_columns(pl.when(pl.col("share_typical") > 0).then(pl.col("share_slow") / pl.col("share_typical"))
                         .alias("lift")))
    return (out.select("workload", "attribute", "value", "slow_traces", "typical_traces", "share_slow",
                       "share_typical", "lift", "threshold_ms", "n_slow", "n_typical")
            .sort(["workload", "lift", "slow_traces", "attribute", "value"],
                  descending=[False, True, True, False, False], nulls_last=[False, False, False, False, False]))
