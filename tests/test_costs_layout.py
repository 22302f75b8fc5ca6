"""The cost ledger's physical layout (migration 0008): `costs` shows exactly the rows a wide insert writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ingest_helpers import FIXTURES, isolated
from ledger_support import REQUIRED

import store
from ingest.billing import ledger
from ingest.files.route import ingest_any
from ingest.remap.costs import MAPPED  # a mapping rule's values beside the bill's (migration 0017)
from ingest.sinks.loader import FileResult
from queries import registry
from queries.engines.duckdb_engine import DuckDBEngine
from store.settings import load_settings

SAMPLE_BILLS = Path(__file__).resolve().parents[1] / "sample_data" / "committed" / "bills"
# every billing format tierwise reads: FOCUS, CUR legacy and 2.0 (CSV, gzip, Parquet), Azure EA/MCA actual and
# amortized, GCP (JSON lines, Parquet), OCI, and rate cards
BILLS = sorted(p for p in (FIXTURES / "finops").iterdir() if p.suffix != ".md") + [
    FIXTURES / "finops_tiny" / "daily-focus.csv", FIXTURES / "tiny_store" / "bills-focus.csv",
    *sorted(SAMPLE_BILLS.iterdir())]
PERIOD = "2025-11-01T00:00:00Z,2025-12-01T00:00:00Z"


def _load(db: Path, files: list[Path]) -> list[FileResult]:
    con = store.open_writer(db)
    try:
        return [ingest_any(con, f, load_settings(db=db, env={})) for f in files]
    finally:
        con.close()


def _load_wide(db: Path, files: list[Path]) -> list[FileResult]:
    """The layout before 0008: every accepted row written whole (no file is ever found constant)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ledger, "reference", lambda *a, **k: None)
        return _load(db, files)


def _rows(con: duckdb.DuckDBPyConnection, table: str = "costs") -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every bill loaded as tierwise loads it, and the same bills loaded wide."""
    work = tmp_path_factory.mktemp("layout")
    with isolated(work):
        for db, load in ((work / "split.duckdb", _load), (work / "wide.duckdb", _load_wide)):
            assert {r.status for r in load(db, BILLS)} == {"complete"}
    return work / "split.duckdb", work / "wide.duckdb"


@pytest.fixture
def split(stores: tuple[Path, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = store.connect(stores[0], read_only=True)
    con.execute("ATTACH $p AS wide (READ_ONLY)", {"p": str(stores[1])})
    yield con
    con.close()


def test_the_view_holds_exactly_the_rows_a_wide_insert_writes(split: duckdb.DuckDBPyConnection) -> None:
    old = [(r[0], r[1], r[2]) for r in split.execute("DESCRIBE costs_wide").fetchall() if r[0] not in MAPPED]
    assert [(r[0], r[1]) for r in split.execute("DESCRIBE costs").fetchall()] == [(n, t) for n, t, _ in old]
    assert len(old) == 77 and split.execute("DESCRIBE wide.costs").fetchall() == split.execute(
        "DESCRIBE costs").fetchall()
    got, want = _rows(split), _rows(split, "wide.costs")
    assert len(got) == len(want) > 5000 and got == want
    assert split.execute("SELECT count(*) FROM wide.costs_narrow").fetchall() == [(0,)]
    # the split is real: every native format and a FOCUS file loaded narrow, files whose per-file columns vary wide
    narrow = {f for (f,) in split.execute("SELECT DISTINCT x_SourceFormat FROM costs_files").fetchall()}
    assert {"aws-cur-legacy", "aws-cur2", "azure-cost", "gcp-billing", "oci-cost", "focus-1.0"} <= narrow
    assert split.execute("SELECT count(*) FROM costs_narrow").fetchall()[0][0] > len(got) / 2
    wide = {f for (f,) in split.execute("SELECT DISTINCT x_SourceFile FROM costs_wide").fetchall()}
    assert str(FIXTURES / "finops" / "focus-1.0-sample-1000.csv") in wide  # six providers in one file
    assert str(SAMPLE_BILLS / "rate-card.yaml") in wide  # per-site columns


def test_the_split_covers_every_ledger_column_once(split: duckdb.DuckDBPyConnection) -> None:
    def columns(table: str) -> dict[str, tuple[str, str]]:
        return {str(n): (str(t), str(null)) for n, t, null in split.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $t "
            "AND column_name <> $k", {"t": table, "k": ledger.FILE_KEY}).fetchall()}

    wide, narrow, files = (columns(t) for t in (ledger.WIDE, ledger.NARROW, ledger.FILES))
    assert not narrow.keys() & files.keys() and narrow | files == wide  # same types, same NOT NULLs
    assert set(ledger.layout(split).per_file) == set(files) >= set(ledger.SOURCE_COLUMNS)
    assert set(REQUIRED) <= {n for n, (_, null) in wide.items() if null == "NO"}


def _varied(tmp_path: Path, name: str, next_period: bool = True) -> Path:
    """daily-focus.csv whose last row is in the next billing period, plus a row with a broken BilledCost."""
    lines = (FIXTURES / "finops_tiny" / "daily-focus.csv").read_text("utf-8").splitlines()
    assert lines[-1].count(PERIOD) == 1
    if next_period:
        lines[-1] = lines[-1].replace(PERIOD, "2025-12-01T00:00:00Z,2026-01-01T00:00:00Z")
    lines.append("abc," + lines[1].split(",", 1)[1])
    out = tmp_path / name
    out.write_text("\n".join(lines) + "\n", "utf-8")
    return out


@pytest.mark.parametrize("sample_rows", [2, ledger.SAMPLE_ROWS], ids=["varies-after-the-sample", "varies-in-it"])
def test_a_file_whose_per_file_column_varies_lands_wide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         sample_rows: int) -> None:
    bill = _varied(tmp_path, "two-periods.csv")
    _load_wide(tmp_path / "want.duckdb", [bill])
    attempts: list[dict[str, object]] = []
    real_add = ledger.add_file
    monkeypatch.setattr(ledger, "SAMPLE_ROWS", sample_rows)
    monkeypatch.setattr(ledger, "add_file", lambda con, lay, ref, src: attempts.append(dict(ref)) or real_add(
        con, lay, ref, src))
    (res,) = _load(tmp_path / "got.duckdb", [bill])
    assert (res.status, res.accepted, res.rejected) == ("complete", 9, 1)
    # with a 2-row sample the narrow write starts, meets the December row, rolls back and writes wide
    assert len(attempts) == (1 if sample_rows == 2 else 0)
    con = store.connect(tmp_path / "got.duckdb", read_only=True)
    con.execute("ATTACH $p AS want (READ_ONLY)", {"p": str(tmp_path / "want.duckdb")})
    try:
        assert [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ledger.TABLES] == [9, 0, 0]
        assert _rows(con) == _rows(con, "want.costs")
        for table in ("billing_source_totals", "quarantine"):
            keep = "* EXCLUDE (quarantined_at)" if table == "quarantine" else "*"
            assert _rows(con, f"(SELECT {keep} FROM {table})") == _rows(con, f"(SELECT {keep} FROM want.{table})")
        periods = con.execute("SELECT BillingPeriodStart::VARCHAR, count(*) FROM costs GROUP BY 1 ORDER BY 1")
        assert periods.fetchall() == [("2025-11-01 00:00:00", 8), ("2025-12-01 00:00:00", 1)]
    finally:
        con.close()


def test_migration_keeps_rows_written_in_the_old_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        stores: tuple[Path, Path]) -> None:
    every = store.migrations()
    monkeypatch.setattr(store, "migrations", lambda: tuple(m for m in every if m.version < 8))
    con = store.connect(tmp_path / "old.duckdb")
    store.migrate(con)
    monkeypatch.setattr(store, "migrations", lambda: every)
    assert con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'costs'").fetchall() == [
        ("BASE TABLE",)]
    con.execute("ATTACH $p AS src (READ_ONLY)", {"p": str(stores[1])})
    for table in ("costs", "billing_source_totals", "ingest_files", "ingest_batches", "quarantine"):
        con.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    con.execute("DETACH src")
    before, links = _rows(con), _rows(con, "cost_links")
    try:
        assert "0008_costs_layout" in store.migrate(con)
        assert _rows(con) == before and _rows(con, "cost_links") == links and len(before) > 5000
        assert [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ledger.TABLES] == [len(before), 0, 0]
        # the migrated store takes new bills narrow beside the old rows, and knows the old files
        settings = load_settings(db=tmp_path / "old.duckdb", env={})
        assert ingest_any(con, BILLS[0], settings).status == "already-ingested"
        assert ingest_any(con, _varied(tmp_path, "new.csv", next_period=False), settings).status == "complete"
        assert [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ledger.TABLES] == [len(before), 9, 1]
        wide = f"(SELECT * EXCLUDE ({', '.join(MAPPED)}) FROM {ledger.WIDE})"
        assert _rows(con, wide) == before and len(_rows(con)) == len(before) + 9
    finally:
        con.close()


def test_reingest_adds_nothing_and_money_reconciles(tmp_path: Path) -> None:
    single = _varied(tmp_path, "one-period.csv", next_period=False)  # loaded narrow, with its reject
    bills = [FIXTURES / "finops" / "aws-cur-legacy-anon-sample.csv", FIXTURES / "finops" / "oci-cost-report-sample.csv",
             FIXTURES / "finops" / "azure-ea-amortizedcost-small.csv", _varied(tmp_path, "two-periods.csv"), single]
    db = tmp_path / "store.duckdb"
    assert [r.status for r in _load(db, bills)] == ["complete"] * len(bills)
    con = store.connect(db)
    try:
        def snapshot() -> list[object]:
            return [_rows(con), *(con.execute(f"SELECT count(*) FROM {t}").fetchall() for t in (
                *ledger.TABLES, "billing_source_totals", "quarantine", "ingest_batches"))]

        first = snapshot()
        narrow_files = {f for (f,) in con.execute(f"SELECT x_SourceFile FROM {ledger.FILES}").fetchall()}
        assert str(single) in narrow_files and str(bills[3]) not in narrow_files and len(narrow_files) == 4
        again = [ingest_any(con, f, load_settings(db=db, env={})) for f in bills]
        assert {r.status for r in again} == {"already-ingested"} and snapshot() == first

        recon = registry.run(DuckDBEngine(con), "cost_reconciliation")
        assert recon["source_rows"].sum() == recon["ledger_rows"].sum() + 2 == len(first[0]) + 2  # two rejects
        for r in recon.iter_rows(named=True):
            assert r["ledger_billed_usd"] == r["linked_billed_usd"] + r["unallocated_billed_usd"]
        # each file's source total is its native BilledCost: what reached the ledger plus what was quarantined
        for path in (single, bills[3]):
            native = con.execute("SELECT sum(TRY_CAST(BilledCost AS DECIMAL(38, 15))) FROM read_csv($p, "
                                 "all_varchar = true)", {"p": str(path)}).fetchall()[0][0]
            totals = con.execute("SELECT sum(billed_cost), sum(rows_read) FROM billing_source_totals "
                                 "WHERE source = $s", {"s": str(path)}).fetchall()[0]
            ledger_sum = con.execute("SELECT sum(BilledCost), count(*) FROM costs WHERE x_SourceFile = $s",
                                     {"s": str(path)}).fetchall()[0]
            assert totals == (native, 10) and ledger_sum == (native, 9)
    finally:
        con.close()
