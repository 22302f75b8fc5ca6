"""The link-count tables folded in per span batch equal a full recompute, and cost_links links as migration 0002 did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from ingest_helpers import frozen_backfill
from ledger_support import insert_cost

import store
from ingest.sinks import loader
from store import derived
from store.settings import Settings

SMALL_BATCH = 6_000  # bytes: each file spans several batches
WORKLOADS = ("assistant", "vision", "search")
TIERS = ("edge", "regional", "device")


def _line(file_no: int, line: int) -> bytes:
    """One resource with eight spans; keys overlap across lines and files so counts accumulate and compete."""
    n = file_no * 100 + line
    res = [{"key": "service.name", "value": {"stringValue": f"svc-{n % 4}"}},
           {"key": "tierwise.tier", "value": {"stringValue": TIERS[n % 3]}},
           {"key": "host.name", "value": {"stringValue": f"host-{n % 5}"}}]
    if n % 2:
        res.append({"key": "k8s.node.name", "value": {"stringValue": f"node-{n % 3}"}})
    if n % 3 == 0:
        res.append({"key": "cloud.resource_id", "value": {"stringValue": f"arn:vm/{n % 4}"}})
    if n % 4 != 3:
        res.append({"key": "tierwise.site", "value": {"stringValue": f"site-{n % 6}"}})
    spans = []
    for i in range(8):
        start = 1_764_000_000_000_000_000 + n * 1_000_000_000 + i
        attrs = [] if (n + i) % 9 == 0 else [{"key": "tierwise.workload",
                                              "value": {"stringValue": WORKLOADS[(n + i) % 3]}}]
        spans.append({"traceId": f"{n:016x}{i:016x}", "spanId": f"{n:08x}{i:08x}", "name": "op", "kind": 2,
                      "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1_000_000),
                      "attributes": attrs})
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": res},
                                            "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})


def _file(path: Path, file_no: int) -> Path:
    path.write_bytes(b"\n".join(_line(file_no, n) for n in range(24)) + b"\n")
    return path


def _ingest(db: Path, path: Path) -> loader.FileResult:
    con = store.open_writer(db)
    try:
        return loader.ingest_file(con, path, Settings(db_path=db, batch_bytes=SMALL_BATCH, commit_spans=1), workers=0)
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("link_resource_counts", "link_site_counts")}


def _cost_rows(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT ResourceId, x_SiteId, link_workload, link_tier, link_method FROM {view} "
                       "ORDER BY ALL").fetchall()


def test_incremental_counts_equal_a_full_recompute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.duckdb"
    first = _ingest(db, _file(tmp_path / "a.jsonl", 1))
    assert first.batches_committed >= 3, "each file must span several batches for this test to mean anything"
    assert _ingest(db, tmp_path / "a.jsonl").status == "already-ingested"  # a re-ingest adds nothing
    copy = _file(tmp_path / "a-again.jsonl", 1)
    copy.write_bytes(copy.read_bytes() + b"\n")  # same spans, other content: counted again, as spans are
    _ingest(db, copy)

    # a file whose third batch dies mid-commit: the derived tables roll back with the spans, then it resumes
    real = derived.refresh
    calls = {"n": 0}

    def crash_on_third(con: duckdb.DuckDBPyConnection, view: str) -> None:
        calls["n"] += 1
        real(con, view)
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(derived, "refresh", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        _ingest(db, _file(tmp_path / "b.jsonl", 2))
    monkeypatch.setattr(derived, "refresh", real)
    resumed = _ingest(db, tmp_path / "b.jsonl")
    assert resumed.batches_resumed == 2 and resumed.status == "complete"

    con = duckdb.connect(str(db))
    try:
        spans = con.execute("SELECT count(*) FROM spans").fetchone()
        assert spans == (3 * 24 * 8,)
        incremental = _tables(con)
        assert len(incremental["link_resource_counts"]) > 20 and len(incremental["link_site_counts"]) > 10
        derived.rebuild(con, ["link_resource_counts", "link_site_counts"])
        assert _tables(con) == incremental
    finally:
        con.close()


def test_cost_links_link_as_migration_0002_did(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    _ingest(db, _file(tmp_path / "a.jsonl", 1))
    con = duckdb.connect(str(db))
    try:
        keys = ["host-1", "node-2", "arn:vm/0", "nowhere", None, "host-3"]
        sites = [None, "site-1", "site-4", "site-3", "site-9", None]
        for i, (key, site) in enumerate(zip(keys, sites, strict=True)):
            insert_cost(con, ResourceId=key, x_SiteId=site, x_Workload="tagged" if i == 5 else None)
        old = Path(store.__file__).parent / "migrations" / "0002_costs.sql"
        text = old.read_text("utf-8")
        con.execute(text[text.index("CREATE VIEW cost_links"):].replace("CREATE VIEW cost_links",
                                                                        "CREATE TEMP VIEW cost_links_0002"))
        # 0002 broke ties between equally common (workload, tier) arbitrarily; 0004 takes the first by name
        tied = {t: {k for (k,) in con.execute(
            f"SELECT {c} FROM (SELECT {c}, spans, max(spans) OVER (PARTITION BY {c}) AS top FROM {t}) "
            f"WHERE spans = top GROUP BY {c} HAVING count(*) > 1").fetchall()}
            for t, c in (("link_resource_counts", "resource_key"), ("link_site_counts", "site"))}

        def untied(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            return [r for r in rows if not (r[4] == "resource" and r[0] in tied["link_resource_counts"])
                    and not (r[4] == "site" and r[1] in tied["link_site_counts"])]

        got = _cost_rows(con, "cost_links")
        assert untied(got) == untied(_cost_rows(con, "cost_links_0002"))
        assert {r[4] for r in untied(got)} == {"tag", "resource", "site", "unallocated"}
        for key, site, workload, tier, method in got:
            table, col, value = (("link_resource_counts", "resource_key", key) if method == "resource"
                                 else ("link_site_counts", "site", site))
            if method in ("resource", "site"):
                best = con.execute(f"SELECT workload, tier FROM {table} WHERE {col} = $v "
                                   "ORDER BY spans DESC, workload, tier LIMIT 1", {"v": value}).fetchone()
                assert (workload, tier) == best
    finally:
        con.close()


def test_rebuild_is_migration_0004s_backfill(tmp_path: Path) -> None:
    """link_maps.rebuild (the Python-side definition) counts exactly what migration 0004's frozen backfill counts."""
    db = tmp_path / "store.duckdb"
    _ingest(db, _file(tmp_path / "a.jsonl", 1))
    _ingest(db, _file(tmp_path / "b.jsonl", 2))
    con = duckdb.connect(str(db))
    try:
        derived.rebuild(con, ["link_resource_counts", "link_site_counts"])
        ours = _tables(con)
        for table in ("link_resource_counts", "link_site_counts"):
            frozen = frozen_backfill(con, "0004_link_maps.sql", table)
            assert len(frozen) > 10 and frozen == ours[table], table
    finally:
        con.close()
