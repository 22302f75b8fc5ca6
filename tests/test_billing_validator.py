"""The FOCUS export of the real samples and of the generated estate passes the FinOps Foundation's focus-validator."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import duckdb
import pytest

import store
from ingest.billing.columns import FOCUS_12
from ingest.files.route import ingest_any
from queries.engines.duckdb_engine import DuckDBEngine
from queries.focus_export import export_focus
from store.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
FINOPS = Path(__file__).parent / "fixtures" / "finops"
# Only rules that contradict each other upstream (focus-validator 2.2.1, model-1.2.0.1.json):
ALLOWED = {
    "InvoiceId-C-004-C": "MUST be null and InvoiceId-C-005-C MUST NOT be null, both unconditional: every row fails one",
    "InvoiceId-C-005-C": "the other half of the InvoiceId-C-004-C / C-005-C contradiction",
    "InvoiceId-C-003-C": "OR over the two contradictory InvoiceId rules above, so it fails whenever they do",
    "InvoiceId-C-000-O": "AND composite of InvoiceId-C-003-C",
}


def validator() -> Path:
    exe = Path(os.environ.get("TIERWISE_FOCUS_VALIDATOR", REPO / ".venv-focus" / "bin" / "focus-validator"))
    if not exe.exists():
        pytest.skip(f"focus-validator not installed at {exe}: run `make focus-validator` (needs Python 3.12)")
    return exe


def validate(data: Path, tmp_path: Path) -> tuple[int, dict[str, str]]:
    """(tests run, failing rule → message) from focus-validator's JUnit report (its exit code is always 0)."""
    exe = validator()
    py = exe.parent / "python"
    site = subprocess.run([str(py), "-c", "import focus_validator, os; print(os.path.dirname(os.path.dirname("
                           "focus_validator.__file__)))"], capture_output=True, text=True, check=True).stdout.strip()
    report = tmp_path / "focus-junit.xml"
    # run from site-packages: the validator opens focus_validator/rules/currency_codes.csv relative to the cwd
    subprocess.run([str(exe), "--data-file", str(data), "--validate-version", "1.2", "--block-download",
                    "--output-type", "unittest", "--output-destination", str(report)],
                   cwd=site, capture_output=True, text=True, check=True, timeout=300)
    root = ET.parse(report).getroot()
    failed = {}
    for case in root.iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            failed[str(case.get("name")).split(" ::")[0]] = str(bad.get("message"))
    return int(root.get("tests", "0")), failed


def check(data: Path, tmp_path: Path) -> None:
    tests, failed = validate(data, tmp_path)
    assert tests > 500
    assert set(failed) <= set(ALLOWED), {k: v for k, v in failed.items() if k not in ALLOWED}


def test_export_has_all_57_focus_columns_then_x_columns(tmp_path: Path) -> None:
    con = store.open_writer(tmp_path / "s.duckdb")
    ingest_any(con, FINOPS / "azure-ea-actualcost-small.csv", load_settings(db=tmp_path / "s.duckdb", env={}))
    n = export_focus(DuckDBEngine(con), tmp_path / "out.csv")
    header = (tmp_path / "out.csv").read_text().splitlines()[0].split(",")
    assert n == 11 and tuple(header[:57]) == FOCUS_12
    assert all(h.startswith("x_") for h in header[57:])


def test_sample_export_passes_focus_validator(tmp_path: Path) -> None:
    validator()
    db = tmp_path / "s.duckdb"
    con = store.open_writer(db)
    for f in sorted(FINOPS.glob("*.csv")):
        assert ingest_any(con, f, load_settings(db=db, env={})).status == "complete"
    out = tmp_path / "ledger.parquet"
    assert export_focus(DuckDBEngine(con), out) == 2853 + 14  # real samples + the reconstructed Azure MCA / FocusCost CSVs
    check(out, tmp_path)


def test_generated_estate_export_passes_focus_validator(tmp_path: Path) -> None:
    validator()
    from sample_data.generate import Options, generate

    generate(tmp_path / "estate", Options(spans=2000, days=2, end=date(2026, 11, 20)))
    db = tmp_path / "s.duckdb"
    con: duckdb.DuckDBPyConnection = store.open_writer(db)
    bills = sorted((tmp_path / "estate" / "bills").iterdir())
    assert len(bills) == 4
    for f in bills:
        assert ingest_any(con, f, load_settings(db=db, env={})).status == "complete", f
    out = tmp_path / "estate.csv"
    assert export_focus(DuckDBEngine(con), out, "csv") > 0
    check(out, tmp_path)


def test_cli_ingests_bills_and_exports_focus(tmp_path: Path) -> None:
    db, out = tmp_path / "cli.duckdb", tmp_path / "ledger.csv"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, cwd=REPO,
                              timeout=120)

    ok = cli("ingest", "--db", str(db), "--quiet", str(FINOPS / "azure-ea-amortizedcost-small.csv"),
             str(FINOPS / "oci-cost-report-sample.csv"))
    assert ok.returncode == 0, ok.stderr
    assert "534 accepted" in ok.stdout
    again = cli("ingest", "--db", str(db), "--quiet", str(FINOPS / "oci-cost-report-sample.csv"))
    assert "already-ingested" in again.stdout
    exported = cli("export", "focus", "--db", str(db), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert len(out.read_text().splitlines()) == 1 + 534
