"""Pages agree with `tierwise metric`: every KPI the Overview and FinOps pages draw from the semantic model equals
the CLI's number for the same filters, on the committed sample, for fixed and random filter combinations."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import run_cli
from streamlit.testing.v1 import AppTest
from test_app_pages import fresh_cache, open_page, sample_db  # noqa: F401  (fixtures shared with the page tests)

from app import charts, charts_costs
from queries.engines.duckdb_engine import DuckDBEngine
from queries.semantic import metric as metrics
from queries.units import format_value

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 7)


def cli_metric(db: Path, measures: str, by: str, params: dict[str, str]) -> list[dict[str, object]]:
    """`tierwise metric` for the page's URL filters: a page's `end` day is inclusive, `--to` exclusive."""
    args = ["metric", measures, "--db", str(db), "--format", "json"]
    if by:
        args += ["--by", by]
    for dim in ("tier", "site", "workload"):
        if dim in params:
            args += ["--where", f"{dim}={params[dim]}"]
    if "start" in params:
        args += ["--from", params["start"]]
    if "end" in params:
        args += ["--to", (date.fromisoformat(params["end"]) + timedelta(days=1)).isoformat()]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def kpis(at: AppTest) -> dict[str, str]:
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: m.value for m in at.metric}


def money(rows: list[dict[str, object]], col: str, currencies: list[str] | None = None) -> str:
    amounts = dict.fromkeys(currencies or [], 0.0) | {str(r["currency"]): float(str(r[col])) for r in rows}
    return charts.fmt_money(amounts)


def exact(rows: list[dict[str, object]], col: str, currencies: list[str] | None = None) -> str:
    amounts = dict.fromkeys(currencies or [], 0.0) | {str(r["currency"]): float(str(r[col])) for r in rows}
    return charts_costs.exact_money(amounts)


def check_overview(db: Path, at: AppTest, params: dict[str, str]) -> None:
    rows = cli_metric(db, "requests,latency_p50_ms,latency_p95_ms,error_rate_pct", "tier", params)
    expected = {f"{r['tier']} p95": format_value(r["latency_p95_ms"], "ms") for r in rows}
    assert kpis(at) == expected


def check_finops(db: Path, at: AppTest, params: dict[str, str]) -> None:
    total = cli_metric(db, "effective_cost,billed_cost", "", params)
    unallocated = cli_metric(db, "effective_cost", "", {**params, "workload": "unallocated"}) \
        if "workload" not in params else []
    kpis(at)  # no exception
    # the FinOps KPIs are compact to fit a laptop; the exact amounts open their help
    shown = {m.label: (m.proto.help or "").replace("\\", "").split(". ")[0] for m in at.metric}
    assert shown["EffectiveCost"] == exact(total, "effective_cost")
    assert shown["BilledCost"] == exact(total, "billed_cost")
    if "workload" not in params:
        assert shown["Unallocated"] == exact(unallocated, "effective_cost", [str(r["currency"]) for r in total])


CASES = [{}, {"start": "2026-10-03", "end": "2026-10-04"}, {"tier": "edge"}, {"workload": "public-chat"},
         {"tier": "hyperscale", "start": "2026-10-02", "end": "2026-10-05"}]


@pytest.mark.parametrize("params", CASES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "none")
def test_overview_kpis_equal_tierwise_metric(sample_db: Path, params: dict[str, str],  # noqa: F811
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    check_overview(sample_db, open_page(sample_db, "overview", monkeypatch, **params), params)


@pytest.mark.parametrize("params", CASES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "none")
def test_finops_kpis_equal_tierwise_metric(sample_db: Path, params: dict[str, str],  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    check_finops(sample_db, open_page(sample_db, "finops", monkeypatch, **params), params)


def test_a_time_range_prorates_the_finops_totals(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    whole = kpis(open_page(sample_db, "finops", monkeypatch))["EffectiveCost"]
    day = kpis(open_page(sample_db, "finops", monkeypatch, start="2026-10-03", end="2026-10-03"))["EffectiveCost"]
    assert whole != day


def store_values(db: Path, column: str) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM spans WHERE {column} IS NOT NULL "  # noqa: S608
                                          f"ORDER BY 1").fetchall()]
    finally:
        con.close()


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_filters_agree_on_every_page(sample_db: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                           data: st.DataObject) -> None:
    params: dict[str, str] = {}
    first = data.draw(st.integers(0, 6), label="first day")
    if data.draw(st.booleans(), label="time range"):
        params["start"] = (FIRST + timedelta(days=first)).isoformat()
        params["end"] = (FIRST + timedelta(days=data.draw(st.integers(first, 6), label="last day"))).isoformat()
    for dim, column in (("tier", "tier"), ("site", "site"), ("workload", "workload")):
        values = store_values(sample_db, column)
        if values and data.draw(st.booleans(), label=f"{dim}?"):
            params[dim] = data.draw(st.sampled_from(values), label=dim)
    from app import data as app_data

    app_data.clear()
    check_overview(sample_db, open_page(sample_db, "overview", monkeypatch, **params), params)
    check_finops(sample_db, open_page(sample_db, "finops", monkeypatch, **params), params)


def test_the_dashboard_and_the_cli_read_one_model(sample_db: Path) -> None:  # noqa: F811
    """The Overview's request counts are the model's, not a second definition: entries by tier equal metrics.run."""
    duck = DuckDBEngine.open(sample_db)
    try:
        frame = metrics.run(duck, metrics.Request(("requests",), ("tier",)))
    finally:
        duck.close()
    rows = cli_metric(sample_db, "requests", "tier", {})
    assert [r["requests"] for r in rows] == pytest.approx(frame["requests"].to_list(), rel=1e-12)
