"""Critical path of one trace (CRISP rule, with cross-tier clock-skew repair) and its per-workload tier shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

# Siblings may overlap by this fraction of their parent's duration and still run one after the other
# (CRISP's overlap_allowance_fraction): tiny overlaps come from clock jitter, not concurrency.
OVERLAP_ALLOWANCE = 0.01


@dataclass(frozen=True, slots=True)
class SpanNode:
    """The parts of a span the critical path needs; times in Unix nanoseconds."""

    span_id: str
    parent_id: str | None
    start_ns: int
    end_ns: int
    service: str
    operation: str
    tier: str
    kind: str
    site: str | None = None


def is_hop(parent: SpanNode, child: SpanNode) -> bool:
    """A call that crosses tiers or sites: a CLIENT span whose SERVER child runs elsewhere (another clock)."""
    return (parent.kind == "client" and child.kind == "server"
            and (parent.tier != child.tier or parent.site != child.site))


@dataclass(frozen=True, slots=True)
class PathSegment:
    """One span on the critical path and the time it alone holds the path (CRISP's exclusive time)."""

    span_id: str
    self_ns: int


@dataclass(frozen=True)
class _Tree:
    """A sanitized trace: every span lies inside its parent's window, children per parent."""

    root: SpanNode
    spans: dict[str, SpanNode]
    children: dict[str, list[SpanNode]]


def _pick_root(spans: Sequence[SpanNode]) -> SpanNode | None:
    """The span without a parent in this trace; of several, the longest (then earliest) one."""
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if s.parent_id is None or s.parent_id not in ids]
    if not roots:
        return None
    return min(roots, key=lambda s: (-(s.end_ns - s.start_ns), s.start_ns))


def _children_of(spans: Sequence[SpanNode]) -> dict[str, list[SpanNode]]:
    children: dict[str, list[SpanNode]] = {}
    for s in spans:
        if s.parent_id is not None:
            children.setdefault(s.parent_id, []).append(s)
    return children


def _skew_shift(parent: SpanNode, child: SpanNode) -> int:
    """How far to move a cross-tier (or cross-site) server span and its subtree into its client's window.

    Device, edge and cloud clocks disagree, so a SERVER span whose CLIENT parent runs in another tier may
    appear to start before or end after the call that caused it. As Jaeger's clock-skew adjuster does,
    such a child is centred in its parent (the network time split evenly both ways), or aligned to the
    parent's start when it is longer than the parent (its end is then clipped by sanitizing).
    """
    if not is_hop(parent, child):
        return 0
    if parent.start_ns <= child.start_ns and child.end_ns <= parent.end_ns:
        return 0
    slack = (parent.end_ns - parent.start_ns) - (child.end_ns - child.start_ns)
    target = parent.start_ns + slack // 2 if slack >= 0 else parent.start_ns
    return target - child.start_ns


def _moved(span: SpanNode, start_ns: int, end_ns: int) -> SpanNode:
    """`span` over another window (dataclasses.replace, without its per-call introspection)."""
    return SpanNode(span.span_id, span.parent_id, start_ns, end_ns, span.service, span.operation, span.tier, span.kind,
                    span.site)


def _sanitize(spans: Sequence[SpanNode]) -> _Tree | None:
    """Repair cross-tier skew, then clip children to their parent's window and drop those outside it.

    Children that outlive their parent (async work, FOLLOWS_FROM) are clipped to the parent's end and
    children that start after it ends are dropped, as CRISP does: the parent's caller did not wait for them.
    """
    root = _pick_root(spans)
    if root is None:
        return None
    raw_children = _children_of(spans)
    kept: dict[str, SpanNode] = {root.span_id: root}
    children: dict[str, list[SpanNode]] = {}
    stack: list[tuple[SpanNode, int]] = [(root, 0)]  # (sanitized parent, clock shift of the parent's subtree)
    while stack:
        parent, shift = stack.pop()
        for raw in raw_children.get(parent.span_id, []):
            child = raw if not shift else _moved(raw, raw.start_ns + shift, raw.end_ns + shift)
            own = _skew_shift(parent, child)
            lo, hi = child.start_ns + own, child.end_ns + own
            start, end = max(lo, parent.start_ns), min(hi, parent.end_ns)
            if child.span_id in kept or end < start or (end == start and lo != hi):
                continue
            if (start, end) != (child.start_ns, child.end_ns):
                child = _moved(child, start, end)
            kept[child.span_id] = child
            children.setdefault(parent.span_id, []).append(child)
            stack.append((child, shift + own))
    return _Tree(root, kept, children)


def _happens_before(parent: SpanNode, siblings: Sequence[SpanNode], before: SpanNode, later: SpanNode) -> bool:
    """Whether `before` ends before `later` starts, tolerating a small overlap that no third event explains."""
    if before.end_ns < later.start_ns:
        return True
    if before.end_ns < later.end_ns and before.start_ns < later.start_ns:
        duration = parent.end_ns - parent.start_ns
        if duration > 0 and (before.end_ns - later.start_ns) / duration < OVERLAP_ALLOWANCE:
            lo, hi = later.start_ns, before.end_ns
            events = sum((lo <= s.start_ns <= hi) + (lo <= s.end_ns <= hi) for s in siblings)
            return events == 2
    return False


def _path_children(node: SpanNode, children: Sequence[SpanNode]) -> list[SpanNode]:
    """The children on the path: the last to finish, then each that happens before the one chosen last."""
    by_end = sorted(children, key=lambda s: s.end_ns)[::-1]  # ties: reverse input order, as CRISP
    chosen = [by_end[0]]
    for c in by_end[1:]:
        if _happens_before(node, by_end, c, chosen[-1]):
            chosen.append(c)
    return chosen


def critical_path(spans: Sequence[SpanNode]) -> list[PathSegment]:
    """The critical path of one trace, root first, with each span's exclusive time on it.

    Exclusive time is a span's (sanitized) duration minus the durations of its children on the path,
    clamped at zero; the times add up to the root's duration unless tolerated overlaps exceed a span.
    """
    tree = _sanitize(spans)
    if tree is None:
        return []
    path: list[PathSegment] = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        kids = tree.children.get(node.span_id, [])
        on_path = _path_children(node, kids) if kids else []
        covered = sum(c.end_ns - c.start_ns for c in on_path)
        path.append(PathSegment(node.span_id, max(0, node.end_ns - node.start_ns - covered)))
        stack.extend(reversed(on_path))
    return path


def path_parts(spans: Sequence[SpanNode]) -> list[tuple[str, str, int]]:
    """(component, part, self_ns) per span on the path: part `hop` for network+queue time, else `compute`.

    A CLIENT span's time is a hop when its SERVER child runs in another tier or site (see `is_hop`); the
    component is then `from→to` (tiers), otherwise the span's tier.
    """
    by_id = {s.span_id: s for s in spans}
    servers: dict[str, str] = {}
    for s in spans:
        parent = by_id.get(s.parent_id) if s.parent_id is not None else None
        if parent is not None and is_hop(parent, s):
            servers.setdefault(parent.span_id, s.tier)
    out = []
    for seg in critical_path(spans):
        node = by_id[seg.span_id]
        to = servers.get(node.span_id)
        out.append((f"{node.tier}→{to}", "hop", seg.self_ns) if to else (node.tier, "compute", seg.self_ns))
    return out


def trace_parts(spans: pl.LazyFrame) -> pl.LazyFrame:
    """One row per trace and path component: workload, trace_id, e2e_ns, component, part, self_ns.

    A trace's workload is its root span's, else the first one any of its spans declares.
    """
    cols = ("trace_id", "span_id", "parent_span_id", "start_ns", "end_ns", "service_name", "name", "tier", "kind",
            "site", "workload")
    frame = spans.select(cols).filter(pl.col("trace_id").is_not_null()).sort("trace_id", "start_ns", "span_id")
    by_trace: dict[str, list[tuple[SpanNode, str | None]]] = {}
    for t, sid, pid, start, end, svc, name, tier, kind, site, workload in frame.collect().iter_rows():
        node = SpanNode(sid, pid, start, end, svc or "", name, tier, kind, site)
        by_trace.setdefault(t, []).append((node, workload))
    rows: list[tuple[str, str, int, str, str, int]] = []
    for trace_id, members in by_trace.items():
        nodes = [n for n, _ in members]
        root = _pick_root(nodes)
        if root is None or root.end_ns <= root.start_ns:
            continue  # nothing to share out
        declared = [w for n, w in members if w is not None and n.span_id == root.span_id]
        declared += [w for _, w in members if w is not None]
        workload = declared[0] if declared else ""
        for component, part, self_ns in path_parts(nodes):
            rows.append((workload, trace_id, root.end_ns - root.start_ns, component, part, self_ns))
    schema = {"workload": pl.String, "trace_id": pl.String, "e2e_ns": pl.Int64, "component": pl.String,
              "part": pl.String, "self_ns": pl.Int64}
    return pl.LazyFrame(rows, schema=schema, orient="row")


def _e2e_order() -> list[pl.Expr]:
    """Traces by end-to-end time; equal times in trace_id order, an id that is not 32 lowercase hex digits after the
    others (the order of band_trace_spans.sql, which keys hex ids by their value)."""
    return [pl.col("e2e_ns"), ~pl.col("trace_id").str.contains("^[0-9a-f]{32}$"), pl.col("trace_id")]


def pick_traces(traces: pl.LazyFrame, q: float, band: float, spans: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """The traces (workload, trace_id, e2e_ns) whose end-to-end rank (0 fastest … 1 slowest, per workload, ties by
    trace_id) lies within `band` of q, always at least the nearest one.

    When `spans` carry the flag `in_p50`/`in_p95` (queries/band_trace_spans.sql chose the band in SQL, over every
    trace of the window, possibly sampled), the flagged traces are taken; otherwise the rank is computed here.
    """
    flag = f"in_p{round(q * 100):d}"
    if spans is not None and flag in spans.collect_schema().names():
        return traces.join(spans.filter(pl.col(flag)).select("trace_id").unique(), on="trace_id", how="semi")
    ranked = traces.sort(_e2e_order()).with_columns(
        (pl.int_range(pl.len()).over("workload") / (pl.len().over("workload") - 1).clip(lower_bound=1)).alias("_rank"))
    dist = (pl.col("_rank") - q).abs()
    return ranked.filter((dist <= band + 1e-12) | (dist == dist.min().over("workload"))).drop("_rank")


def critical_path_shares(spans: pl.LazyFrame, percentiles: Iterable[float] = (0.50, 0.95),
                         band: float = 0.05) -> pl.LazyFrame:
    """Per workload and percentile, the share of end-to-end time each tier's compute and each hop holds.

    For percentile q the traces whose end-to-end rank (0 = fastest, 1 = slowest) lies within `band` of q
    are taken, always at least the one nearest to q; each trace's path time is split into components
    (a tier's compute, or a `from→to` hop) and the per-trace shares are averaged, so they sum to 100.
    Rows: workload, percentile (`p50`), component, part, share_pct, traces, e2e_ms (mean of those traces).
    """
    parts = trace_parts(spans).group_by("workload", "trace_id", "e2e_ns", "component", "part").agg(
        pl.col("self_ns").sum())
    per_trace = parts.with_columns(
        (pl.col("self_ns") / pl.col("self_ns").sum().over("trace_id") * 100).fill_nan(0.0).alias("share_pct"))
    traces = parts.select("workload", "trace_id", "e2e_ns").unique()
    frames = [pick_traces(traces, q, band, spans).with_columns(pl.lit(f"p{round(q * 100):d}").alias("percentile"))
              for q in percentiles]
    picked = pl.concat(frames)
    n = picked.group_by("workload", "percentile").agg(pl.len().alias("traces"),
                                                      (pl.col("e2e_ns").mean() / 1e6).alias("e2e_ms"))
    joined = picked.join(per_trace, on=["workload", "trace_id", "e2e_ns"])
    out = joined.group_by("workload", "percentile", "component", "part").agg(pl.col("share_pct").sum())
    return (out.join(n, on=["workload", "percentile"])
            .with_columns(pl.col("share_pct") / pl.col("traces"))
            .select("workload", "percentile", "component", "part", "share_pct", "traces", "e2e_ms")
            .sort("workload", "percentile", "share_pct", "component", descending=[False, False, True, False]))
