"""The Executive page top-down under AppTest (issue 23): its moves table says what `tierwise recommend --format json`
says, a dismissed move leaves projected savings, the spend is `tierwise metric effective_cost`'s, and a what-if the
framework refuses shows why."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ingest_helpers import isolated, run_cli
from test_app_pages import fresh_cache, metrics, open_page, own_db, sample_db

from app import charts, charts_finops
from app.charts_costs import compact
from app.views import executive_moves
from queries import decisions, savings
from queries.units import format_value

__all__ = ["fresh_cache", "own_db", "sample_db"]  # fixtures shared with test_app_pages


def cli_json(db: Path, *args: str) -> Any:
    with isolated(db.parent):
        done = run_cli(*args, "--db", str(db), "--format", "json")
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def shown(cell: object) -> str:
    """A st.table cell as the reader sees it: plain.md's backslashes, entities and word joiners undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", str(cell)).replace("\u2060", ""))


def helps(at: Any) -> dict[str, str]:
    return {m.label: (m.proto.help or "").replace("\\", "") for m in at.metric}


def test_the_moves_table_says_what_tierwise_recommend_says(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = cli_json(sample_db, "recommend")
    assert recs
    at = open_page(sample_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    moves, rests = (t.value.map(shown) for t in at.table[:2])  # st.table renders Markdown: cells are escaped
    assert list(moves["#"]) == [str(i + 1) for i in range(len(recs))]  # ranked as recommend ranks them
    for (_, row), (_, why), r in zip(moves.iterrows(), rests.iterrows(), recs, strict=True):
        assert row["Move"].startswith(f"{r['workload']}: {r['from_tier']} → {r['to_tier']}") and r["rule"] in row["Move"]
        assert r["currency"] == "USD" and row["Δcost (USD/month)"] == charts_finops.fmt_delta_usd(r["delta_cost"])
        low, high = r["delta_p95_ms_range"]
        assert row["Δp95 (ms, range)"] == executive_moves.p95_text(r["delta_p95_ms"], low, high)
        assert row["Δp95 (ms, range)"].startswith(f"{r['delta_p95_ms']:+,.0f} ms")
        assert row["Evidence"] == r["evidence"] and row["Confidence"] == f"{r['confidence']:.0%}"
        beyond = r["value"] + r["delta_cost"]  # value = money saved + the gains [value] prices
        assert row["Value beyond money"] == (r["value_note"] if abs(beyond) < 0.005
                                             else f"{beyond:,.2f} USD/month: {r['value_note']}")
        assert "$" not in row["Value beyond money"]  # no [value] here: no unexplained dollar figure
        assert row["Status"] == "open"
        assert why["What Δp95 rests on"] == f"{r['evidence']}: " + r["reasons"][-1].removeprefix("Δp95 rests on: ")
        assert why["Downtime risk"] and why["Trust"] and why["Migration effort"]
    text = " ".join(str(c) for t in at.table for c in t.value.to_numpy().ravel())
    assert "None" not in text and "nan" not in text


def test_a_dismissed_move_leaves_projected_savings_on_the_page(own_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = cli_json(own_db, "recommend")
    saving = [r for r in recs if r["delta_cost"] < 0]
    assert len(saving) >= 2
    gone, kept = saving[0], saving[1]
    key = decisions.key(gone["workload"], gone["from_tier"], gone["to_tier"], gone["rule"])
    decisions.record(own_db, key, "dismissed")
    decisions.record(own_db, decisions.key(kept["workload"], kept["from_tier"], kept["to_tier"], kept["rule"]),
                     "accepted")
    every = sum(-r["delta_cost"] for r in saving)
    projected, realised = every + gone["delta_cost"], -kept["delta_cost"]
    at = open_page(own_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Projected savings / month"] == compact(projected, "USD")
    assert helps(at)["Projected savings / month"].startswith(charts.fmt_usd(projected))
    assert helps(at)["Realised savings / month"].startswith(charts.fmt_usd(realised))
    moves = at.table[0].value.map(shown)
    status = dict(zip(moves["Move"], moves["Status"], strict=True))
    assert [s for m, s in status.items() if m.startswith(f"{gone['workload']}: ")] == ["dismissed"]
    said = " ".join(m.value for m in at.markdown)
    assert f"**{projected:,.2f} USD/month** projected" in said and f"**{realised:,.2f} USD/month** realised" in said
    assert f"dismissed moves ({-gone['delta_cost']:,.2f} USD/month) are left out" in said
    # the what-if opens on the most valuable move still open
    first_open = next(r for r in recs if r not in (gone, kept))
    assert at.selectbox(key="whatif_workload").value == first_open["workload"]
    summary = savings.summary(pl.DataFrame(
        [{"workload": r["workload"], "from_tier": r["from_tier"], "to_tier": r["to_tier"], "rule": r["rule"],
          "delta_cost_usd_month": r["delta_cost"], "value_usd_month": r["value"], "delta_p95_ms": r["delta_p95_ms"]}
         for r in recs]), [], [key]).row(0, named=True)
    assert summary["projected_savings_usd_month"] == pytest.approx(projected, abs=0.01)


def test_the_spend_is_tierwise_metric_effective_cost(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spend = cli_json(sample_db, "metric", "effective_cost")
    at = open_page(sample_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    exact = " + ".join(format_value(r["effective_cost"], "money", r["currency"])
                       for r in sorted(spend, key=lambda r: r["currency"]))
    assert helps(at)["Spend"].startswith(f"{exact}: effective cost over all data")
    assert metrics(at)["Spend"] == " + ".join(compact(r["effective_cost"], r["currency"])
                                               for r in sorted(spend, key=lambda r: r["currency"]))
    assert all(len(v) <= 12 for k, v in metrics(at).items() if k != "Moves"), metrics(at)  # fits at 1280 px
    charts_seen = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts_seen) >= 5  # months, tiers, workloads, cost per 1k requests, savings, the what-if's factors
    payback = helps(at)["Edge payback"]
    assert "payback = capex ÷ monthly avoided cost" in payback and "Money only" in payback


def test_a_refused_what_if_shows_its_reason(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (cli,) = cli_json(sample_db, "whatif", "--workload", "factory-finetune", "--to", "device")
    assert cli["allowed"] is False
    at = open_page(sample_db, "executive", monkeypatch)
    at.selectbox(key="whatif_workload").select("factory-finetune").run()
    at.selectbox(key="whatif_tier").select("device").run()
    assert not at.exception, [e.value for e in at.exception]
    [refused] = [e.value for e in at.error]
    assert refused.startswith("**Not allowed.**") and "does not run on devices" in refused
    assert "priced for reference only" in refused
    assert metrics(at)["Evidence"] == cli["evidence"]
    assert metrics(at)["Δp95"] == f"{cli['delta_p95_ms']:+,.0f} ms"
