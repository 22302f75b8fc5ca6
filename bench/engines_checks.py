"""bench/engines.py's side checks: the roll-up step's ingest overhead and the roll-up's error against exact percentiles."""

from __future__ import annotations

import time
from pathlib import Path


def fold_overhead(files: list[Path], work: Path) -> None:
    """Ingest the same OTLP files with and without the roll-up step: CPU seconds of each, rows per million spans."""
    import store
    from ingest.sinks import loader
    from store import derived
    from store.derived import rollup
    from store.settings import load_settings

    steps = derived.REGISTRY
    for label, chosen in (("without roll-up step", tuple(d for d in steps if d is not rollup.TABLE)),
                          ("with roll-up step", steps)):
        db = work / f"fold-{len(chosen)}.duckdb"
        db.unlink(missing_ok=True)
        derived.REGISTRY = chosen
        con = store.open_writer(db)
        cpu, t = time.process_time(), time.perf_counter()
        for f in files:
            loader.ingest_file(con, f, load_settings(db=db, env={}), workers=1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - t
        spans = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {rollup.REQUESTS_SQL}) FROM spans").fetchall()[0]
        rows = dict(con.execute("SELECT width_ns // 60000000000, count(*) FROM latency_rollup GROUP BY 1").fetchall())
        batches = con.execute("SELECT count(*) FROM ingest_batches").fetchall()[0][0]
        con.close()
        print(f"{label}: {spans[0]:,} spans ({spans[1]:,} requests) in {batches} batches, {cpu:.1f} CPU s, "
              f"{wall:.1f} s wall; roll-up rows minute {rows.get(1, 0):,} day {rows.get(1440, 0):,} "
              f"({rows.get(1, 0) / spans[0] * 1e6:,.0f} and {rows.get(1440, 0) / spans[0] * 1e6:,.0f} per million spans)")
    derived.REGISTRY = steps


def accuracy(db: Path, chdir: Path) -> None:
    """How far the roll-up's percentiles are from exact ones, and whether chdb's roll-up answers equal DuckDB's."""
    import polars as pl

    from queries import registry
    from queries.engines import engine
    from queries.engines.duckdb_engine import DuckDBEngine

    duck = DuckDBEngine.open(db)
    ch = engine.ClickHouseEngine.open(f"chdb://{chdir}")
    for exact, rolled, params, keys in (("latency_by_tier", "latency_rollup_by_tier", {}, ["tier"]),
                                        ("latency_over_time", "latency_rollup_over_time", {"bucket": "day"},
                                         ["day", "tier"]),
                                        ("latency_by_group", "latency_rollup_by_group", {"bucket": "day"},
                                         ["day", "tier", "site", "workload", "service_name", "operation"])):
        values = {p.name: params.get(p.name, p.resolved_default()) for p in registry.get(rolled).params}
        r = registry.fetch(duck, rolled, values)
        e = registry.fetch(duck, exact, {p.name: params.get(p.name, p.resolved_default())
                                         for p in registry.get(exact).params})
        if "bucket_start_ns" in r.columns:
            r = r.with_columns(pl.from_epoch("bucket_start_ns", "ns").dt.date().alias("day"))
            e = e.with_columns(pl.col("bucket_start").dt.date().alias("day"))
        j = r.join(e, on=keys, how="inner", nulls_equal=True)
        errs = {c: float(j.select(((pl.col(c) - pl.col(f"{c}_right")) / pl.col(f"{c}_right")).abs().max()).item() or 0)
                for c in ("p50_ms", "p95_ms", "p99_ms") if c in e.columns}  # latency_over_time has no p99
        same_n = bool((j["requests"] == j["requests_right"]).all()) and j.height == e.height == r.height
        c = registry.fetch(ch, rolled, values)
        ordered = c.columns[:len(keys)]
        both = pl.concat([c.sort(ordered, nulls_last=True).select(pl.col("p50_ms", "p95_ms", "p99_ms")),
                          r.sort(ordered, nulls_last=True).select(pl.col("p50_ms", "p95_ms", "p99_ms").name.suffix("_d"))],
                         how="horizontal")
        drift = max(float(both.select((pl.col(x) - pl.col(f"{x}_d")).abs().max()).item() or 0)
                    for x in ("p50_ms", "p95_ms", "p99_ms"))
        print(f"{rolled} vs {exact}: {j.height} groups, same requests: {same_n}, max relative error "
              + ", ".join(f"{k} {v:.5%}" for k, v in errs.items()) + f"; chdb vs DuckDB roll-up max |Δ| {drift:.3g} ms")
    ch.close()
