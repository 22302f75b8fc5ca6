"""`tierwise generate`: stream a seeded estate's traces, metrics and bills to files with bounded memory."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sample_data import bills
from sample_data.days import DayResult, write_day
from sample_data.plan import Options, RunPlan
from sample_data.vtrace import EgressKey

__all__ = ["MANIFEST", "SAMPLE", "Options", "Summary", "ensure_estate", "existing", "generate", "write_sample"]
MANIFEST = ".manifest.json"


@dataclass(frozen=True)
class Summary:
    """What one run wrote."""

    out: Path
    spans: int
    traces: int
    metric_files: int
    files: tuple[str, ...]


_PLAN: RunPlan | None = None


def _worker_day(day: int) -> DayResult:
    assert _PLAN is not None
    return write_day(_PLAN, day)


def generate(out: Path, opts: Options, workers: int = 1, progress: Callable[[int], None] | None = None) -> Summary:
    """Write traces/, metrics/ and bills/ under `out`, then .manifest.json (written last: its presence means done)."""
    global _PLAN
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for sub in ("traces", "metrics"):
        (out / sub).mkdir(exist_ok=True)
    p = RunPlan.of(out, opts)
    files: list[str] = []
    egress: dict[EgressKey, float] = {}
    n_spans = n_traces = 0
    if workers > 1:
        _PLAN = p
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = list(pool.imap(_worker_day, range(opts.days)))
        _PLAN = None
    else:
        results = [write_day(p, day) for day in range(opts.days)]
    for names, ns, nt, eg in results:
        files += names
        n_spans, n_traces = n_spans + ns, n_traces + nt
        for k, v in eg.items():
            egress[k] = egress.get(k, 0.0) + v
        if progress:
            progress(n_spans)
    files += bills.write_bills(out / "bills", p.start, opts.days, egress)
    summary = Summary(out, n_spans, n_traces, opts.days, tuple(files))
    (out / MANIFEST).write_text(json.dumps({"options": opts.key(), "spans": n_spans, "traces": n_traces,
                                            "adjusted_count": {k: round(v, 3) for k, v in p.adj.items()},
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
    return generate(out, SAMPLE)
