"""FinOps queries on the tiny store (goldens, hand numbers), allocation preserving money, forecast and decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import FIXTURES, run_cli

import store
from queries import decisions, forecast
from queries.cost_by_workload_day import cost_by_workload_day

SOURCES = (FIXTURES / "tiny_store" / "traces.jsonl", FIXTURES / "tiny_store" / "metrics.jsonl",
           FIXTURES / "tiny_store" / "bills-focus.csv", FIXTURES / "finops_tiny" / "daily-focus.csv")
CASES: list[tuple[str, str, dict[str, object]]] = [
    ("cost_anomalies", "cost_anomalies", {}),
    ("cost_allocation_inputs", "cost_allocation_inputs", {}),
    ("cost_by_workload_day", "cost_by_workload_day", {}),
    ("unit_costs_by_tier", "unit_costs_by_tier", {}),
    ("scorecard_inputs", "scorecard_inputs", {}),
    ("scorecard_hops", "scorecard_hops", {}),
    ("scorecard", "scorecard", {}),
    ("cost_forecast", "cost_forecast", {}),
    ("cost_by_month", "cost_by_month", {}),
    ("cost_by_tier", "cost_by_tier", {}),
    ("cost_month_over_month", "cost_month_over_month", {}),
    ("cost_reconciliation", "cost_reconciliation", {}),
    ("edge_capex", "edge_capex", {}),
    ("egress_cost_by_direction", "egress_cost_by_direction", {}),
    ("unit_cost_by_day", "unit_cost_by_day", {}),
    ("focus_export", "focus_export", {}),
    ("ledger_coverage", "ledger_coverage", {}),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, output = ingest_isolated(tmp_path_factory.mktemp("finops"), SOURCES)
    assert "117 accepted, 0 rejected" in output
    return path


run = run_query


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows(db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    rows = run_query(db, name, params)
    if "x_SourceFile" in rows.columns:  # the absolute path ingest read: kept relative to the fixtures, as in a clone
        rows = rows.with_columns(pl.col("x_SourceFile").str.replace(f"{FIXTURES}/", "", literal=True))
    assert_golden(stem, rows)


def test_cost_anomaly_by_hand(db: Path) -> None:
    rows = run(db, "cost_anomalies", {"workload": "ledger"})
    flagged = rows.filter("anomalous")
    assert flagged["day"].to_list() == [dt.date(2025, 11, 28)]
    assert flagged.row(0, named=True)["threshold_usd"] == pytest.approx(110.0)
    assert rows.filter(pl.col("history_days") < 3)["threshold_usd"].null_count() == 3


def test_allocation_sums_back_to_the_ledger(db: Path) -> None:
    alloc = run(db, "cost_by_workload_day")
    con = store.connect(db, read_only=True)
    try:
        sql = "SELECT sum(EffectiveCost)::DOUBLE, sum(BilledCost)::DOUBLE FROM costs"
        effective, billed = con.execute(sql).fetchone() or (0, 0)
    finally:
        con.close()
    assert alloc["effective_cost_usd"].sum() == pytest.approx(effective, abs=0.005)
    assert alloc["billed_cost_usd"].sum() == pytest.approx(billed, abs=0.005)
    # hospital's $40 (capex + power) with mean GPU utilization 0.4 that day: $16 shared to triage, $24 idle.
    edge = alloc.filter(pl.col("tier") == "edge").rows_by_key("category", named=True, unique=True)
    assert edge["shared"]["effective_cost_usd"] == pytest.approx(16.0)
    assert edge["idle"]["effective_cost_usd"] == pytest.approx(24.0)
    assert set(alloc["category"]) <= {"allocated", "shared", "idle", "unallocated"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.sampled_from([None, "a", "b"]), st.sampled_from([None, "p", "q"])),
                min_size=1, max_size=12),
       st.lists(st.tuples(st.sampled_from(["p", "q"]), st.sampled_from(["a", "b", "c"]), st.floats(0.01, 50)),
                max_size=6),
       st.floats(1, 200))
def test_allocation_preserves_money_to_the_micro_dollar(costs: list[tuple[int, str | None, str | None]],
                                                        usage: list[tuple[str, str, float]], capacity: float) -> None:
    rows = pl.DataFrame(
        [{"kind": "cost", "cost_id": i, "day": dt.date(2026, 1, 1), "tier": "edge", "workload": w, "pool": p,
          "effective_micros": m, "billed_micros": m // 2, "weight": None} for i, (m, w, p) in enumerate(costs)]
        + [{"kind": "usage", "cost_id": None, "day": None, "tier": None, "workload": w, "pool": p,
            "effective_micros": None, "billed_micros": None, "weight": x} for p, w, x in usage]
        + [{"kind": "capacity", "cost_id": None, "day": None, "tier": None, "workload": None, "pool": "p",
            "effective_micros": None, "billed_micros": None, "weight": capacity}],
        schema={"kind": pl.String, "cost_id": pl.Int64, "day": pl.Date, "tier": pl.String, "workload": pl.String,
                "pool": pl.String, "effective_micros": pl.Int64, "billed_micros": pl.Int64, "weight": pl.Float64})
    out = cost_by_workload_day(rows.lazy()).collect()
    assert round(out["effective_cost_usd"].sum() * 1e6) == sum(m for m, _, _ in costs)
    assert round(out["billed_cost_usd"].sum() * 1e6) == sum(m // 2 for m, _, _ in costs)


def test_forecast_by_hand() -> None:
    days = [dt.date(2026, 11, d) for d in range(1, 21)]
    costs = [10.0] * 10 + [10.0, 12.0, 8.0, 10.0, 11.0, 9.0, 10.0, 10.0, 14.0, 10.0]
    out = forecast.month_end(pl.LazyFrame({"tier": "edge", "day": days, "cost_usd": costs}), 10, 2.0).collect()
    edge = out.filter(pl.col("tier") == "edge").row(0, named=True)
    # last 10 days: median 10, |dev| 0,2,2,0,1,1,0,0,4,0 → MAD 0.5; 10 days left in November
    assert edge["month_to_date_usd"] == pytest.approx(204.0)
    assert edge["remaining_days"] == 10
    assert edge["forecast_usd"] == pytest.approx(304.0)
    assert edge["forecast_low_usd"] == pytest.approx(204.0 + 10 * (10 - 2 * 1.4826 * 0.5))
    assert edge["forecast_high_usd"] == pytest.approx(204.0 + 10 * (10 + 2 * 1.4826 * 0.5))
    assert out["tier"].to_list() == ["edge", "all"]


def test_decisions_are_remembered_beside_the_store(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    k = decisions.key("kiosk", "hyperscale", "edge", "latency_closer")
    assert decisions.load(db) == {}
    decisions.record(db, k, "accepted", "pilot at store 31")
    decisions.record(db, decisions.key("a", "edge", "hyperscale", "r"), "dismissed")
    got = decisions.load(db)
    assert got[k].state == "accepted" and got[k].note == "pilot at store 31"
    assert decisions.path_for(db).name == "x.duckdb.decisions.json"
    with pytest.raises(ValueError):
        decisions.record(db, k, "maybe")


def test_whatif_cli(db: Path) -> None:
    result = run_cli("whatif", "--db", str(db), "--workload", "kiosk", "--to", "edge", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"from_tier":"hyperscale"' in result.stdout.replace(" ", "")
    bad = run_cli("whatif", "--db", str(db), "--workload", "nope", "--to", "edge")
    assert bad.exit_code != 0


def test_a_month_still_being_billed_compares_at_its_run_rate(tmp_path: Path) -> None:
    """November billed daily ($10 a day) and as one monthly charge ($300), December so far one day: the total falls
    by 96.7 %, the run rate per covered day not at all."""
    head = ("BilledCost,EffectiveCost,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,"
            "BillingPeriodEnd,BillingCurrency,ProviderName,ServiceCategory,ServiceName,ResourceId,x_Tier,Tags")

    def row(usd: int, start: dt.date, end: dt.date, period: dt.date, tier: str) -> str:
        nxt = (period + dt.timedelta(days=32)).replace(day=1)
        return (f"{usd},{usd},Usage,{start}T00:00:00Z,{end}T00:00:00Z,{period}T00:00:00Z,{nxt}T00:00:00Z,USD,AWS,"
                f"Compute,Amazon Elastic Compute Cloud,i-0{tier},{tier},")

    nov, dec = dt.date(2025, 11, 1), dt.date(2025, 12, 1)
    daily = [row(10, nov + dt.timedelta(days=i), nov + dt.timedelta(days=i + 1), nov, "hyperscale") for i in range(30)]
    bills = tmp_path / "bills-focus.csv"
    bills.write_text("\n".join([head, *daily, row(10, dec, dec + dt.timedelta(days=1), dec, "hyperscale"),
                                row(300, nov, dec, nov, "regional"),
                                row(10, dec, dec + dt.timedelta(days=1), dec, "regional")]) + "\n")
    db, output = ingest_isolated(tmp_path, [bills])
    assert "33 accepted, 0 rejected" in output
    months = run_query(db, "cost_month_over_month").filter(pl.col("month") == dec).rows_by_key("tier", named=True,
                                                                                              unique=True)
    for tier in ("hyperscale", "regional"):
        dec_row = months[tier]
        assert dec_row["covered_days"] == 1 and dec_row["previous_effective_cost_usd"] == 300.0
        assert dec_row["change_ratio"] == pytest.approx(10 / 300 - 1)
        assert dec_row["daily_change_ratio"] == pytest.approx(0.0)
