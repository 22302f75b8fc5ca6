"""`tierwise summary` on a store without requests says what the store holds and what is missing, not an empty table."""

from __future__ import annotations

from pathlib import Path

from ingest_helpers import run_cli

SHAPES = Path(__file__).parent / "fixtures" / "export_shapes"


def _summary(db: Path, *files: Path) -> str:
    if files:
        assert run_cli("ingest", "--quiet", "--db", str(db), *map(str, files)).exit_code == 0
    else:
        assert run_cli("migrate", "--db", str(db)).exit_code == 0
    result = run_cli("summary", "--db", str(db))
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_a_store_of_metrics_only_says_what_it_holds_and_that_spans_and_costs_are_missing(tmp_path: Path) -> None:
    out = _summary(tmp_path / "s.duckdb", SHAPES / "metrics-nameless-empty-metric.jsonl")
    lines = out.splitlines()
    assert lines[0] == "No requests, errors or latency by tier to show: the store holds no spans."
    assert "(no rows)" not in out
    assert "  spans         0" in lines
    assert "  metric points 3  2026-01-01 00:01 to 2026-01-01 00:01 UTC" in lines
    assert "  cost rows     0" in lines
    missing = lines[lines.index("Missing:") + 1:]
    assert [m.split(":")[0].strip() for m in missing] == ["spans", "cost rows"]
    assert "OTLP traces" in missing[0] and "billing exports" in missing[1]


def test_a_store_of_bills_only_says_the_charge_period_it_covers(tmp_path: Path) -> None:
    out = _summary(tmp_path / "s.duckdb", SHAPES / "azure-payg-usage-legacy.csv")
    assert "  cost rows     6  2026-01-05 00:00 to 2026-01-07 00:00 UTC" in out.splitlines()
    assert "  spans: OTLP traces" in out and "  metric points: OTLP metrics" in out


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    out = _summary(tmp_path / "s.duckdb")
    assert out.startswith("The store is empty: nothing has been ingested yet.")
    assert out.count("tierwise ingest") == 3


def test_a_store_with_requests_still_shows_the_table(tmp_path: Path) -> None:
    out = _summary(tmp_path / "s.duckdb", SHAPES / "jq-traces-two-documents.json")
    assert out.startswith("Requests entering each tier, errors and latency")
    assert "edge" in out and "The store holds" not in out
