"""Money apart from value (issue 23): the `[value]` method read from tierwise.toml, gains priced only by it, a payback
in money only with its formula and inputs, and the stated weekly-cycle test."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from queries import savings, value, weekly


def test_the_value_method_is_read_from_tierwise_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "tierwise.toml"
    cfg.write_text("[value]\nusd_per_ms_p95_per_1m_requests = 0.5\nusd_per_regulated_request_in_zone = 0.01\n")
    method = value.configured(cfg)
    assert method == value.ValueMethod(0.5, 0.01)
    assert "0.5 USD per ms of p95 saved per 1M requests" in method.describe()
    assert "0.01 USD per regulated request" in method.describe()
    bare = tmp_path / "bare.toml"
    bare.write_text("[scorecard]\ndowntime_cost_usd_per_hour = 800\n")
    assert value.configured(bare) == value.ValueMethod()  # no [value]: nothing is priced
    assert "latency: not priced" in value.ValueMethod().describe()


@pytest.mark.parametrize("table", ["[value]\nusd_per_ms = 1\n", "[value]\nusd_per_ms_p95_per_1m_requests = -1\n",
                                   "[value]\nusd_per_regulated_request_in_zone = 'a lot'\n"])
def test_a_value_table_tierwise_cannot_read_is_refused(tmp_path: Path, table: str) -> None:
    cfg = tmp_path / "tierwise.toml"
    cfg.write_text(table)
    with pytest.raises(value.ValueConfigError, match=r"\[value\]"):
        value.configured(cfg)


def test_gains_are_money_only_when_the_method_prices_them() -> None:
    unpriced = value.worth(value.ValueMethod(), -100.0, -50.0, 2_000_000.0, critical=True, into_zone=True)
    assert (unpriced.savings_usd_month, unpriced.ms_p95_saved, unpriced.requests_into_zone_per_month) == (
        100.0, 50.0, 2_000_000.0)
    assert unpriced.latency_usd_month is None and unpriced.compliance_usd_month is None
    assert unpriced.value_usd_month == 100.0  # the money alone: no unexplained dollar figure
    assert unpriced.note() == ("50 ms of p95 saved on 2.0M requests/month (not priced); 2.0M regulated "
                               "requests/month brought into their zone (not priced)")
    priced = value.worth(value.ValueMethod(0.5, 0.01), -100.0, -50.0, 2_000_000.0, critical=True, into_zone=True)
    # 0.5 USD × 50 ms × 2 (M requests) = 50; 0.01 USD × 2M regulated requests = 20,000
    assert (priced.latency_usd_month, priced.compliance_usd_month) == (50.0, 20_000.0)
    assert priced.value_usd_month == 100.0 + 50.0 + 20_000.0
    relaxed = value.worth(value.ValueMethod(0.5), 30.0, -50.0, 2_000_000.0, critical=False, into_zone=False)
    assert (relaxed.ms_p95_saved, relaxed.latency_usd_month, relaxed.value_usd_month) == (0.0, 0.0, -30.0)
    assert relaxed.note() == "no latency or compliance gain"  # a budget over 300 ms: ms saved are not a gain


def test_requests_per_month_scale_the_moved_share_to_a_730_hour_month() -> None:
    inputs = pl.DataFrame({"workload": ["w", "w"], "tier": ["device", "hyperscale"],
                           "requests_adjusted": [1000.0, 100.0], "span_days": [10, 10]})
    assert value.requests_per_month(inputs, "w", "hyperscale", 0.1) == pytest.approx(100 * 730 / 240)


def _card() -> pl.DataFrame:
    """One edge portion costing 1,000/month now and 1,300 on its cheapest other tier (regional)."""
    return pl.DataFrame({"workload": ["a"] * 3, "from_tier": ["edge"] * 3, "from_site": ["s"] * 3,
                         "option_tier": ["edge", "regional", "hyperscale"], "is_current": [True, False, False],
                         "total_usd_month": [1000.0, 1300.0, 1500.0]})


def test_the_payback_counts_money_only_and_says_its_formula() -> None:
    capex = pl.DataFrame({"amortization_usd_month": [500.0, 500.0]})  # 1,000/month × 36 months = 36,000
    recs = pl.DataFrame({"workload": ["k", "m"], "from_tier": ["hyperscale"] * 2, "to_tier": ["edge"] * 2,
                         "rule": ["latency_closer", "trust_inward"], "delta_cost_usd_month": [-200.0, 50.0],
                         # priced value: 5,000 of latency on k, 10,000 of compliance on m (value = −Δcost + gains)
                         "value_usd_month": [5200.0, 9950.0]})
    row = savings.edge_payback(_card(), capex, recs).row(0, named=True)
    assert row["edge_capex_usd"] == 36_000.0 and row["amortization_months"] == 36
    assert row["edge_avoided_usd_month"] == 300.0  # 1,300 on regional − 1,000 on edge
    assert row["edge_moves_saving_usd_month"] == 200.0  # the move that saves money; the dearer one adds nothing
    assert row["avoided_usd_month"] == 500.0
    assert row["payback_months"] == pytest.approx(36_000 / 500)  # the value of the moves never shortens it
    assert row["edge_moves_value_usd_month"] == pytest.approx(15_000.0)  # given apart
    text = savings.payback_formula(row)
    assert text.startswith("payback = capex ÷ monthly avoided cost = 36,000.00 USD (1,000.00 USD/month amortization "
                           "× 36 months) ÷ 500.00 USD/month = 72.0 months.")
    assert "cheapest other tier minus on edge (300.00 USD/month)" in text and "save (200.00 USD/month)" in text
    nothing = savings.edge_payback(_card().with_columns(total_usd_month=pl.lit(1000.0)), capex, recs.head(0))
    assert nothing["payback_months"][0] is None
    assert "never: edge avoids no cost" in savings.payback_formula(nothing.row(0, named=True))


def test_the_weekly_test_states_its_numbers() -> None:
    start = date(2026, 11, 2)  # a Monday
    days = [start + timedelta(days=i) for i in range(14)]
    flat = weekly.weekly(days, [2.0] * 14)
    assert flat is not None and not flat.cycle and flat.gap_pct == 0
    spiky = weekly.weekly(days, [3.0 if d.weekday() >= 5 else 2.0 for d in days])
    assert spiky is not None and spiky.cycle and (spiky.weekend_days, spiky.weekdays) == (4, 10)
    assert spiky.gap_pct == pytest.approx(50.0)
    assert spiky.text("Cost", "USD") == (
        "Weekly pattern: a weekly cycle. Cost averages 3.00 USD on the 4 weekend days and 2.00 USD on the 10 weekdays "
        "(+50 %); the test: weekend and weekday means differ by more than 15 %.")
    assert weekly.weekly(days[:5], [1.0] * 5) is None  # no weekend day: no test
