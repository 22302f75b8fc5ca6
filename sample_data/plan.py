"""What a run generates: its options, and how many traces of each workload fall in each hour of the window."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from sample_data.estate import WORKLOADS
from sample_data.physics import traffic_weight
from sample_data.spans import Attrs, Resources
from sample_data.vtrace import Batch
from sample_data.vworkloads import VBUILDERS

PROBE_TRACES = 200  # traces per workload in the probe that measures spans per trace


@dataclass(frozen=True)
class Options:
    """What to generate; the same options always give byte-identical files."""

    seed: int = 42
    spans: int = 1_000_000
    days: int = 30
    end: date = field(default_factory=lambda: datetime.now(UTC).date())
    fmt: str = "json"  # json | proto
    gzip: bool = False
    metric_step_s: int = 900

    def key(self) -> dict[str, object]:
        d = asdict(self)
        d["end"] = self.end.isoformat()
        return d


def workload_attrs(name: str) -> Attrs:
    """The data-contract attributes every span of a workload carries."""
    w = WORKLOADS[name]
    return (("tierwise.workload", w.name), ("tierwise.workload.type", w.wtype), ("tierwise.data_class", w.data_class),
            ("tierwise.latency_budget_ms", w.budget_ms), ("tierwise.pattern", w.pattern))


def trace_state(adjusted: float) -> str:
    """W3C tracestate carrying the OTel sampling threshold for a 1-in-`adjusted` probability sample."""
    p = min(1.0, 1.0 / max(adjusted, 1.0))
    th = round((1.0 - p) * (1 << 56))
    return "ot=th:" + (f"{th:014x}".rstrip("0") or "0")


def spans_per_trace(seed: int, days: int) -> dict[str, float]:
    """Average spans per trace of each workload, measured by the trace builders on a fixed probe at noon of the
    window's first day (so trace counts meet --spans)."""
    res = Resources(seed)
    out = {}
    for wi, name in enumerate(WORKLOADS):
        b = Batch(np.random.default_rng([seed, 9, wi]), name, np.full(PROBE_TRACES, 12.0), 0, res, 1.0, days, 0)
        VBUILDERS[name](b)
        out[name] = sum(len(g.idx) for g in b.groups) / PROBE_TRACES
    return out


def plan(opts: Options, per_trace: dict[str, float] | None = None) -> dict[str, list[int]]:
    """Traces per workload per hour of the window: the total follows shares, hours follow diurnal and weekly shape."""
    per_trace = per_trace or spans_per_trace(opts.seed, opts.days)
    start = opts.end - timedelta(days=opts.days)
    hours = opts.days * 24
    out: dict[str, list[int]] = {}
    for name, w in WORKLOADS.items():
        total = opts.spans * w.share / per_trace[name]
        weights = [traffic_weight(w.diurnal, h % 24, (start.weekday() + h // 24) % 7) for h in range(hours)]
        s = sum(weights) or 1.0
        counts, cum, prev = [], 0.0, 0
        for wt in weights:
            cum += total * wt / s
            counts.append(round(cum) - prev)
            prev = round(cum)
        out[name] = counts
    return out


@dataclass(frozen=True)
class RunPlan:
    """Everything a day's worker needs; computed once, identical in every process."""

    out: Path
    opts: Options
    counts: dict[str, list[int]]
    adj: dict[str, float]  # adjusted count (1 / sampling probability) per workload
    start: date
    t0_ns: int
    per_trace: dict[str, float]

    @staticmethod
    def of(out: Path, opts: Options) -> RunPlan:
        per_trace = spans_per_trace(opts.seed, opts.days)
        counts = plan(opts, per_trace)
        start = opts.end - timedelta(days=opts.days)
        t0_ns = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) * 10**9
        adj = {n: WORKLOADS[n].requests_per_day * opts.days / max(1, sum(c)) for n, c in counts.items()}
        return RunPlan(out, opts, counts, adj, start, t0_ns, per_trace)
