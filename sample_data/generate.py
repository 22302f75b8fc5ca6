"""`tierwise generate`: stream a seeded estate's traces, metrics and bills to files with bounded memory."""

from __future__ import annotations

import gzip
import json
import multiprocessing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sample_data import bills
from sample_data.estate import WORKLOADS
from sample_data.hops import Ctx, EgressKey
from sample_data.metrics import day_metrics
from sample_data.metrics_legacy import day_metrics_legacy
from sample_data.physics import Dice, traffic_weight
from sample_data.spans import Attrs, Resources, Trace
from sample_data.vencode import Encoder
from sample_data.vtrace import Batch
from sample_data.vworkloads import VBUILDERS
from sample_data.workloads import BUILDERS
from sample_data.writer import TraceRec, encode_json, encode_metrics, encode_proto

SPANS_PER_LINE = 1000
CHUNK_SPANS = 100_000  # spans built and encoded at once by the columnar path (bounds memory)
MANIFEST = ".manifest.json"


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


@dataclass(frozen=True)
class Summary:
    """What one run wrote."""

    out: Path
    spans: int
    traces: int
    metric_files: int
    files: tuple[str, ...]


def _wattrs(name: str) -> Attrs:
    w = WORKLOADS[name]
    return (("tierwise.workload", w.name), ("tierwise.workload.type", w.wtype), ("tierwise.data_class", w.data_class),
            ("tierwise.latency_budget_ms", w.budget_ms), ("tierwise.pattern", w.pattern))


def trace_state(adjusted: float) -> str:
    """W3C tracestate carrying the OTel sampling threshold for a 1-in-`adjusted` probability sample."""
    p = min(1.0, 1.0 / max(adjusted, 1.0))
    th = round((1.0 - p) * (1 << 56))
    return "ot=th:" + (f"{th:014x}".rstrip("0") or "0")


def spans_per_trace(seed: int, days: int) -> dict[str, float]:
    """Average spans per trace of each workload, measured on a fixed probe (so trace counts meet --spans)."""
    out = {}
    for name, build in BUILDERS.items():
        ctx = Ctx(Dice(seed, 9), Resources(seed), days, 0, t_h=12.0, workload=name)
        n = 0
        for _ in range(200):
            tr = Trace(ctx.d, 0, "", ())
            build(tr, ctx)
            n += len(tr.spans)
        out[name] = n / 200
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


def _open(path: Path, gz: bool) -> BinaryIO:
    """A file to write; gzip with a zero mtime so the bytes depend only on the content and the name."""
    if gz:
        return gzip.GzipFile(path, mode="wb", mtime=0, compresslevel=6)  # type: ignore[return-value]
    return open(path, "wb")  # noqa: SIM115 - closed by the caller


@dataclass(frozen=True)
class _Plan:
    """Everything a day's worker needs; computed once, identical in every process."""

    out: Path
    opts: Options
    counts: dict[str, list[int]]
    adj: dict[str, float]
    start: date
    t0_ns: int
    per_trace: dict[str, float]
    legacy: bool = False


def _chunks(p: _Plan, day: int) -> list[list[int]]:
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


def _day_columns(p: _Plan, day: int) -> tuple[list[str], int, int, dict[EgressKey, float]]:
    """Write one day's traces column-wise (many traces per numpy operation), then its metrics."""
    opts = p.opts
    res = Resources(opts.seed)
    names = list(WORKLOADS)
    enc = Encoder(opts.fmt, res.items, [trace_state(p.adj[n]) for n in names], [_wattrs(n) for n in names])
    ext = ("jsonl" if opts.fmt == "json" else "binpb") + (".gz" if opts.gzip else "")
    day_s = (p.start + timedelta(days=day)).isoformat()
    n_spans = n_traces = 0
    egress: dict[EgressKey, float] = {}
    name = f"traces/traces-{day_s}.{ext}"
    with _open(p.out / name, opts.gzip) as f:
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
    mname = _write_metrics(p, day, day_s, ext)
    return [name, mname], n_spans, n_traces, egress


def _write_metrics(p: _Plan, day: int, day_s: str, ext: str) -> str:
    opts = p.opts
    mname = f"metrics/metrics-{day_s}.{ext}"
    with _open(p.out / mname, opts.gzip) as f:
        docs = day_metrics_legacy if p.legacy else day_metrics
        for doc in docs(opts.seed, day, p.t0_ns, opts.days, p.start.weekday(), opts.metric_step_s):
            f.write(encode_metrics(doc, opts.fmt))
    return mname


def _day(p: _Plan, day: int) -> tuple[list[str], int, int, dict[EgressKey, float]]:
    """Write one day's traces and metrics; each day has its own randomness and resources, so workers agree."""
    opts = p.opts
    states = {n: trace_state(a) for n, a in p.adj.items()}
    wattrs = {n: _wattrs(n) for n in WORKLOADS}
    res = Resources(opts.seed)
    ctx = Ctx(Dice(opts.seed, 0), res, opts.days, p.start.weekday(), adj=p.adj)
    encode = encode_json if opts.fmt == "json" else encode_proto
    cache: dict[int, str] | dict[int, bytes] = {}
    ext = ("jsonl" if opts.fmt == "json" else "binpb") + (".gz" if opts.gzip else "")
    day_s = (p.start + timedelta(days=day)).isoformat()
    n_spans = n_traces = 0
    name = f"traces/traces-{day_s}.{ext}"
    with _open(p.out / name, opts.gzip) as f:
        batch: list[TraceRec] = []
        in_batch = 0
        for hour in range(day * 24, day * 24 + 24):
            ctx.d = d = Dice(opts.seed, 1, hour)
            todo = sorted((d.u(), w) for w, c in p.counts.items() for _ in range(c[hour]))
            for frac, w in todo:
                ctx.t_h = hour + frac
                ctx.workload = w
                tr = Trace(d, p.t0_ns + int(ctx.t_h * 3600e9), states[w], wattrs[w])
                BUILDERS[w](tr, ctx)
                batch.append((tr.trace_id, tr.trace_state, tr.spans, tr.wattrs))
                in_batch += len(tr.spans)
                if in_batch >= SPANS_PER_LINE:
                    f.write(encode(batch, res.items, cache))  # type: ignore[arg-type]
                    n_spans, n_traces, batch, in_batch = n_spans + in_batch, n_traces + len(batch), [], 0
        if batch:
            f.write(encode(batch, res.items, cache))  # type: ignore[arg-type]
            n_spans, n_traces = n_spans + in_batch, n_traces + len(batch)
    mname = _write_metrics(p, day, day_s, ext)
    return [name, mname], n_spans, n_traces, ctx.egress


_PLAN: _Plan | None = None


def _worker_day(day: int) -> tuple[list[str], int, int, dict[EgressKey, float]]:
    assert _PLAN is not None
    return _day(_PLAN, day) if _PLAN.legacy else _day_columns(_PLAN, day)


def generate(out: Path, opts: Options, workers: int = 1, progress: Callable[[int], None] | None = None,
             legacy: bool = False) -> Summary:
    """Write traces/, metrics/ and bills/ under `out`, then .manifest.json (written last: its presence means done).

    `legacy` builds traces one at a time (the slower path that produced the committed sample).
    """
    global _PLAN
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for sub in ("traces", "metrics"):
        (out / sub).mkdir(exist_ok=True)
    per_trace = spans_per_trace(opts.seed, opts.days)
    counts = plan(opts, per_trace)
    start = opts.end - timedelta(days=opts.days)
    t0_ns = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) * 10**9
    adj = {n: WORKLOADS[n].requests_per_day * opts.days / max(1, sum(c)) for n, c in counts.items()}
    p = _Plan(out, opts, counts, adj, start, t0_ns, per_trace, legacy)
    files: list[str] = []
    egress: dict[EgressKey, float] = {}
    n_spans = n_traces = 0
    if workers > 1:
        _PLAN = p
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = list(pool.imap(_worker_day, range(opts.days)))
        _PLAN = None
    else:
        results = [_day(p, day) if legacy else _day_columns(p, day) for day in range(opts.days)]
    for names, ns, nt, eg in results:
        files += names
        n_spans, n_traces = n_spans + ns, n_traces + nt
        for k, v in eg.items():
            egress[k] = egress.get(k, 0.0) + v
        if progress:
            progress(n_spans)
    files += bills.write_bills(out / "bills", start, opts.days, egress)
    summary = Summary(out, n_spans, n_traces, opts.days, tuple(files))
    (out / MANIFEST).write_text(json.dumps({"options": opts.key(), "spans": n_spans, "traces": n_traces,
                                            "adjusted_count": {k: round(v, 3) for k, v in adj.items()},
                                            "files": files}, indent=1) + "\n")
    return summary


def existing(out: Path, opts: Options, any_end: bool = False) -> bool:
    """Whether `out` already holds a complete estate generated with `opts` (with any window end if `any_end`)."""
    try:
        found = json.loads((out / MANIFEST).read_text()).get("options", {})
    except (OSError, ValueError, AttributeError):
        return False
    want = opts.key()
    if any_end:
        found.pop("end", None)
        want.pop("end")
    return bool(found == want)


def ensure_estate(out: Path, spans: int = 1_000_000, days: int = 30, workers: int = 2) -> tuple[bool, Summary | None]:
    """The demo's estate (seed 42, `days` to today) under `out`: reused when a complete one exists, else generated."""
    opts = Options(spans=spans, days=days)
    if existing(out, opts, any_end=True):
        return True, None
    return False, generate(out, opts, workers)


SAMPLE = Options(seed=42, spans=4000, days=31, end=date(2026, 11, 1), gzip=True, metric_step_s=3600)


def write_sample(out: Path) -> Summary:
    """Regenerate the small committed sample (October 2026, fixed seed) into `out`, replacing what was there."""
    for sub in ("traces", "metrics", "bills", "otlp"):
        if (out / sub).is_dir():
            for f in (out / sub).iterdir():
                f.unlink()
            (out / sub).rmdir()
    return generate(out, SAMPLE, legacy=True)
