"""One day's files: its traces, built and encoded column-wise in chunks of hours, and its metrics."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import BinaryIO

import numpy as np
import orjson

from sample_data.estate import WORKLOADS
from sample_data.metrics import day_series, json_doc
from sample_data.metrics_pb import frame
from sample_data.plan import RunPlan, trace_state, workload_attrs
from sample_data.spans import Resources
from sample_data.vencode import Encoder
from sample_data.vtrace import Batch, EgressKey
from sample_data.vworkloads import VBUILDERS

SPANS_PER_LINE = 1000
CHUNK_SPANS = 100_000  # spans built and encoded at once (bounds memory)
DayResult = tuple[list[str], int, int, dict[EgressKey, float]]  # files, spans, traces, egress bytes


def _open(path: str, p: RunPlan) -> BinaryIO:
    """A file to write; gzip with a zero mtime so the bytes depend only on the content and the name."""
    if p.opts.gzip:
        return gzip.GzipFile(p.out / path, mode="wb", mtime=0, compresslevel=6)  # type: ignore[return-value]
    return open(p.out / path, "wb")  # noqa: SIM115 - closed by the caller


def _names(p: RunPlan, day: int) -> tuple[str, str]:
    ext = ("jsonl" if p.opts.fmt == "json" else "binpb") + (".gz" if p.opts.gzip else "")
    day_s = (p.start + timedelta(days=day)).isoformat()
    return f"traces/traces-{day_s}.{ext}", f"metrics/metrics-{day_s}.{ext}"


def _chunks(p: RunPlan, day: int) -> list[list[int]]:
    """The day's hours in runs of about CHUNK_SPANS expected spans (at least one hour each)."""
    out: list[list[int]] = [[]]
    acc = 0.0
    for h in range(day * 24, day * 24 + 24):
        est = sum(c[h] * p.per_trace[w] for w, c in p.counts.items())
        if out[-1] and acc + est > CHUNK_SPANS:
            out.append([])
            acc = 0.0
        out[-1].append(h)
        acc += est
    return out


def write_day(p: RunPlan, day: int) -> DayResult:
    """Write one day's traces column-wise (many traces per numpy operation), then its metrics."""
    opts = p.opts
    res = Resources(opts.seed)
    names = list(WORKLOADS)
    enc = Encoder(opts.fmt, res.items, [trace_state(p.adj[n]) for n in names], [workload_attrs(n) for n in names])
    n_spans = n_traces = 0
    egress: dict[EgressKey, float] = {}
    name, mname = _names(p, day)
    with _open(name, p) as f:
        for ci, hours in enumerate(_chunks(p, day)):
            batches = []
            for wi, w in enumerate(names):
                counts = [p.counts[w][h] for h in hours]
                if not sum(counts):
                    continue
                g = np.random.default_rng([opts.seed, 3, day, ci, wi])
                hour = np.repeat(np.array(hours, dtype=np.float64), counts)
                frac = g.random(len(hour))
                t_h = np.sort(hour + frac * (1 - 1e-9))
                b = Batch(g, w, t_h, p.t0_ns, res, p.adj[w], opts.days, p.start.weekday())
                VBUILDERS[w](b)
                batches.append(b)
                n_traces += b.n
                n_spans += sum(len(gr.idx) for gr in b.groups)
                for k, v in b.egress.items():
                    egress[k] = egress.get(k, 0.0) + v
            if batches:
                f.write(enc.chunk(batches, SPANS_PER_LINE))
    write_metrics(p, day, mname)
    return [name, mname], n_spans, n_traces, egress


def write_metrics(p: RunPlan, day: int, name: str) -> None:
    """One document (JSON line or protobuf frame) per scraped host."""
    o = p.opts
    args = (o.seed, day, p.t0_ns, o.days, p.start.weekday(), o.metric_step_s)
    with _open(name, p) as f:
        if o.fmt == "json":
            f.writelines(orjson.dumps(json_doc(h, o.metric_step_s)) + b"\n" for h in day_series(*args))
        else:
            f.writelines(frame(h, o.metric_step_s) for h in day_series(*args))
