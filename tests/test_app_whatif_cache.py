"""Executive what-if defaults and refusals, cache savings on the SRE and FinOps pages, and tables' calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from test_app_finops import engine
from test_app_pages import fresh_cache, metrics, open_page, rows, sample_db

from app import charts, charts_costs, components, data, plain
from app.state import Filters
from app.views.executive_spend import compact_signed
from queries import whatif
from queries.engines.duckdb_engine import DuckDBEngine
from store.contract import TIERS

__all__ = ["fresh_cache", "sample_db"]  # fixtures shared with test_app_pages


def priced(db: Path, workload: str, to_tier: str, from_tier: str | None = None,
           to_site: str | None = None) -> whatif.Move:
    duck = DuckDBEngine.open(db)
    try:
        return whatif.run(duck, workload, to_tier, from_tier, to_site)
    finally:
        duck.close()


def test_the_what_if_opens_on_the_top_recommendation(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = engine(sample_db).row(0, named=True)
    at = open_page(sample_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert (at.selectbox(key="whatif_workload").value, at.selectbox(key="whatif_tier").value,
            at.selectbox(key="whatif_from").value) == (top["workload"], top["to_tier"], top["from_tier"])
    move = priced(sample_db, top["workload"], top["to_tier"], top["from_tier"], top["to_site"])
    shown = metrics(at)
    assert shown["Moves"] == f"{top['from_tier']} → {top['to_tier']}"
    assert shown["Δcost per month"] == compact_signed(move.delta_cost_usd_month, "USD")  # exact in its help
    assert shown["Δp95"] == f"{move.delta_p95_ms:+,.0f} ms"
    assert not at.warning
    if top["to_site"]:  # the recommendation's site is named with the move
        assert any(plain.md(f"at {top['to_site']}") in (m.help or "") for m in at.metric if m.label == "Moves")


def test_a_refused_move_reads_as_a_message_and_a_from_tier_prices_it(sample_db: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(whatif.WhatIfError, match="already served in 'edge'"):
        priced(sample_db, "callcentre-stt", "edge")
    at = open_page(sample_db, "executive", monkeypatch)
    at.selectbox(key="whatif_workload").select("callcentre-stt").run()
    at.selectbox(key="whatif_tier").select("edge").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="whatif_from").value == "auto"  # a new workload starts from its main serving tier
    [warning] = [w.value for w in at.warning]
    assert warning.startswith(plain.md("Moving callcentre-stt") + " to edge cannot be priced: ")  # names shown as text
    assert plain.md("already served in 'edge'") in warning and "pick a from tier" in warning and "--from" not in warning
    assert "Moves" not in metrics(at)
    at.selectbox(key="whatif_from").select("device").run()
    assert not at.exception and not at.warning
    move = priced(sample_db, "callcentre-stt", "edge", "device")
    assert metrics(at)["Δcost per month"] == compact_signed(move.delta_cost_usd_month, "USD")  # exact in its help


def test_without_recommendations_the_first_pair_the_what_if_accepts_opens(sample_db: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "recommendations", lambda: engine(sample_db).clear())
    workloads = sorted(rows(sample_db, "scorecard")["workload"].unique().to_list())
    first = None
    for w in workloads:
        for t in TIERS:
            try:
                priced(sample_db, w, t)
            except whatif.WhatIfError:
                continue
            first = first or (w, t)
    assert first is not None
    at = open_page(sample_db, "executive", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert (at.selectbox(key="whatif_workload").value, at.selectbox(key="whatif_tier").value) == first
    assert at.selectbox(key="whatif_from").value == "auto" and not at.warning
    move = priced(sample_db, *first)
    assert metrics(at)["Δcost per month"] == compact_signed(move.delta_cost_usd_month, "USD")  # exact in its help


def saved_usd(db: Path, **params: object) -> str:
    frame = rows(db, "cache_savings", params)
    return charts.fmt_usd(float(frame["cost_saved_usd"].fill_null(0).sum()))


def test_cache_savings_on_the_sre_page_equal_the_query(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = saved_usd(sample_db)
    assert whole != charts.fmt_usd(0.0)
    at = open_page(sample_db, "slow-paths", monkeypatch)
    at.session_state["sre_tab"] = "Caches"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Cache savings"] == whole
    assert any("cost_saved_usd" in d.value.columns for d in at.dataframe)  # the per-cache table
    narrowed = open_page(sample_db, "slow-paths", monkeypatch, tier="edge", start="2026-10-01", end="2026-10-10")
    narrowed.session_state["sre_tab"] = "Caches"
    narrowed.run()
    assert not narrowed.exception, [e.value for e in narrowed.exception]
    f = Filters(date(2026, 10, 1), date(2026, 10, 10), "edge")
    expected = saved_usd(sample_db, tier="edge", workload=None, **f.window())
    assert metrics(narrowed)["Cache savings"] == expected != whole


def test_cache_savings_on_the_finops_page_equal_the_query(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, "finops", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    total = float(rows(sample_db, "cache_savings", {})["cost_saved_usd"].fill_null(0).sum())
    # the FinOps KPIs are compact to fit a laptop (the exact figure is in their help)
    assert metrics(at)["Cache savings"] == charts_costs.compact_money({"USD": total})


def test_slow_traces_and_trust_zone_tables_show_calendar_dates(sample_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Both tables go through the shared helper, so day buckets become dates and the CSV holds the plain rows."""
    seen: list[tuple[str, ...]] = []
    real = components.calendar_dates

    def spy(frame: pl.DataFrame) -> pl.DataFrame:
        seen.append(tuple(frame.columns))
        return real(frame)

    monkeypatch.setattr(components, "calendar_dates", spy)
    at = open_page(sample_db, "slow-paths", monkeypatch)  # its first tab: the slow traces
    firsts = {d.value.columns[0] for d in at.dataframe}
    at.session_state["sre_tab"] = "Trust zones"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    firsts |= {d.value.columns[0] for d in at.dataframe}
    assert {"open", "example"} <= firsts
    assert any(c[0] == "open" and "trace_id" in c for c in seen)  # the slow-trace table
    assert any(c[0] == "example" for c in seen)  # the trust-zone table
    assert any(c[0] == "trace_id" for c in seen)  # its CSV: the query's rows, without the link column
    assert real(pl.DataFrame({"day": [datetime(2026, 10, 3)]})).schema["day"] == pl.Date
