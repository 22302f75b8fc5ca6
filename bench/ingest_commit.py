"""Serial, in-process costs of one ingest's parts per span: fast decoders, the commit, and each derived step.

Run from the repository root (bench/ingest.py --derived-overhead runs it too):

    .venv/bin/python bench/ingest_commit.py --spans 200000

It cuts the first `--spans` spans out of bench/ingest.py's generated files, decodes them with the
fast paths (loader.decode_batch, batches as the loader cuts them), then commits the decoded
batches into fresh stores with loader.commit_batch under several configurations: every derived
table, none, each alone with what it reads (store.derived.REGISTRY is replaced for the run, the
definitions are not touched), the bare INSERT, and insert-side variants (DuckDB settings, dictionary-encoded columns).
`--onto STORE` commits into a copy of an existing store instead (a step whose cost grows with the store, such as
the trace_root_dups check that reads every root key, measured at that size; the copy's time is not counted).
CPU is time.process_time() (every thread of this process); the best of --repeat runs is kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the ingest package, not bench/ingest.py

import pyarrow.compute as pc  # noqa: E402

import store  # noqa: E402
from ingest.files.sources import iter_records, open_source  # noqa: E402
from ingest.sinks import loader  # noqa: E402
from store import derived  # noqa: E402
from store.derived import hop_spans, link_maps, request_entries, rollup, trace_index  # noqa: E402
from store.settings import load_settings  # noqa: E402

Decoded = loader.Decoded


def _slice(src_dir: Path, spans: int, out_dir: Path) -> tuple[Path, Path]:
    """The first spans/1000 requests of traces.jsonl and traces.pb (1,000 spans each)."""
    lines = spans // 1000
    jsonl, pb = out_dir / f"slice-{spans}.jsonl", out_dir / f"slice-{spans}.pb"
    if not jsonl.exists():
        with open(src_dir / "traces.jsonl", "rb") as f, open(jsonl, "wb") as out:
            for _ in range(lines):
                out.write(f.readline())
    if not pb.exists():
        with open(src_dir / "traces.pb", "rb") as f, open(pb, "wb") as out:
            for _ in range(lines):
                head = f.read(4)
                out.write(head + f.read(int.from_bytes(head, "big")))
    return jsonl, pb


def decode(path: Path) -> tuple[list[Decoded], float]:
    """Decoded batches of one file (serial, fast paths on) and the CPU seconds that took."""
    settings = load_settings()
    opened = open_source(path)
    t = time.process_time()
    out = [loader.decode_batch(b, opened.fmt, settings) for b in loader._batches(iter_records(opened), settings.batch_bytes)]
    cpu = time.process_time() - t
    opened.close()
    return out, cpu


def parse_only(path: Path) -> tuple[int, float]:
    """Spans in a framed protobuf file and the CPU seconds upb takes to parse its records into TracesData messages,
    nothing read out of them: the floor of any decoder built on the protobuf runtime."""
    from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

    opened = open_source(path)
    payloads = [r.payload for r in iter_records(opened)]
    opened.close()
    t = time.process_time()
    messages = [TracesData.FromString(p) for p in payloads]
    cpu = time.process_time() - t
    return sum(len(ss.spans) for m in messages for rs in m.resource_spans for ss in rs.scope_spans), cpu


def _dict_encoded(d: Decoded, names: tuple[str, ...]) -> Decoded:
    """The same batch with the given string columns dictionary-encoded (same values)."""
    assert d.spans is not None
    t = d.spans
    for n in names:
        t = t.set_column(t.schema.get_field_index(n), n, pc.dictionary_encode(t[n]))
    return Decoded(t, d.points, d.rejections, d.skipped, d.signals)


def _without(d: Decoded, names: tuple[str, ...]) -> Decoded:
    """The same batch without the given columns (NULL in the stored rows)."""
    assert d.spans is not None
    return Decoded(d.spans.drop_columns(list(names)), d.points, d.rejections, d.skipped, d.signals)


def _bare_insert(con: object, sha: str, source: str, index: int, batch: Decoded) -> None:
    """Only the spans INSERT, in its own transaction (no derived tables, no ledger row)."""
    import duckdb
    assert isinstance(con, duckdb.DuckDBPyConnection) and batch.spans is not None
    con.execute("BEGIN TRANSACTION")
    con.register("span_batch", batch.spans)
    con.execute("INSERT INTO spans BY NAME SELECT *, $k AS batch_key FROM span_batch", {"k": f"{sha}:{index}"})
    con.unregister("span_batch")
    con.execute("COMMIT")


Commit = Callable[..., None]


def commit_all(batches: list[Decoded], workdir: Path, steps: tuple[derived.Derived, ...], settings_sql: tuple[str, ...] = (),
               commit: Commit = loader.commit_batch, onto: Path | None = None) -> tuple[float, float]:
    """CPU seconds to commit every batch into a fresh, migrated store (or a copy of `onto`) with these steps, then
    to CHECKPOINT it."""
    db = workdir / f"commit-{time.time_ns()}.duckdb"
    if onto is not None:
        shutil.copy(onto, db)
    con = store.connect(db)
    store.migrate(con)
    saved = derived.REGISTRY
    derived.REGISTRY = steps
    for s in settings_sql:
        con.execute(s)
    try:
        t = time.process_time()
        for i, b in enumerate(batches):
            commit(con, "bench", "bench", i, b)
        cpu = time.process_time() - t
        t = time.process_time()
        con.execute("CHECKPOINT")
        checkpoint = time.process_time() - t
    finally:
        derived.REGISTRY = saved
        con.close()
        db.unlink()
        Path(str(db) + ".wal").unlink(missing_ok=True)
    return cpu, checkpoint


def _merged(batches: list[Decoded]) -> list[Decoded]:
    """Every span of the batches as one batch: one transaction, as a larger `batch_bytes` would make."""
    import pyarrow as pa

    spans = pa.concat_tables([b.spans for b in batches if b.spans is not None])
    return [Decoded(spans, batches[0].points, (), 0, batches[0].signals)]


def _grouped(batches: list[Decoded]) -> list[list[tuple[int, Decoded]]]:
    """The batches in the transactions ingest_file makes of them: consecutive batches up to `commit_spans` spans."""
    commit_spans, groups = load_settings().commit_spans, [[]]
    for i, b in enumerate(batches):
        groups[-1].append((i, b))
        if loader.group_full(groups[-1], commit_spans):
            groups.append([])
    return [g for g in groups if g]


def _commit_group(con: object, sha: str, source: str, index: int, group: list[tuple[int, Decoded]]) -> None:
    import duckdb
    assert isinstance(con, duckdb.DuckDBPyConnection)
    loader.commit_batches(con, sha, source, group)


def _configs(batches: list[Decoded]) -> Iterator[tuple[str, list[Decoded], tuple[derived.Derived, ...], tuple[str, ...], Commit]]:
    both, commit, big_wal = derived.REGISTRY, loader.commit_batch, ("SET wal_autocheckpoint = '1GB'",)
    res = ("service_name", "resource_attributes", "host_name", "tier", "tier_source", "site", "workload",
           "scope_name", "scope_version")
    yield "commit, all derived steps (a transaction per batch)", batches, both, (), commit
    yield "commit, no derived step", batches, (), (), commit
    yield "commit, link maps only", batches, link_maps.TABLES, (), commit
    yield "commit, latency roll-up only", batches, (rollup.TABLE,), (), commit
    appended = tuple(d for d in (*hop_spans.TABLES, *trace_index.TABLES) if d.kind is derived.Kind.APPEND)
    yield "commit, appended tables only (trace index, call ends)", batches, appended, (), commit
    yield "bare spans INSERT (no ledger, no derived)", batches, (), (), _bare_insert
    yield "all steps, threads=1", batches, both, ("SET threads = 1",), commit
    yield "all steps, preserve_insertion_order=false", batches, both, ("SET preserve_insertion_order = false",), commit
    yield "all steps, wal_autocheckpoint=1GB", batches, both, big_wal, commit
    yield "no derived step, wal_autocheckpoint=1GB", batches, (), big_wal, commit
    yield "bare INSERT, wal_autocheckpoint=1GB", batches, (), big_wal, _bare_insert
    for size in ("32MB", "64MB", "128MB", "256MB"):
        yield f"all steps, wal_autocheckpoint={size}", batches, both, (f"SET wal_autocheckpoint = '{size}'",), commit
    yield "all steps, wal_autocheckpoint=1GB, threads=1", batches, both, (*big_wal, "SET threads = 1"), commit
    grouped: Any = _grouped(batches)
    yield "grouped commit (commit_spans, as shipped): all derived steps", grouped, both, (), _commit_group
    yield "grouped commit (commit_spans, as shipped): no derived step", grouped, (), (), _commit_group
    but_dups = tuple(d for d in both if d.table != "trace_root_dups")
    yield "grouped commit (commit_spans, as shipped): all but trace_root_dups", grouped, but_dups, (), _commit_group
    but_entries = tuple(d for d in both if d not in request_entries.TABLES)
    yield "grouped commit (commit_spans, as shipped): all but request_entries", grouped, but_entries, (), _commit_group
    for d in both:  # each table with the tables it reads, then less those alone: its own cost by difference
        alone = tuple(e for e in both if e.table in (*d.reads, d.table))
        yield f"grouped commit (commit_spans, as shipped): {' + '.join(e.table for e in alone)} only", grouped, alone, (), \
            _commit_group
    yield "one batch of all spans: bare INSERT", _merged(batches), (), (), _bare_insert
    json_cols = ("resource_attributes", "scope_attributes", "attributes", "events", "links")
    as_text = tuple(f"ALTER TABLE spans ALTER COLUMN {c} TYPE VARCHAR" for c in json_cols)
    yield "one batch of all spans: bare INSERT, JSON columns as VARCHAR", _merged(batches), (), as_text, _bare_insert
    yield ("one batch of all spans: bare INSERT, JSON columns left NULL", [_without(b, json_cols) for b in _merged(batches)],
           (), (), _bare_insert)
    yield "all steps, resource columns dictionary-encoded", [_dict_encoded(b, res) for b in batches], both, (), commit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=200_000)
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "tierwise-bench-1000000",
                    help="holds bench/ingest.py's traces.jsonl and traces.pb (generate them with it first)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--match", default="", help="only the commit configurations whose label contains this text")
    ap.add_argument("--onto", type=Path, help="commit into a copy of this store instead of a fresh one")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tierwise-commit-"))
    jsonl, pb = _slice(args.data_dir, args.spans, work)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.spans} spans, serial, best of {args.repeat}")
    jb, jcpu = min((decode(jsonl) for _ in range(args.repeat)), key=lambda x: x[1])
    pbb, pcpu = min((decode(pb) for _ in range(args.repeat)), key=lambda x: x[1])
    n = sum(b.spans.num_rows for b in jb if b.spans is not None)
    assert n == args.spans, n
    print(f"{'decode, JSON lines fast path':<50} {jcpu:6.2f} CPU s  {jcpu / n * 1e6:5.1f} µs/span  ({len(jb)} batches)")
    print(f"{'decode, protobuf fast path':<50} {pcpu:6.2f} CPU s  {pcpu / n * 1e6:5.1f} µs/span  ({len(pbb)} batches)")
    del pbb
    parsed, parse_cpu = min((parse_only(pb) for _ in range(args.repeat)), key=lambda x: x[1])
    print(f"{'protobuf parse alone (upb, no field read)':<50} {parse_cpu:6.2f} CPU s  {parse_cpu / parsed * 1e6:5.1f} "
          f"µs/span")
    configs = [c for c in _configs(jb) if args.match in c[0]]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeat):  # round robin, so drifting load on the machine hits every configuration alike
        for label, batches, steps, sql, commit in configs:
            got = commit_all(batches, work, steps, sql, commit, args.onto)
            best[label] = min(best.get(label, got), got)
    for label, (cpu, ckpt) in best.items():
        print(f"{label:<50} {cpu:6.2f} CPU s  {cpu / n * 1e6:5.1f} µs/span  (+ CHECKPOINT {ckpt / n * 1e6:4.1f} µs/span = "
              f"{(cpu + ckpt) / n * 1e6:5.1f})")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for f in work.iterdir():
        f.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
