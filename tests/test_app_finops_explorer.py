"""Issue 22's FinOps views: the cost explorer (URL round trips, saved views, presets, totals equal `tierwise metric`),
anomalies with links, budgets at each status, and the allocation table summing to the ledger."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pytest
from ingest_helpers import FIXTURES, isolated, run_cli
from test_app_pages import fresh_cache, open_page, sample_db
from test_finops_checks import SPIKE_DAY, ledger

from app.views.finops_checks import STATUS
from queries import allocation_table
from queries import cost_explorer as cx
from queries.units import format_value

__all__ = ["fresh_cache", "sample_db"]

EXPLORES = [
    cx.Explore(),
    cx.Explore("mtd"), cx.Explore("last_month"), cx.Explore("all"),
    cx.Explore("custom", date(2025, 11, 20), date(2025, 11, 27)),
    cx.Explore("custom", date(2025, 11, 20), None), cx.Explore("custom", None, date(2025, 11, 27)),
    cx.Explore(grain="week"), cx.Explore(grain="month"),
    *(cx.Explore(by=d) for d in cx.DIMENSIONS), cx.Explore(by="tag:team"),
    cx.Explore(where=(("cloud_service", "Amazon SageMaker"), ("tag:team", "a=b&c"), ("tier", "edge"))),
]


@pytest.mark.parametrize("e", EXPLORES)
def test_every_control_round_trips_through_the_url(e: cx.Explore) -> None:
    assert cx.parse(e.to_params()) == e


def test_a_bad_url_falls_back_to_the_defaults() -> None:
    hostile = {"range": "forever", "grain": "second", "by": "planet", "from": "2025-13-40", "w.planet": "mars",
               "w.tier": "x" * 10_000, "w.tag:bad\"key;": "1"}
    assert cx.parse(hostile) == cx.Explore()
    assert cx.parse({"range": "custom", "from": "2025-11-27", "to": "2025-11-20"}).start == date(2025, 11, 20)


def test_presets_count_back_from_the_ledgers_last_day() -> None:
    first, last = date(2026, 9, 15), date(2026, 12, 6)
    assert cx.days(cx.Explore("mtd"), first, last) == (date(2026, 12, 1), last)
    assert cx.days(cx.Explore("last_month"), first, last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert cx.days(cx.Explore("last_3_months"), first, last) == (date(2026, 10, 1), last)
    assert cx.days(cx.Explore("all"), first, last) == (first, last)
    assert cx.days(cx.Explore("last_month"), first, date(2027, 1, 3)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_saved_views_parse_and_errors_name_the_view_and_field() -> None:
    (v,) = cx.parse_views([{"name": "GPU", "range": "last_month", "grain": "week", "by": "tag:team",
                            "where": {"tier": "hyperscale"}}])
    assert v == cx.SavedView("GPU", cx.Explore("last_month", None, None, "week", "tag:team", (("tier", "hyperscale"),)))
    (c,) = cx.parse_views([{"name": "nov", "from": date(2025, 11, 1), "to": "2025-11-30"}])
    assert c.explore.range == "custom" and c.explore.end == date(2025, 11, 30)
    for entry, says in [({"name": "x", "grain": "hour"}, "`grain`"), ({"name": "x", "by": "planet"}, "'planet'"),
                        ({"name": "x", "where": {"service": "router"}}, "'service'"),
                        ({"name": "x", "colour": "red"}, "unknown field 'colour'"),
                        ({"name": "x", "range": "mtd", "from": "2025-11-01"}, "`from` and `to`"),
                        ({"name": "x", "from": "soon"}, "`from`")]:
        with pytest.raises(cx.ViewError, match=says) as err:
            cx.parse_views([entry], "t.toml")
        assert "t.toml [[view]] #1 ('x')" in str(err.value)


def test_allocation_table_splits_shared_and_idle_and_sums_to_the_ledger() -> None:
    cost = {"kind": "cost", "day": date(2025, 11, 1), "billed_micros": 0, "weight": None}
    rows = pl.DataFrame([
        {**cost, "cost_id": 1, "tier": "hyperscale", "workload": "chat", "pool": None, "effective_micros": 70_000_000},
        {**cost, "cost_id": 2, "tier": "edge", "workload": None, "pool": "s1", "effective_micros": 40_000_000},
        {**cost, "cost_id": 3, "tier": "unknown", "workload": None, "pool": None, "effective_micros": 5_000_000},
        {"kind": "usage", "cost_id": None, "day": None, "tier": None, "workload": "chat", "pool": "s1",
         "effective_micros": None, "billed_micros": None, "weight": 3.0},
        {"kind": "usage", "cost_id": None, "day": None, "tier": None, "workload": "triage", "pool": "s1",
         "effective_micros": None, "billed_micros": None, "weight": 1.0},
        {"kind": "capacity", "cost_id": None, "day": None, "tier": None, "workload": None, "pool": "s1",
         "effective_micros": None, "billed_micros": None, "weight": 10.0},  # 4 of 10 used: 60 % idle
    ])
    out = allocation_table.table(rows.lazy()).collect()
    got = {(r["workload"], r["tier"]): r for r in out.iter_rows(named=True)}
    assert got[("chat", "hyperscale")]["allocated_usd"] == 70.0
    edge = got[("chat", "edge")]  # 40 USD site money: 16 used (12 chat, 4 triage), 24 idle shared 3:1
    assert (edge["shared_usd"], edge["idle_usd"]) == pytest.approx((12.0, 18.0))
    assert edge["gpu_efficiency_ratio"] == pytest.approx(0.4)
    assert got[("chat", "hyperscale")]["gpu_efficiency_ratio"] is None
    assert out.row(-1, named=True)["workload"] == allocation_table.UNALLOCATED
    assert out["total_usd"].sum() == pytest.approx(115.0)


def table_with(at: object, column: str) -> pl.DataFrame:
    """The page's table that has `column` (as polars)."""
    for frame in at.dataframe:  # type: ignore[attr-defined]
        if column in frame.value.columns:
            return pl.from_pandas(frame.value)
    raise AssertionError(f"no table with {column!r}")


def cli_json(db: Path, *args: str) -> list[dict[str, object]]:
    with isolated(db.parent):
        result = run_cli(*args, "--db", str(db), "--format", "json")
    assert result.exit_code in (0, 3), result.output
    loaded: list[dict[str, object]] = json.loads(result.output)
    return loaded


def test_explorer_totals_equal_tierwise_metric(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = cx.Explore("custom", date(2026, 10, 10), date(2026, 10, 16), "day", "cloud_service", (("tier", "hyperscale"),))
    at = open_page(sample_db, "costs", monkeypatch, **e.to_params())
    assert not at.exception, [x.value for x in at.exception]
    table = table_with(at, "Cloud service")
    shown = dict(zip(table["Cloud service"].to_list(), table["Total"].to_list(), strict=True))
    expected = cli_json(sample_db, "metric", "effective_cost", "--by", "cloud_service", "--where", "tier=hyperscale",
                        "--from", "2026-10-10", "--to", "2026-10-17")
    assert expected and len(shown) == len(expected) + 1
    for row in expected:
        assert shown[str(row["cloud_service"])] == format_value(row["effective_cost"], "money", "USD")
    (whole,) = cli_json(sample_db, "metric", "effective_cost", "--where", "tier=hyperscale", "--from", "2026-10-10",
                        "--to", "2026-10-17")
    assert shown["Total"] == format_value(whole["effective_cost"], "money", "USD")
    assert dict(at.query_params) == e.to_params()  # the view stays in the URL
    at.selectbox(key="cx_by").select("provider").run()  # a control changed is written back to the URL
    at.segmented_control(key="cx_grain").set_value("week").run()
    assert not at.exception, [x.value for x in at.exception]
    assert cx.parse(dict(at.query_params)) == cx.Explore(
        "custom", e.start, e.end, "week", "provider", e.where)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_finops_checks' ledger (a planted EC2 spike) beside the tiny store's traces (a page needs spans)."""
    work = tmp_path_factory.mktemp("planted")
    bill = work / "ledger.csv"
    bill.write_text(ledger(), encoding="utf-8")
    with isolated(work):
        loaded = run_cli("ingest", "--quiet", "--db", str(work / "store.duckdb"), str(bill),
                         str(FIXTURES / "tiny_store" / "traces.jsonl"))
    assert loaded.exit_code == 0, loaded.output
    return work / "store.duckdb"


def open_tab(db: Path, tab: str, monkeypatch: pytest.MonkeyPatch) -> object:
    at = open_page(db, "finops", monkeypatch)
    at.session_state["finops_tab"] = tab
    at.run()
    assert not at.exception, [x.value for x in at.exception]
    return at


def test_the_planted_spike_is_the_top_anomaly_with_a_link(planted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(planted, "Anomalies", monkeypatch)
    table = table_with(at, "Driver")
    top = table.row(0, named=True)
    assert (top["Day"], top["Driver"], top["Value"], top["Impact"]) == (
        str(SPIKE_DAY), "Cloud service", "Amazon Elastic Compute Cloud", "795.00 USD")
    assert table["Day"].to_list() == [r["day"] for r in cli_json(planted, "anomalies")]
    link = urlsplit(top["Explore"])
    assert link.path == "costs"
    e = cx.parse(dict(parse_qsl(link.query)))
    assert e.where == (("cloud_service", "Amazon Elastic Compute Cloud"),) and e.end == SPIKE_DAY
    assert e.start == SPIKE_DAY - timedelta(days=7) and e.grain == "day"


def test_budgets_at_each_status(planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(planted, "Budgets", monkeypatch)  # none configured: the TOML to add one
    assert any("[[budget]]" in c.value for c in at.code)  # type: ignore[attr-defined]
    config = tmp_path / "tierwise.toml"
    config.write_text("".join(
        f'[[budget]]\nname = "{n}"\namount = {a}\ncurrency = "USD"\nwhere = {{ cloud_service = "Amazon Elastic '
        f'Compute Cloud" }}\n\n' for n, a in (("ok", 100_000), ("warning", 35_000), ("on course", 25_000),
                                               ("over", 5_000))), encoding="utf-8")
    monkeypatch.setenv("TIERWISE_CONFIG", str(config))
    at = open_tab(planted, "Budgets", monkeypatch)
    table = table_with(at, "Budget")
    cli = {b["name"]: b for b in cli_json(planted, "budgets", "--config", str(config))}
    assert dict(zip(table["Budget"], table["Status"], strict=True)) == {
        "ok": STATUS["ok"], "warning": STATUS["warning"], "on course": STATUS["forecast_breach"],
        "over": STATUS["breached"]}
    for r in table.iter_rows(named=True):
        assert r["Spent"] == format_value(cli[r["Budget"]]["actual"], "money", "USD")
        assert r["Forecast"] == format_value(cli[r["Budget"]]["forecast"], "money", "USD")


def test_allocation_table_sums_to_the_ledger(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_tab(sample_db, "Allocation", monkeypatch)
    table = table_with(at, "GPU efficiency")
    (ledger_total,) = cli_json(sample_db, "metric", "effective_cost")
    total = table.row(-1, named=True)
    assert total["Workload"] == "Total"
    assert total["Total"] == format_value(ledger_total["effective_cost"], "money", "USD")
    assert table.null_count().sum_horizontal()[0] == 0 and "None" not in table.write_csv()
