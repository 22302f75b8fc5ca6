"""Native exports without a real public sample: Azure MCA and FocusCost, GCP JSON lines and Parquet, CUR 2.0."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import store
from ingest.billing.detect import detect
from ingest.files.route import ingest_any
from store.settings import load_settings

FINOPS = Path(__file__).parent / "fixtures" / "finops"
MCA_ACTUAL = FINOPS / "azure-mca-actualcost-reconstructed.csv"
MCA_AMORTIZED = FINOPS / "azure-mca-amortizedcost-reconstructed.csv"
AZ_FOCUS = FINOPS / "azure-focuscost-1.0r2-reconstructed.csv"
GCP_JSONL = FINOPS / "gcp-billing-export-reconstructed.jsonl"
GCP_PARQUET = FINOPS / "gcp-billing-export-reconstructed.parquet"
CUR2_CSV = FINOPS / "aws-cur2-from-legacy-sample.csv.gz"
CUR2_PARQUET = FINOPS / "aws-cur2-from-legacy-sample.parquet"
CUR_LEGACY = FINOPS / "aws-cur-legacy-anon-sample.csv"
NATIVE = {MCA_ACTUAL: ("azure-cost", "csv"), MCA_AMORTIZED: ("azure-cost", "csv"), AZ_FOCUS: ("focus", "csv"),
          GCP_JSONL: ("gcp-billing", "jsonl"), GCP_PARQUET: ("gcp-billing", "parquet"),
          CUR2_CSV: ("aws-cur2", "csv.gz"), CUR2_PARQUET: ("aws-cur2", "parquet")}


def csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def dec(v: object) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal(0)


def expected(path: Path) -> tuple[int, Decimal, Decimal]:
    """Rows, Σ BilledCost and Σ EffectiveCost computed straight from the raw file by the documented rules."""
    if path in (MCA_ACTUAL, MCA_AMORTIZED):
        data = csv_rows(path)
        commit = [r["pricingModel"] in ("Reservation", "SavingsPlan") for r in data]
        cost = [dec(r["costInBillingCurrency"]) for r in data]
        amortized = any(c and r["chargeType"] in ("Usage", "UnusedReservation") and a != 0
                        for r, c, a in zip(data, commit, cost, strict=True))
        billed = sum((Decimal(0) if amortized and c and r["chargeType"] != "Purchase" else a
                      for r, c, a in zip(data, commit, cost, strict=True)), Decimal(0))
        effective = sum((Decimal(0) if c and r["chargeType"] == "Purchase" else a
                         for r, c, a in zip(data, commit, cost, strict=True)), Decimal(0))
        return len(data), billed, effective
    if path == AZ_FOCUS:
        data = csv_rows(path)
        return (len(data), sum((dec(r["BilledCost"]) for r in data), Decimal(0)),
                sum((dec(r["EffectiveCost"]) for r in data), Decimal(0)))
    if path in (GCP_JSONL, GCP_PARQUET):
        docs = [json.loads(line) for line in GCP_JSONL.read_text().splitlines()]
        billed = sum((dec(d["cost"]) for d in docs), Decimal(0))
        credits = sum((dec(c["amount"]) for d in docs for c in d["credits"]), Decimal(0))
        return len(docs), billed, billed + credits
    legacy = csv_rows(CUR_LEGACY)[:300]  # the CUR 2.0 fixtures are these rows renamed (SOURCE.md)
    total = sum((dec(r["lineItem/UnblendedCost"]) for r in legacy), Decimal(0))
    return len(legacy), total, total


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path_factory.mktemp("native") / "store.duckdb"
    con = store.open_writer(db)
    for f in (*NATIVE, CUR_LEGACY):
        res = ingest_any(con, f, load_settings(db=db, env={}))
        assert (res.status, res.rejected) == ("complete", 0), (f.name, res)
    yield con
    con.close()


def test_native_exports_are_recognised_by_their_columns(tmp_path: Path) -> None:
    for path, (fmt, container) in NATIVE.items():
        renamed = tmp_path / f"export-{len(path.name)}"
        renamed.write_bytes(path.read_bytes())
        det = detect(renamed)
        assert det is not None and (det.fmt, det.container) == (fmt, container), path.name


@pytest.mark.parametrize("path", list(NATIVE), ids=lambda p: p.name)
def test_native_exports_load_to_the_cent(ledger: duckdb.DuckDBPyConnection, path: Path) -> None:
    n, billed, effective = expected(path)
    got = ledger.execute("SELECT count(*), sum(BilledCost), sum(EffectiveCost), count(*) FILTER (WHERE "
                         "ChargePeriodStart IS NULL OR BillingPeriodStart IS NULL) FROM costs WHERE x_SourceFile = $f",
                         {"f": str(path)}).fetchall()[0]
    assert got[0] == n
    assert abs(got[1] - billed) < Decimal("1e-9") and abs(got[2] - effective) < Decimal("1e-9")
    assert got[3] == 0
    src = ledger.execute("SELECT sum(rows_read), sum(billed_cost) FROM billing_source_totals WHERE source = $f",
                         {"f": str(path)}).fetchall()[0]
    assert (src[0], round(src[1], 2)) == (n, round(billed, 2))


def test_azure_mca_keeps_invoiced_and_amortized_money_apart(ledger: duckdb.DuckDBPyConnection) -> None:
    def rows(path: Path) -> list[tuple[object, ...]]:
        return ledger.execute(
            "SELECT ChargeCategory, PricingCategory, CommitmentDiscountStatus, BilledCost, EffectiveCost, "
            "x_TransferDirection FROM costs WHERE x_SourceFile = $f ORDER BY x_SourceRow", {"f": str(path)}).fetchall()
    actual, amortized = rows(MCA_ACTUAL), rows(MCA_AMORTIZED)
    assert actual[1][:5] == ("Usage", "Committed", "Used", Decimal(0), Decimal(0))        # covered hours, actual view
    assert actual[4][:5] == ("Purchase", "Committed", None, Decimal("2803.68"), Decimal(0))
    assert actual[2][5] == "internet_out"                                                 # Bandwidth meter
    names = ledger.execute("SELECT ServiceName FROM costs WHERE x_SourceFile = $f ORDER BY x_SourceRow",
                           {"f": str(MCA_ACTUAL)}).fetchall()
    assert names[4] == ("Compute",)   # the purchase has no meter category: its service family names it
    assert amortized[3][:5] == ("Usage", "Committed", "Used", Decimal(0), Decimal("7.68"))
    assert amortized[4][:5] == ("Usage", "Committed", "Unused", Decimal(0), Decimal("7.68"))
    meta = ledger.execute("SELECT DISTINCT BillingAccountId, BillingPeriodStart::VARCHAR, BillingPeriodEnd::VARCHAR "
                          "FROM costs WHERE x_SourceFile = $f", {"f": str(MCA_ACTUAL)}).fetchall()
    assert meta == [("ABCD-EF12-BG7-TGB", "2026-02-01 00:00:00", "2026-03-01 00:00:00")]   # MCA billing profile
    linked = ledger.execute("SELECT x_Workload, x_Tier FROM costs WHERE x_SourceFile = $f AND x_SourceRow = 1",
                            {"f": str(MCA_ACTUAL)}).fetchall()
    assert linked == [("assistant", "regional")]


def test_azure_focus_export_keeps_microsoft_columns_for_egress(ledger: duckdb.DuckDBPyConnection) -> None:
    got = ledger.execute("SELECT x_SourceFormat, ChargeCategory, BilledCost, EffectiveCost, x_TransferDirection, "
                         "x_UsageType FROM costs WHERE x_SourceFile = $f ORDER BY x_SourceRow",
                         {"f": str(AZ_FOCUS)}).fetchall()
    assert {g[0] for g in got} == {"focus-1.0"}
    assert [g[4] for g in got] == [None, None, "internet_out", None]
    assert got[3][1:4] == ("Purchase", Decimal("2803.68"), Decimal(0))
    assert got[2][5] == "Bandwidth"   # x_SkuMeterCategory kept where x_UsageType is absent


def test_gcp_usage_units_follow_focus_unit_format(ledger: duckdb.DuckDBPyConnection) -> None:
    docs = [json.loads(line) for line in GCP_JSONL.read_text().splitlines()]
    egress = next(d for d in docs if "Internet Egress" in d["sku"]["description"])
    assert egress["usage"]["unit"] == "bytes" and egress["usage"]["pricing_unit"] == "gibibyte"
    cols = ("x_SourceRow, ConsumedQuantity, ConsumedUnit, PricingQuantity, PricingUnit, x_TransferDirection, "
            "BilledCost, EffectiveCost, ChargeCategory, ChargePeriodStart, ResourceId, Tags::VARCHAR")
    by_file = {p: ledger.execute(f"SELECT {cols} FROM costs WHERE x_SourceFile = $f ORDER BY x_SourceRow",
                                 {"f": str(p)}).fetchall() for p in (GCP_JSONL, GCP_PARQUET)}
    assert by_file[GCP_JSONL] == by_file[GCP_PARQUET]     # the same BigQuery table, dumped two ways
    units = {r[0]: r[1:6] for r in by_file[GCP_JSONL]}
    # bytes → decimal GB (10^9 bytes), comparable with AWS / Azure / FOCUS `GB`; the price's GiB stays in Pricing*
    assert units[2] == (Decimal(egress["usage"]["amount"]) / 10**9, "GB", Decimal(10), "GiB", "internet_out")
    assert units[3][1] == "GB" and units[3][4] == "cross_zone"
    assert units[1][:4] == (Decimal(1), "Hours", Decimal(1), "Hours")          # 3600 GPU seconds
    assert (units[4][1], units[4][3]) == ("GB-Hours", "GiB-Months")          # storage byte-seconds
    assert abs(units[4][0] - Decimal("1.0737418240") * 2592000 / 720 / 3600) < Decimal("1e-9")
    assert units[5][:4] == (None, None, None, None)                           # the tax row has no usage
    first = by_file[GCP_JSONL][0]
    assert (first[6], first[7], str(first[9])) == (Decimal("0.35"), Decimal("0.25"), "2026-02-03 08:00:00")
    egress_sum = ledger.execute("SELECT sum(ConsumedQuantity) FROM costs WHERE ConsumedUnit = 'GB' AND "
                                "x_TransferDirection IS NOT NULL AND x_SourceFile = $f", {"f": str(GCP_JSONL)}).fetchall()
    assert egress_sum[0][0] == Decimal("16.10612736")   # 10 GiB + 5 GiB in GB


def test_cur2_rows_equal_the_legacy_rows_they_were_built_from(ledger: duckdb.DuckDBPyConnection) -> None:
    cols = ("x_SourceRow, BilledCost, EffectiveCost, ListCost, ChargeCategory, ServiceName, ServiceCategory, RegionId, "
            "x_ToRegionId, x_TransferDirection, ChargePeriodStart, BillingPeriodStart, ConsumedQuantity, SkuId")
    legacy = ledger.execute(f"SELECT {cols} FROM costs WHERE x_SourceFile = $f AND x_SourceRow <= 300 "
                            "ORDER BY x_SourceRow", {"f": str(CUR_LEGACY)}).fetchall()
    assert sum(r[9] is not None for r in legacy) > 50   # the slice holds data-transfer rows
    for path in (CUR2_CSV, CUR2_PARQUET):
        got = ledger.execute(f"SELECT {cols} FROM costs WHERE x_SourceFile = $f ORDER BY x_SourceRow",
                             {"f": str(path)}).fetchall()
        assert got == legacy, path.name


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(header)
        w.writerows(rows)


def test_rejects_are_found_wherever_they_sit(tmp_path: Path) -> None:
    """The quarantine pass is skipped only when every row is provably in the ledger: check the edges."""
    focus = csv_rows(FINOPS / "focus-1.0-sample-1000.csv")[:6]
    header = list(focus[0])
    good = [[r[h] for h in header] for r in focus]
    bad_last = [*good[:-1], [*good[-1][:header.index("BilledCost")], "n/a", *good[-1][header.index("BilledCost") + 1:]]]
    _write_csv(tmp_path / "last.csv", header, bad_last)
    quoted = [[v.replace("data transfer", "data\ntransfer") for v in r] for r in good]   # newlines inside quotes
    _write_csv(tmp_path / "quoted.csv", header, quoted)
    table = pa.table({"line_item_unblended_cost": [1.5, None, 2.0], "line_item_line_item_type": ["Usage"] * 3,
                      "line_item_usage_start_date": ["2026-02-03T00:00:00Z"] * 3,
                      "bill_billing_period_start_date": ["2026-02-01T00:00:00Z"] * 3,
                      "line_item_currency_code": ["USD"] * 3})
    pq.write_table(table, tmp_path / "cur2.parquet")
    db = tmp_path / "s.duckdb"
    con = store.open_writer(db)
    got = {}
    for name in ("last.csv", "quoted.csv", "cur2.parquet"):
        res = ingest_any(con, tmp_path / name, load_settings(db=db, env={}))
        got[name] = (res.status, res.accepted, res.rejected)
    assert got == {"last.csv": ("complete", 5, 1), "quoted.csv": ("complete", 6, 0), "cur2.parquet": ("complete", 2, 1)}
    q = con.execute("SELECT source, record_no, field FROM quarantine ORDER BY source").fetchall()
    assert q == [(str(tmp_path / "cur2.parquet"), 2, "BilledCost"), (str(tmp_path / "last.csv"), 6, "BilledCost")]
    totals = dict(con.execute("SELECT source, sum(rows_read) FROM billing_source_totals GROUP BY 1").fetchall())
    assert totals == {str(tmp_path / n): r for n, r in (("last.csv", 6), ("quoted.csv", 6), ("cur2.parquet", 3))}
