"""Benchmark of `tierwise ingest` on 1M synthetic spans: JSON lines and framed protobuf against DuckDB's reader.

Run from the repository root:

    .venv/bin/python bench/ingest.py --spans 1000000     # the figure in docs/benchmarks.md (## Ingest)
    .venv/bin/python bench/ingest.py --spans 100000      # a quick run

Each format is ingested into a fresh store by a child process running the real CLI
(`tierwise ingest --quiet`), so the time includes start-up, hashing, decoding, flattening and
committing. `--only jsonl-python` / `--only proto-python` run the same ingest with the fast paths
off (TIERWISE_INGEST_FAST=0), i.e. the pure-Python decoders, for a comparison within one run.
Peak RSS is sampled every 50 ms as the sum over the CLI process and its decoder
workers (psutil); CPU time is the CLI's (wait4) plus its workers' last sampled CPU time. The reference is DuckDB's own
`read_json_objects` + `from_json` + 3× `unnest` of the same JSON file into a table.
Generated files are kept in --data-dir (default /tmp/tierwise-bench-<spans>) and reused.
`--only none --derived-overhead` skips the ingests and runs bench/ingest_commit.py (serial costs per span of
the fast decoders, the commit and each derived step).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psutil  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from store.contract import TIERS

ROOT = Path(__file__).resolve().parent.parent
SPANS_PER_LINE = 1000
SERVICES_PER_LINE = 5
MODELS = ("llama-3.1-8b", "mistral-7b", "gpt-4o-mini", "qwen2.5-14b")
ROUTES = ("/v1/chat/completions", "/v1/embeddings", "/v1/rerank", "/healthz")


def _service(i: int) -> dict[str, Any]:
    tier = TIERS[i % len(TIERS)]
    return {"service.name": f"svc-{i:02d}", "tierwise.tier": tier, "host.name": f"host-{i % 7}",
            "cloud.region": f"region-{i % 5}", "tierwise.site": f"site-{i % 9}",
            "deployment.environment": "prod", "telemetry.sdk.language": "python"}


def _span_attrs(rng: random.Random) -> dict[str, Any]:
    return {"http.request.method": "POST", "http.route": rng.choice(ROUTES),
            "gen_ai.request.model": rng.choice(MODELS), "gen_ai.usage.input_tokens": rng.randrange(10, 4000),
            "gen_ai.usage.output_tokens": rng.randrange(1, 800), "tierwise.cache.hit": rng.random() < 0.3,
            "http.response.body.size": rng.randrange(100, 100_000)}


def _json_value(v: Any) -> dict[str, Any]:
    if type(v) is bool:
        return {"boolValue": v}
    if type(v) is int:
        return {"intValue": str(v)}
    return {"stringValue": v}


def _proto_value(kv: Any, key: str, v: Any) -> None:
    kv.key = key
    if type(v) is bool:
        kv.value.bool_value = v
    elif type(v) is int:
        kv.value.int_value = v
    else:
        kv.value.string_value = v


def _line(rng: random.Random, line_no: int, t0: int) -> tuple[bytes, bytes]:
    """One OTLP request of SPANS_PER_LINE spans, as a JSON line and as serialized protobuf."""
    req = ExportTraceServiceRequest()
    resource_spans = []
    per = SPANS_PER_LINE // SERVICES_PER_LINE
    for s in range(SERVICES_PER_LINE):
        res = _service((line_no * SERVICES_PER_LINE + s) % 50)
        prs = req.resource_spans.add()
        for k, v in res.items():
            _proto_value(prs.resource.attributes.add(), k, v)
        pss = prs.scope_spans.add()
        pss.scope.name, pss.scope.version = "tierwise.bench", "1.0"
        spans = []
        trace = rng.randbytes(16)
        parent = b""
        for i in range(per):
            if i % 10 == 0:
                trace, parent = rng.randbytes(16), b""
            span_id = rng.randbytes(8)
            start = t0 + line_no * 1_000_000_000 + i * 1000
            end = start + rng.randrange(1_000_000, 200_000_000)
            attrs = _span_attrs(rng)
            status = 2 if rng.random() < 0.01 else 1
            ps = pss.spans.add()
            ps.trace_id, ps.span_id, ps.parent_span_id = trace, span_id, parent
            ps.name, ps.kind = f"POST {attrs['http.route']}", 2
            ps.start_time_unix_nano, ps.end_time_unix_nano = start, end
            ps.status.code = status
            for k, v in attrs.items():
                _proto_value(ps.attributes.add(), k, v)
            spans.append({"traceId": trace.hex(), "spanId": span_id.hex(),
                          **({"parentSpanId": parent.hex()} if parent else {}),
                          "name": f"POST {attrs['http.route']}", "kind": 2,
                          "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
                          "attributes": [{"key": k, "value": _json_value(v)} for k, v in attrs.items()],
                          "status": {"code": status}})
            parent = span_id
        resource_spans.append({
            "resource": {"attributes": [{"key": k, "value": _json_value(v)} for k, v in res.items()]},
            "scopeSpans": [{"scope": {"name": "tierwise.bench", "version": "1.0"}, "spans": spans}]})
    return orjson.dumps({"resourceSpans": resource_spans}), req.SerializeToString()


def generate(spans: int, data_dir: Path) -> tuple[Path, Path]:
    """Write (or reuse) the JSON lines and framed protobuf files holding `spans` spans."""
    jsonl, proto = data_dir / "traces.jsonl", data_dir / "traces.pb"
    if jsonl.exists() and proto.exists():
        return jsonl, proto
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    t0 = 1_760_000_000_000_000_000
    with open(jsonl.with_suffix(".tmp1"), "wb") as fj, open(proto.with_suffix(".tmp2"), "wb") as fp:
        for n in range(max(1, spans // SPANS_PER_LINE)):
            j, p = _line(rng, n, t0)
            fj.write(j + b"\n")
            fp.write(len(p).to_bytes(4, "big") + p)
    jsonl.with_suffix(".tmp1").rename(jsonl)
    proto.with_suffix(".tmp2").rename(proto)
    return jsonl, proto


@dataclass(frozen=True)
class Run:
    """One measured ingest: wall seconds, CPU seconds of the whole process tree, peak RSS."""

    secs: float
    cpu_secs: float
    rss_tree_bytes: int  # largest sampled sum over the CLI process and its decoder workers
    rss_max_bytes: int  # largest single process (wait4's ru_maxrss)
    summary: str


def _sample(proc: psutil.Process, cpu: dict[int, float]) -> int:
    """The tree's current RSS; records each descendant's CPU seconds in `cpu` (workers are grandchildren)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error), p.oneshot():
            total += p.memory_info().rss
            if p.pid != proc.pid:
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
    return total


def run_ingest(path: Path, workdir: Path, workers: int | None, fast: bool = True) -> Run:
    """Ingest `path` into a fresh store in a child process running the real CLI (fast=False: Python decoders only)."""
    db = workdir / f"{path.stem}-{time.time_ns()}.duckdb"
    cmd = [sys.executable, "-c", "from app.cli import main; main()", "ingest", "--quiet", "--db", str(db), str(path)]
    t = time.perf_counter()
    env = dict(os.environ)
    if workers is not None:
        env["TIERWISE_INGEST_WORKERS"] = str(workers)
    env["TIERWISE_INGEST_FAST"] = "1" if fast else "0"
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0
    ps = psutil.Process(proc.pid)
    cpu: dict[int, float] = {}
    while True:  # wait4 (not poll) keeps the child's rusage, which includes its reaped decoder workers
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        with contextlib.suppress(psutil.Error):
            peak = max(peak, _sample(ps, cpu))
        time.sleep(0.05)
    secs = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"ingest of {path} failed ({proc.returncode}):\n{out}")
    check = duckdb.connect(str(db), read_only=True)
    stored = check.execute("SELECT count(*) FROM spans").fetchone()
    check.close()
    db.unlink()
    return Run(secs, usage.ru_utime + usage.ru_stime + sum(cpu.values()), peak, usage.ru_maxrss * 1024,
               f"{out.strip().splitlines()[-1]} (stored {stored[0] if stored else 0})")


REFERENCE_SQL = """
CREATE TABLE ref AS
WITH docs AS (
  SELECT from_json(json, '{"resourceSpans":[{"resource":{"attributes":[{"key":"VARCHAR",
      "value":{"stringValue":"VARCHAR","intValue":"VARCHAR","boolValue":"BOOLEAN"}}]},
    "scopeSpans":[{"scope":{"name":"VARCHAR","version":"VARCHAR"},"spans":[{"traceId":"VARCHAR",
    "spanId":"VARCHAR","parentSpanId":"VARCHAR","name":"VARCHAR","kind":"INTEGER",
    "startTimeUnixNano":"VARCHAR","endTimeUnixNano":"VARCHAR",
    "attributes":[{"key":"VARCHAR","value":{"stringValue":"VARCHAR","intValue":"VARCHAR","boolValue":"BOOLEAN"}}],
    "status":{"code":"INTEGER"}}]}]}]}') AS d
  FROM read_json_objects($path)),
rs AS (SELECT unnest(d.resourceSpans) AS r FROM docs),
ss AS (SELECT r.resource AS res, unnest(r.scopeSpans) AS s FROM rs),
sp AS (SELECT res, s.scope AS scope, unnest(s.spans) AS x FROM ss)
SELECT x.traceId AS trace_id, x.spanId AS span_id, x.parentSpanId AS parent_span_id, x.name AS name,
       x.kind AS kind, x.startTimeUnixNano::BIGINT AS start_ns, x.endTimeUnixNano::BIGINT AS end_ns,
       x.status.code AS status_code, scope.name AS scope_name, res.attributes AS resource_attributes,
       x.attributes AS attributes
FROM sp
"""


def run_reference(jsonl: Path, workdir: Path) -> tuple[float, float]:
    """DuckDB's own JSON flattening of the same file into a table: (wall seconds, CPU seconds)."""
    db = workdir / f"ref-{time.time_ns()}.duckdb"
    con = duckdb.connect(str(db))
    t, cpu = time.perf_counter(), time.process_time()
    con.execute(REFERENCE_SQL, {"path": str(jsonl)})
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    con.close()
    db.unlink()
    return secs, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000, help="spans to generate (multiple of 1000)")
    ap.add_argument("--data-dir", type=Path, default=None, help="where generated files are kept and reused")
    ap.add_argument("--only", choices=["jsonl", "proto", "reference", "jsonl-python", "proto-python", "none"],
                    action="append", default=None,
                    help="run a subset; the -python variants turn the fast paths off (TIERWISE_INGEST_FAST=0)")
    ap.add_argument("--workers", type=int, default=None, help="decoder processes (TIERWISE_INGEST_WORKERS; 0 = serial)")
    ap.add_argument("--derived-overhead", action="store_true",
                    help="after the runs, bench/ingest_commit.py: serial CPU per span of decoding, the commit and each "
                         "derived step, on the first 200k spans of the generated files")
    args = ap.parse_args()
    spans = max(SPANS_PER_LINE, args.spans // SPANS_PER_LINE * SPANS_PER_LINE)
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"tierwise-bench-{spans}"
    t = time.perf_counter()
    jsonl, proto = generate(spans, data_dir)
    print(f"data: {spans} spans, {jsonl.stat().st_size / 1e6:.0f} MB JSON lines, "
          f"{proto.stat().st_size / 1e6:.0f} MB protobuf in {data_dir} ({time.perf_counter() - t:.1f} s)")
    only = set(args.only or ["jsonl", "proto", "reference"])
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (other work on this machine skews timings)")
    ref = None
    if "reference" in only:
        ref, ref_cpu = run_reference(jsonl, data_dir)
        print(f"reference  DuckDB read_json_objects+from_json+unnest: {ref:6.2f} s  {spans / ref / 1e3:7.1f} k spans/s  "
              f"CPU {ref_cpu:6.1f} s ({spans / ref_cpu / 1e3:5.1f} k spans/CPU-s)")
    for label, path, fast in (("jsonl", jsonl, True), ("proto", proto, True), ("jsonl-python", jsonl, False),
                              ("proto-python", proto, False)):
        if label not in only:
            continue
        r = run_ingest(path, data_dir, args.workers, fast)
        ratio = f"  ours/reference {ref / r.secs:.2f}×" if ref else ""
        print(f"{label:<12} tierwise ingest: {r.secs:6.2f} s  {spans / r.secs / 1e3:7.1f} k spans/s  "
              f"CPU {r.cpu_secs:6.1f} s ({spans / r.cpu_secs / 1e3:5.1f} k spans/CPU-s)  peak RSS "
              f"{r.rss_tree_bytes / 2**20:5.0f} MiB all processes, {r.rss_max_bytes / 2**20:5.0f} MiB largest"
              f"{ratio}\n           [{r.summary}]")
    if args.derived_overhead:
        subprocess.run([sys.executable, str(ROOT / "bench" / "ingest_commit.py"), "--spans", str(min(spans, 200_000)),
                        "--data-dir", str(data_dir)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
