"""Billing ingest on the real third-party samples: golden totals computed from the raw files, quirks, egress."""

from __future__ import annotations

import csv
import gzip
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pytest

import store
from ingest.billing.detect import detect
from ingest.billing.source import install_macros
from ingest.files.route import ingest_any
from store.settings import load_settings

FINOPS = Path(__file__).parent / "fixtures" / "finops"
FOCUS = FINOPS / "focus-1.0-sample-1000.csv"
CUR = FINOPS / "aws-cur-legacy-anon-sample.csv"
OCI = FINOPS / "oci-cost-report-sample.csv"
AZ_ACTUAL = FINOPS / "azure-ea-actualcost-small.csv"
AZ_AMORTIZED = FINOPS / "azure-ea-amortizedcost-small.csv"
AZ_FC = FINOPS / "azure-ea-export-sample-focusconverters.csv"
ALL = (FOCUS, CUR, OCI, AZ_ACTUAL, AZ_AMORTIZED, AZ_FC)
Totals = dict[tuple[str, str, str], list[Decimal]]  # (format, provider, period YYYY-MM) -> [rows, billed, effective]


def rows(path: Path) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def dec(v: str | None) -> Decimal:
    return Decimal(v) if v not in (None, "", "NULL") else Decimal(0)


def add(t: Totals, key: tuple[str, str, str], billed: Decimal, effective: Decimal) -> None:
    acc = t.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
    acc[0] += 1
    acc[1] += billed
    acc[2] += effective


def expected_totals() -> Totals:
    """Row counts and sums straight from the raw files with csv + Decimal, per the documented mapping rules."""
    t: Totals = {}
    for r in rows(FOCUS):
        add(t, ("focus-1.0", r["ProviderName"], r["BillingPeriodStart"][:7]), dec(r["BilledCost"]), dec(r["EffectiveCost"]))
    for r in rows(CUR):
        cost = dec(r["lineItem/UnblendedCost"])
        add(t, ("aws-cur-legacy", "AWS", r["bill/BillingPeriodStartDate"][:7]), cost, cost)
    for r in rows(OCI):
        cost = dec(r["cost/myCost"])
        add(t, ("oci-cost", "Oracle", r["lineItem/intervalUsageStart"][:7]), cost, cost)
    for path in (AZ_ACTUAL, AZ_AMORTIZED, AZ_FC):
        data = list(rows(path))
        amount = [dec(r.get("CostInBillingCurrency") or r.get("Cost")) for r in data]
        commitment = [r["PricingModel"] in ("Reservation", "SavingsPlan") for r in data]
        amortized = any(c and r["ChargeType"] == "Usage" and a != 0 for r, a, c in zip(data, amount, commitment, strict=True))
        for r, a, c in zip(data, amount, commitment, strict=True):
            m, _, y = r["BillingPeriodStartDate"].split("/")
            billed = Decimal(0) if amortized and c and r["ChargeType"] == "Usage" else a
            effective = Decimal(0) if c and r["ChargeType"] == "Purchase" else a
            add(t, ("azure-cost", "Microsoft", f"{y}-{int(m):02d}"), billed, effective)
    return t


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path_factory.mktemp("billing") / "store.duckdb"
    con = store.open_writer(db)
    settings = load_settings(db=db, env={})
    for f in ALL:
        res = ingest_any(con, f, settings)
        assert res.status == "complete" and res.rejected == 0, (f.name, res)
    yield con
    con.close()


def test_formats_are_recognised_by_header_not_name(tmp_path: Path) -> None:
    assert [(d.fmt, d.version) for d in (detect(f) for f in ALL) if d] == [
        ("focus", "1.0"), ("aws-cur-legacy", ""), ("oci-cost", ""), ("azure-cost", ""), ("azure-cost", ""),
        ("azure-cost", "")]
    renamed = tmp_path / "whatever.txt"
    renamed.write_bytes(CUR.read_bytes())
    det = detect(renamed)
    assert det is not None and det.fmt == "aws-cur-legacy"
    otlp = tmp_path / "spans.jsonl"
    otlp.write_text('{"resourceSpans": []}\n')
    assert detect(otlp) is None


def test_golden_totals_per_provider_and_billing_period(ledger: duckdb.DuckDBPyConnection) -> None:
    got = {(str(f), str(p), str(m)): [Decimal(n), Decimal(b), Decimal(e)] for f, p, m, n, b, e in ledger.execute(
        "SELECT regexp_replace(x_SourceFormat, '-[0-9.]+$', '') || CASE WHEN x_SourceFormat LIKE 'focus%' THEN '-1.0' "
        "ELSE '' END, ProviderName, strftime(BillingPeriodStart, '%Y-%m'), count(*), sum(BilledCost), sum(EffectiveCost) "
        "FROM costs GROUP BY ALL").fetchall()}
    want = expected_totals()
    assert set(got) == set(want)
    for key, (n, billed, effective) in want.items():
        assert got[key][0] == n, key
        # the ledger keeps 15 decimals (OCI ships 18): equal to 1e-9, and to the cent
        assert abs(got[key][1] - billed) < Decimal("1e-9"), key
        assert abs(got[key][2] - effective) < Decimal("1e-9"), key
        assert round(got[key][1], 2) == round(billed, 2), key
    # the documented shape of the FOCUS sample
    assert {k[1]: v[0] for k, v in want.items() if k[0] == "focus-1.0" and k[2] == "2024-09"} == {
        "AWS": 942, "Microsoft": 51, "Oracle": 6}


def test_egress_classification_counts(ledger: duckdb.DuckDBPyConnection) -> None:
    transfer = sum("transfer" in (r["ChargeDescription"] or "").lower() for r in rows(FOCUS))
    assert transfer == 549
    focus = dict(ledger.execute("SELECT x_TransferDirection, count(*) FROM costs WHERE x_SourceFormat LIKE 'focus%' "
                                "AND x_TransferDirection IS NOT NULL GROUP BY 1").fetchall())
    assert sum(focus.values()) == transfer
    assert set(focus) <= {"internet_out", "inter_region", "cross_zone", "intra_zone", "in"}
    by_type = {"InterRegion Outbound": "inter_region", "AWS Outbound": "internet_out", "InterRegion Inbound": "in",
               "AWS Inbound": "in", "IntraRegion-xAZ-Out": "cross_zone", "IntraRegion-xAZ-In": "cross_zone",
               "IntraRegion": "cross_zone"}
    want = Counter(by_type[r["product/transferType"]] for r in rows(CUR) if r["product/productFamily"] == "Data Transfer")
    assert sum(want.values()) == 446
    cur = dict(ledger.execute("SELECT x_TransferDirection, count(*) FROM costs WHERE x_SourceFormat = 'aws-cur-legacy' "
                              "AND x_TransferDirection IS NOT NULL GROUP BY 1").fetchall())
    assert cur == dict(want)
    to_region = ledger.execute("SELECT count(*) FROM costs WHERE x_TransferDirection = 'inter_region' "
                               "AND x_SourceFormat = 'aws-cur-legacy' AND x_ToRegionId IS NOT NULL").fetchall()[0][0]
    assert to_region == want["inter_region"]
    azure = ledger.execute("SELECT count(*) FROM costs WHERE x_SourceFile LIKE '%amortizedcost%' "
                           "AND x_TransferDirection IS NOT NULL").fetchall()[0][0]
    assert azure == sum(r["MeterCategory"] == "Bandwidth" for r in rows(AZ_AMORTIZED)) == 4


def test_quirks_null_strings_casing_azure_tags_and_extra_columns(ledger: duckdb.DuckDBPyConnection) -> None:
    nulls = ledger.execute("SELECT count(*) FROM costs WHERE 'NULL' IN (ChargeClass, AvailabilityZone, ResourceName, "
                           "CommitmentDiscountId, Tags::VARCHAR)").fetchall()[0][0]
    assert nulls == 0
    raw_freq = Counter(r["ChargeFrequency"] for r in rows(FOCUS))
    assert raw_freq["Usage-based"] > 0  # mixed case in the source
    freq = dict(ledger.execute("SELECT ChargeFrequency, count(*) FROM costs WHERE x_SourceFormat LIKE 'focus%' "
                               "GROUP BY 1").fetchall())
    assert set(freq) <= {"Usage-Based", "Recurring", "One-Time", None}
    assert freq["Usage-Based"] == raw_freq["Usage-based"] + raw_freq["Usage-Based"]
    raw_tags = next(r["Tags"] for r in rows(AZ_FC))
    assert not raw_tags.startswith("{")  # EA tags: not valid JSON in the source
    tags = ledger.execute("SELECT Tags FROM costs WHERE x_SourceFile LIKE '%focusconverters%' AND x_SourceRow = 1"
                          ).fetchall()[0][0]
    assert orjson.loads(tags) == {"tagA": "valueA", "tagB": "valueB", "tagC": "valueC"}
    cols = {r[0] for r in ledger.execute("DESCRIBE costs").fetchall()}
    assert "Id" not in cols  # the FOCUS sample's stray column is ignored, not an error


def test_json_text_is_kept_verbatim_wrapped_in_braces_or_dropped() -> None:
    """Valid JSON keeps its exact text (as the JSON type), brace-less EA tags are wrapped, the rest becomes NULL."""
    con = duckdb.connect()
    install_macros(con)
    cases = ['{"a" : 1} ', '"k": "v", "n": "2"', "{'a': 1}", "a=b", "[]", " {} ", "", None, "null"]
    got = [tuple(r) for r in con.execute("SELECT tw_json(x)::VARCHAR, typeof(tw_json(x)) FROM unnest($c::VARCHAR[]) "
                                         "WITH ORDINALITY t(x, i) ORDER BY i", {"c": cases}).fetchall()]
    assert [g[0] for g in got] == ['{"a" : 1} ', '{"k": "v", "n": "2"}', None, None, None, None, None, None, "null"]
    assert {g[1] for g in got} == {"JSON"}


def test_same_file_twice_adds_nothing(ledger: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    before = ledger.execute("SELECT count(*), sum(BilledCost) FROM costs").fetchall()
    copy = tmp_path / "again-under-another-name.csv"
    copy.write_bytes(FOCUS.read_bytes())
    res = ingest_any(ledger, copy, load_settings(db=tmp_path / "x.duckdb", env={}))
    assert res.status == "already-ingested"
    assert ledger.execute("SELECT count(*), sum(BilledCost) FROM costs").fetchall() == before


def test_gzip_csv_without_a_telling_name(db_path: Path, tmp_path: Path) -> None:
    packed = tmp_path / "export-0001"
    packed.write_bytes(gzip.compress(OCI.read_bytes()))
    det = detect(packed)
    assert det is not None and (det.fmt, det.container) == ("oci-cost", "csv.gz")
    res = ingest_any(store.open_writer(db_path), packed, load_settings(db=db_path, env={}))
    assert (res.status, res.accepted) == ("complete", 506)


def test_broken_rows_are_quarantined_with_file_row_and_reason(db_path: Path, tmp_path: Path) -> None:
    lines = FOCUS.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    bad = next(csv.reader([lines[3]]))
    bad[header.index("BilledCost")] = "twelve dollars"
    broken = tmp_path / "broken.csv"
    with open(broken, "w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(header)
        for i, line in enumerate(lines[1:6], start=1):
            w.writerow(bad if i == 3 else next(csv.reader([line])))
    con = store.open_writer(db_path)
    res = ingest_any(con, broken, load_settings(db=db_path, env={}))
    assert (res.status, res.accepted, res.rejected) == ("complete", 4, 1)
    q = con.execute("SELECT source, record_no, field, reason FROM quarantine").fetchall()
    assert q == [(str(broken), 3, "BilledCost", "missing or not a decimal number")]


def test_missing_required_column_is_one_clear_error(db_path: Path, tmp_path: Path) -> None:
    data = list(rows(FOCUS))[:3]
    cut = tmp_path / "no-effective.csv"
    with open(cut, "w", newline="") as f:
        w = csv.DictWriter(f, [k for k in data[0] if k != "EffectiveCost"], extrasaction="ignore")
        w.writeheader()
        w.writerows(data)
    con = store.open_writer(db_path)
    res = ingest_any(con, cut, load_settings(db=db_path, env={}))
    assert res.status == "unreadable"
    assert "'EffectiveCost'" in res.message
    assert con.execute("SELECT count(*) FROM costs").fetchall()[0][0] == 0


def test_tags_link_costs_to_workloads_and_the_rest_stays_unallocated(ledger: duckdb.DuckDBPyConnection) -> None:
    want: defaultdict[str, int] = defaultdict(int)
    for r in rows(FOCUS):
        tags = orjson.loads(r["Tags"]) if r["Tags"] not in ("", "NULL") else {}
        want[str(tags.get("application") or tags.get("app") or "")] += 1
    got = dict(ledger.execute("SELECT coalesce(link_workload, ''), count(*) FROM cost_links "
                              "WHERE x_SourceFormat LIKE 'focus%' GROUP BY 1").fetchall())
    assert got == dict(want)
    total = ledger.execute("SELECT count(*) FROM costs").fetchall()[0][0]
    assert ledger.execute("SELECT count(*) FROM cost_links").fetchall()[0][0] == total
