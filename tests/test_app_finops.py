"""FinOps, Executive ROI and Recommendations pages under AppTest: their numbers equal the queries' and decisions stick."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from test_app_pages import fresh_cache, metrics, open_page, own_db, rows, sample_db

from app import charts, charts_costs, charts_finops
from app.views.executive_spend import compact_signed
from queries import budgets, decisions, recommend, savings, whatif
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic.metric import run as metric_run

__all__ = ["fresh_cache", "own_db", "sample_db"]  # fixtures shared with test_app_pages


def engine(db: Path) -> pl.DataFrame:
    duck = DuckDBEngine.open(db)
    try:
        return recommend.as_frame(recommend.run(duck))
    finally:
        duck.close()


def test_finops_totals_equal_the_billing_queries(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "finops", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    shown = metrics(at)
    helps = {m.label: m.proto.help.replace("\\", "") for m in at.metric}  # help is escaped markdown
    effective = float(rows(sample_db, "cost_by_tier")["cost_usd"].sum())
    # compact enough for a laptop, the exact amount first in the help
    assert shown["EffectiveCost"] == charts_costs.compact(effective, "USD")
    assert helps["EffectiveCost"].startswith(charts.fmt_usd(effective))
    billed = rows(sample_db, "cost_reconciliation")["ledger_billed_usd"].cast(pl.Float64).sum()
    assert shown["BilledCost"] == charts_costs.compact(float(billed), "USD")
    idle = rows(sample_db, "gpu_cost_vs_use")["idle_usd"].sum()
    assert shown["Idle GPU"] == charts_costs.compact(float(idle), "USD") and float(idle) > 0
    duck = DuckDBEngine.open(sample_db)
    try:  # the forecast of `tierwise budgets`, for the month of the latest charge
        month = budgets.latest_month(duck)
        (last_end,) = duck.first_row("SELECT max(coalesce(ChargePeriodEnd, ChargePeriodStart)) FROM costs")
        ahead = budgets.month_end(lambda r: metric_run(duck, r), (), "USD", str(month), budgets.covered_to(last_end))
    finally:
        duck.close()
    label = f"Forecast for {datetime.strptime(str(month), '%Y-%m'):%b %Y}"
    assert shown[label] == charts_costs.compact(ahead.forecast, "USD")
    assert all(len(v) <= 12 for v in shown.values()), shown  # nothing a 1280 px laptop cuts off
    tables, downloads, charts_seen = len(at.dataframe), len(at.get("download_button")), len(at.get("plotly_chart"))
    for tab in ("Egress", "GPU allocated vs used", "Anomalies", "Budgets", "Allocation", "Reconciliation"):
        at.session_state["finops_tab"] = tab  # the detail tabs draw when opened
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])
        tables, downloads = tables + len(at.dataframe), downloads + len(at.get("download_button"))
        charts_seen += len(at.get("plotly_chart"))
    assert tables >= 13 and downloads == tables  # every table downloads as CSV
    assert charts_seen >= 15


def test_finops_monthly_rows_tie_out_to_the_ledger(sample_db: Path) -> None:
    total = float(rows(sample_db, "cost_by_tier")["cost_usd"].sum())
    assert float(rows(sample_db, "cost_by_month")["effective_cost_usd"].sum()) == pytest.approx(total)
    assert float(rows(sample_db, "cost_month_over_month")["effective_cost_usd"].sum()) == pytest.approx(total)


def test_recommendation_cards_show_the_engines_numbers(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = engine(sample_db)
    assert recs.height >= 2
    at = open_page(sample_db, "recommendations", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    deltas = [m.value for m in at.metric if m.label == "Δcost per month"]
    assert deltas == [charts_finops.fmt_delta_usd(v) for v in recs["delta_cost_usd_month"].to_list()]
    first = recs.row(0, named=True)
    links = " ".join(str(m.value) for m in at.markdown)
    assert f"slow-paths?workload={first['workload']}&tier={first['from_tier']}" in links


def test_accept_and_dismiss_persist_across_sessions(own_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = engine(own_db)
    at = open_page(own_db, "recommendations", monkeypatch)
    at.button(key="accept_0").click().run()
    at.button(key="dismiss_1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    again = open_page(own_db, "recommendations", monkeypatch)  # a new session reads the file beside the store
    assert again.button(key="accept_0").disabled and again.button(key="dismiss_1").disabled
    assert not again.button(key="accept_1").disabled
    made = decisions.load(own_db)
    key0, key1 = (decisions.key(r["workload"], r["from_tier"], r["to_tier"], r["rule"])
                  for r in recs.head(2).iter_rows(named=True))
    assert made[key0].state == "accepted" and made[key1].state == "dismissed"
    ex = open_page(own_db, "executive", monkeypatch)
    expected = savings.summary(recs, [key0])["realised_savings_usd_month"][0]
    assert metrics(ex)["Realised savings / month"] == charts_costs.compact(expected, "USD")  # compact; exact in the help


def test_executive_headline_and_what_if_equal_the_queries(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = engine(sample_db)
    at = open_page(sample_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    summary = savings.summary(recs, []).row(0, named=True)
    assert metrics(at)["Projected savings / month"] == charts_costs.compact(summary["projected_savings_usd_month"], "USD")
    assert metrics(at)["Realised savings / month"] == charts_costs.compact(0.0, "USD")
    at.selectbox(key="whatif_workload").select("kiosk-copilot").run()
    at.selectbox(key="whatif_tier").select("hyperscale").run()
    # kiosk-copilot may already be the opening (top) move, from hyperscale: price from its main serving tier
    at.selectbox(key="whatif_from").select("auto").run()
    assert not at.exception, [e.value for e in at.exception]
    duck = DuckDBEngine.open(sample_db)
    try:
        move = whatif.run(duck, "kiosk-copilot", "hyperscale")
    finally:
        duck.close()
    shown = metrics(at)
    assert shown["Δcost per month"] == compact_signed(move.delta_cost_usd_month, "USD")  # exact in its help
    assert shown["Δp95"] == f"{move.delta_p95_ms:+,.0f} ms"
    assert shown["Moves"] == f"{move.from_tier} → hyperscale"


def test_recommendation_links_open_the_what_if_on_that_workload(sample_db: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "executive", monkeypatch, workload="public-chat")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="whatif_workload").value == "public-chat"


def test_the_cost_breakdown_opens_from_and_writes_to_the_url(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared link shows the same breakdown; the default keeps the URL clean; a value no page offers is ignored."""
    at = open_page(sample_db, "finops", monkeypatch, breakdown="site")
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["finops_dim"] == "site" and at.query_params["breakdown"] == "site"
    at.session_state["finops_dim"] = "tier"
    at.run()
    assert at.query_params["breakdown"] == "tier"
    at.session_state["finops_dim"] = "workload"
    at.run()
    assert "breakdown" not in at.query_params
    bogus = open_page(sample_db, "finops", monkeypatch, breakdown="<b>x</b>")
    assert not bogus.exception and bogus.session_state["finops_dim"] == "workload"
    assert "breakdown" not in bogus.query_params
