"""Bills tierwise did not know: Azure's legacy pay-as-you-go usage export is read, and a table that matches no billing
format is refused with the formats tried and the columns each lacks, not with an OTLP message."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
from ingest_helpers import OTLP, run_cli
from test_billing_validator import check, validator

from ingest.billing.detect import detect
from ingest.billing.signatures import SIGNATURES, unknown_header

SHAPES = Path(__file__).parent / "fixtures" / "export_shapes"
LEGACY = SHAPES / "azure-payg-usage-legacy.csv"
CONSOLE = SHAPES / "gcp-console-cost-table.csv"


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _source_rows() -> list[dict[str, str]]:
    with open(LEGACY, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_legacy_azure_usage_export_is_recognised_by_its_columns() -> None:
    det = detect(LEGACY)
    assert det is not None and (det.fmt, det.container, det.problem) == ("azure-usage-legacy", "csv", "")
    assert len(det.columns) == 24  # the documented 2019-11-01 schema


def test_the_legacy_azure_usage_export_maps_to_focus(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    out = run_cli("ingest", "--quiet", "--db", str(db), str(LEGACY)).output
    source = _source_rows()
    assert f"{len(source)} accepted, 0 rejected" in out, out
    got = _query(db, "SELECT x_SourceRow, BilledCost, EffectiveCost, ListCost, ChargeCategory, ChargeFrequency, "
                     "ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart, BillingPeriodEnd, BillingCurrency, "
                     "BillingAccountId, SubAccountId, ProviderName, ServiceName, ResourceId, ResourceName, SkuMeter, "
                     "ConsumedQuantity, ConsumedUnit, RegionId, x_SourceFormat FROM costs ORDER BY x_SourceRow")
    assert len(got) == len(source)
    for row, src in zip(got, source, strict=True):
        cost = Decimal(src["PreTaxCost"])
        day = src["UsageDateTime"]
        assert row[1:6] == (cost, cost, cost, "Usage", "Usage-Based")
        assert [str(v)[:10] for v in row[6:10]] == [day, _next_day(day), day[:8] + "01", "2026-02-01"]
        assert row[10:14] == ("USD", src["SubscriptionGuid"], src["SubscriptionGuid"], "Microsoft")
        assert row[14:18] == (src["MeterCategory"], src["InstanceId"], src["InstanceId"].rsplit("/", 1)[1],
                              src["MeterName"])
        assert row[18:] == (Decimal(src["UsageQuantity"]), src["UnitOfMeasure"], "westeurope", "azure-usage-legacy")


def _next_day(day: str) -> str:
    return f"{day[:8]}{int(day[8:]) + 1:02d}"


def test_legacy_azure_tags_egress_and_categories_link_as_the_other_azure_exports_do(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    run_cli("ingest", "--quiet", "--db", str(db), str(LEGACY))
    got = _query(db, "SELECT ServiceName, ServiceCategory, x_Workload, x_TransferDirection FROM costs ORDER BY x_SourceRow")
    assert got[0] == ("Virtual Machines", "Compute", "checkout-assistant", None)
    assert got[2] == ("Bandwidth", "Compute", "checkout-assistant", "internet_out")  # Standard Data Transfer Out
    assert got[4][:3] == ("Azure App Service", "Web", None)                      # no tags
    assert got[5][1] == "AI and Machine Learning"                                 # Microsoft.CognitiveServices


def test_a_table_matching_no_billing_format_says_which_formats_were_tried_and_what_each_lacks(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = run_cli("ingest", "--quiet", "--db", str(db), str(CONSOLE))
    assert result.exit_code == 1
    assert "OTLP file" not in result.output and "not JSON" not in result.output
    [(status, message)] = _query(db, "SELECT status, message FROM ingest_files")
    assert status == "unreadable"
    text = str(message)
    assert "a CSV file whose 17 columns match no billing format tierwise reads (and it is not OTLP)" in text
    assert 'tried, closest first: GCP billing export lacks billing_account_id (the file has "Billing account ID")' in text
    assert all(s.label in text for s in SIGNATURES)
    listed = run_cli("quarantine", "--db", str(db)).output
    assert f"{CONSOLE}: unreadable file, 0 rows kept: a CSV file whose 17 columns" in listed


def test_a_two_column_table_gets_the_billing_message_not_the_otlp_one(tmp_path: Path) -> None:
    """A lookup table shaped like the FinOps Open Cost and Usage Spec's category mappings (`product_code,
    ServiceCategory`) is a CSV, so it is refused as a table matching no billing format."""
    table = tmp_path / "category_mapping.csv"
    table.write_text("product_code,ServiceCategory\nAWSCleanRooms,Analytics\nAmazonEC2,Compute\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    assert run_cli("ingest", "--quiet", "--db", str(db), str(table)).exit_code == 1
    [(status, message)] = _query(db, "SELECT status, message FROM ingest_files")
    assert status == "unreadable" and "a CSV file whose 2 columns match no billing format" in str(message)
    assert "not JSON" not in str(message)


def test_the_nearest_format_comes_first_with_exactly_what_it_lacks() -> None:
    cols = [c for c in next(csv.reader(LEGACY.read_text(encoding="utf-8-sig").splitlines())) if c != "UsageDateTime"]
    text = unknown_header(cols, "csv")
    assert "tried, closest first: Azure pay-as-you-go usage (legacy) lacks UsageDateTime; " in text


def test_otlp_json_lines_whose_first_line_holds_commas_still_go_to_the_telemetry_loader(tmp_path: Path) -> None:
    lines = (OTLP / "otlp-file-exporter-spec" / "traces.jsonl").read_bytes().splitlines(keepends=True)
    damaged = tmp_path / "traces.jsonl"
    damaged.write_bytes(b"name,kind,start,end\n" + b"".join(lines))
    assert detect(damaged) is None


def test_the_focus_export_of_the_new_shapes_passes_focus_validator(tmp_path: Path) -> None:
    validator()
    db = tmp_path / "s.duckdb"
    run_cli("ingest", "--quiet", "--db", str(db), str(LEGACY), str(SHAPES / "focus-excel-mdyy.csv"))
    out = tmp_path / "ledger.parquet"
    assert run_cli("export", "focus", "--db", str(db), "--out", str(out)).exit_code == 0
    check(out, tmp_path)
