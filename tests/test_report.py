"""`tierwise report`: the decision memo's numbers equal `tierwise recommend` and `tierwise metric`, and its PDF prints
to one or two pages that render to PNG."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from ingest_helpers import isolated, run_cli

from queries import decisions
from queries.units import format_value

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "committed"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("memo")
    with isolated(work):
        done = run_cli("ingest", "--quiet", "--db", str(work / "s.duckdb"),
                       *map(str, sorted((SAMPLE / "traces").glob("*.jsonl.gz"))), str(SAMPLE / "bills"))
    assert done.exit_code == 0, done.output
    return work / "s.duckdb"


def _cli(db: Path, *args: str) -> str:
    with isolated(db.parent):
        result = run_cli(*args, "--db", str(db))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_memo_says_what_recommend_and_metric_say(db: Path) -> None:
    recs = json.loads(_cli(db, "recommend", "--format", "json"))
    top = recs[0]
    decisions.record(db, decisions.key(top["workload"], top["from_tier"], top["to_tier"], top["rule"]), "accepted")
    html = (Path(_cli(db, "report", "--out", str(db.parent / "memo.html")).split(":")[0])).read_text("utf-8")
    text = re.sub(r"<[^>]+>", " ", html)
    spend = json.loads(_cli(db, "metric", "effective_cost", "--format", "json"))
    for row in spend:
        assert f"{format_value(row['effective_cost'], 'money')} {row['currency']}" in text
    for row in json.loads(_cli(db, "metric", "effective_cost", "--by", "tier", "--format", "json")):
        assert f"{format_value(row['effective_cost'], 'money')} {row['currency']}" in text, row
    for r in recs[:5]:
        assert r["workload"] in text and f"{format_value(r['delta_cost'], 'money')} USD/month" in text
        assert f"{format_value(r['value'], 'money')} USD/month" in text and f"{r['delta_p95_ms']:+,.0f} ms" in text
        assert all(re.sub(r"\s+", " ", reason) in re.sub(r"\s+", " ", text.replace("&gt;", ">").replace("&amp;", "&"))
                   for reason in r["reasons"][-1:])  # what the Δp95 rests on
    realised = max(0.0, -top["delta_cost"])
    assert f"realised (accepted): {format_value(realised, 'money')} USD/month" in text.replace("  ", " ")
    assert "accepted" in text and "Appendix: method and assumptions" in text


def test_the_pdf_prints_on_one_or_two_pages_that_render(db: Path) -> None:
    out = db.parent / "memo.pdf"
    said = _cli(db, "report", "--out", str(out), "--from", "2020-01-01")
    assert said.startswith(f"{out}: decision memo (pdf)") and out.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out), str(db.parent / "page")], check=True)
    pages = sorted(db.parent.glob("page-*.png"))
    assert 1 <= len(pages) <= 2 and all(p.stat().st_size > 5000 for p in pages)
