"""Bill dates in every form exports write: read for sure or quarantined with the reason, never stored as a guess."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import run_cli

from ingest.billing import dates
from ingest.billing.source import install_macros

SHAPES = Path(__file__).parent / "fixtures" / "export_shapes"
MDYY = SHAPES / "focus-excel-mdyy.csv"
AMBIGUOUS = SHAPES / "focus-excel-ambiguous.csv"
AZURE_EA = Path(__file__).parent / "fixtures" / "finops" / "azure-ea-actualcost-small.csv"
D = dt.datetime


@pytest.mark.parametrize(("text", "order", "want"), [
    ("2024-01-01T00:00:00Z", "none", D(2024, 1, 1)),                       # AWS CUR, FOCUS
    ("2023-11-01T05:00:00.000Z", "none", D(2023, 11, 1, 5)),               # legacy CUR
    ("2024-01-01T00:00:00.0000000Z", "none", D(2024, 1, 1)),               # Azure FocusCost
    ("2024-01-01 00:00:00 UTC", "none", D(2024, 1, 1)),                    # BigQuery (GCP export)
    ("2023-11-13T05:00Z", "none", D(2023, 11, 13, 5)),                     # OCI
    ("2024-09-01 00:00:00", "none", D(2024, 9, 1)),                        # FOCUS sample
    ("2024-01-01", "none", D(2024, 1, 1)),                                 # Azure yyyy-MM-dd
    ("2024-1-5", "none", D(2024, 1, 5)),
    ("2024/01/05 3:00", "none", D(2024, 1, 5, 3)),
    ("2024-01-01T05:30:00+05:30", "none", D(2024, 1, 1)),                  # offsets become UTC
    ("2024-01-01T00:00:00-0800", "none", D(2024, 1, 1, 8)),
    ("2024-01-01 00:00:00 +00:00", "none", D(2024, 1, 1)),
    ("2024-01-01T00:00:00,5Z", "none", D(2024, 1, 1, 0, 0, 0, 500000)),
    ("09/21/2023", "none", D(2023, 9, 21)),                                # a part above 12 decides by itself
    ("21/09/2023", "none", D(2023, 9, 21)),
    ("3/3/25", "none", D(2025, 3, 3)),                                     # day = month: one reading
    ("4/1/25", "mdy", D(2025, 4, 1)),                                      # m/d/yy, two-digit year 20yy
    ("4/1/25", "dmy", D(2025, 1, 4)),
    ("09/01/2023", "mdy", D(2023, 9, 1)),                                  # Azure MM/dd/yyyy
    ("04/01/2025 13:45:00", "mdy", D(2025, 4, 1, 13, 45)),                 # mm/dd/yyyy hh:mm:ss
    ("4/1/2025 1:45:00 PM", "mdy", D(2025, 4, 1, 13, 45)),
    ("4/1/2025 12:00:00 AM", "mdy", D(2025, 4, 1)),
])
def test_every_form_exports_write_is_read_in_utc(text: str, order: str, want: dt.datetime) -> None:
    con = duckdb.connect()
    install_macros(con)
    dates.use(con, dates.Order(order, True))
    assert con.execute("SELECT tw_ts($t::VARCHAR)", {"t": text}).fetchall() == [(want,)]


@pytest.mark.parametrize(("text", "order", "words"), [
    ("4/1/25", "none", "is ambiguous: month first it is 2025-04-01, day first 2025-01-04; no row of the file"),
    ("4/5/2025", "conflict", "the file's rows disagree on the order"),
    ("#VALUE!", "mdy", "is not a date-time tierwise reads"),
    ("2024-02-30", "mdy", "is not a date-time tierwise reads"),
    ("2024-01-01T00:00:00+25:00", "mdy", "is not a date-time tierwise reads"),
    ("2024-01-01 00:00:00 PST", "mdy", "is not a date-time tierwise reads"),
    ("0025-04-01", "mdy", "is read as 0025-04-01, outside the years 2000 to 2100"),
    ("4/3/1925", "mdy", "is read as 1925-04-03, outside the years 2000 to 2100"),
    ("2101-01-02", "mdy", "outside the years 2000 to 2100"),
])
def test_what_cannot_be_read_for_sure_is_not_a_period_and_says_why(text: str, order: str, words: str) -> None:
    con = duckdb.connect()
    install_macros(con)
    dates.use(con, dates.Order(order, True))
    ok, why = con.execute("SELECT tw_period_ok(tw_ts($t::VARCHAR)), tw_date_reason($t::VARCHAR, $o)",
                          {"t": text, "o": order}).fetchall()[0]
    assert not ok
    assert f"'{text}'" in why and words in why, why


def _ingest(db: Path, *files: Path) -> str:
    return str(run_cli("ingest", "--quiet", "--db", str(db), *map(str, files)).output)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_focus_export_with_m_d_yy_dates_is_stored_in_2025_and_its_broken_dates_quarantined(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    out = _ingest(db, MDYY)
    assert "39 accepted, 3 rejected" in out and "row 5, 8, 11" in out, out
    assert _query(db, "SELECT min(ChargePeriodStart), max(ChargePeriodEnd), min(BillingPeriodStart), "
                      "max(BillingPeriodEnd), count(*) FROM costs") == [
        (D(2025, 4, 1), D(2025, 4, 15), D(2025, 4, 1), D(2025, 5, 1), 39)]
    quarantined = _query(db, "SELECT record_no, field, reason FROM quarantine ORDER BY record_no")
    assert [(n, f) for n, f, _ in quarantined] == [(5, "ChargePeriodStart"), (8, "ChargePeriodStart"),
                                                    (11, "ChargePeriodEnd")]
    assert "'#VALUE!' is not a date-time" in str(quarantined[0][2])
    assert "'4/3/1925 0:00' is read as 1925-04-03, outside the years 2000 to 2100" in str(quarantined[1][2])
    assert "'4/31/25 0:00' is not a date-time" in str(quarantined[2][2])
    listed = run_cli("quarantine", "--db", str(db)).output
    assert f"{MDYY}:8: row ChargePeriodStart: '4/3/1925 0:00'" in listed


def test_months_reconciliation_and_the_focus_export_see_2025(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(db, MDYY)
    recon = json.loads(run_cli("query", "cost_reconciliation", "--db", str(db), "--format", "json").output)
    assert [(r["billing_period_start"][:10], r["ledger_rows"], r["quarantined_rows"]) for r in recon] == [
        ("2025-04-01", 39, 3)]
    out = tmp_path / "focus.csv"
    assert run_cli("export", "focus", "--db", str(db), "--out", str(out)).exit_code == 0
    text = out.read_text()
    assert "2025-04-01T00:00:00Z" in text and "0004-" not in text and "0001-" not in text and "1925-" not in text


def test_a_file_whose_dates_are_all_ambiguous_stores_none_of_them(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert "0 accepted, 4 rejected" in _ingest(db, AMBIGUOUS)
    reasons = [str(r[0]) for r in _query(db, "SELECT reason FROM quarantine")]
    assert all("is ambiguous" in r and "no row of the file has a day above 12" in r for r in reasons), reasons


def test_rows_deciding_the_order_after_the_first_thousand_still_decide_it(tmp_path: Path) -> None:
    lines = MDYY.read_text().splitlines()
    header, first = lines[0], lines[1]
    iso = first.replace("4/1/25,5/1/25,4/1/25 0:00,4/2/25 0:00", "2025-04-01,2025-05-01,2025-04-01,2025-04-02")
    late = tmp_path / "late.csv"
    late.write_text("\n".join([header, *[iso] * 1200, *lines[1:]]) + "\n")
    db = tmp_path / "s.duckdb"
    assert "1239 accepted, 3 rejected" in _ingest(db, late)
    assert _query(db, "SELECT count(*) FROM costs WHERE ChargePeriodStart = '2025-04-12'") == [(3,)]


def test_a_file_whose_rows_disagree_on_the_order_keeps_only_what_reads_one_way(tmp_path: Path) -> None:
    lines = MDYY.read_text().splitlines()
    mixed = tmp_path / "mixed.csv"  # one row written day first: 13/4/25
    mixed.write_text("\n".join([lines[0], lines[1].replace("4/1/25 0:00,4/2/25 0:00", "13/4/25 0:00,4/14/25 0:00"),
                                *lines[2:]]) + "\n")
    db = tmp_path / "s.duckdb"
    _ingest(db, mixed)
    reasons = [str(r[0]) for r in _query(db, "SELECT reason FROM quarantine WHERE reason LIKE '%ambiguous%'")]
    assert reasons and all("the file's rows disagree on the order" in r for r in reasons)
    assert _query(db, "SELECT count(*) FROM costs WHERE day(ChargePeriodStart) <= 12 "
                      "AND day(ChargePeriodStart) <> month(ChargePeriodStart)") == [(0,)]


def test_an_azure_export_written_day_first_is_read_day_first_though_azure_documents_month_first(
        tmp_path: Path) -> None:
    text = AZURE_EA.read_text(encoding="utf-8-sig")
    swapped = tmp_path / "azure-dmy.csv"  # what a European spreadsheet writes: 09/21/2023 becomes 21/09/2023
    swapped.write_text("".join(
        part if i % 2 == 0 else f"{part[3:5]}/{part[0:2]}/{part[6:]}"
        for i, part in enumerate(_split_dates(text))), encoding="utf-8")
    db_us, db_eu = tmp_path / "us.duckdb", tmp_path / "eu.duckdb"
    _ingest(db_us, AZURE_EA)
    _ingest(db_eu, swapped)
    sql = "SELECT x_SourceRow, ChargePeriodStart, BillingPeriodStart, BillingPeriodEnd FROM costs ORDER BY 1"
    assert _query(db_eu, sql) == _query(db_us, sql) and _query(db_us, sql)


def _split_dates(text: str) -> list[str]:
    """`text` cut around each MM/dd/yyyy date: even parts are the text between, odd parts the dates."""
    return re.split(r"(\b\d{2}/\d{2}/\d{4}\b)", text)
