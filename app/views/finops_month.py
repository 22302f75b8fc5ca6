"""The month still being billed, honestly: month to date beside the same days of the month before, and the month-end
forecast (queries/budgets.py's method, the one `tierwise budgets` uses) as a labelled dashed bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
import streamlit as st

from app import charts_costs, components, data
from queries import budgets
from queries.semantic import metric as metrics
from queries.semantic.present import period_label
from queries.units import format_value

Where = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Ledger:
    """The days the ledger covers: first and last (inclusive) UTC day, and its last charge start and end."""

    first: date | None
    last: date | None
    last_start: object
    last_end: object


def ledger() -> Ledger:
    rows = data.query("ledger_coverage")
    if not rows.height or rows["first_charge_start"][0] is None:
        return Ledger(None, None, None, None)
    r = rows.row(0, named=True)
    covered = budgets.covered_to(r["last_charge_end"])
    return Ledger(r["first_charge_start"].date(), covered - timedelta(days=1) if covered else None,
                  r["last_charge_start"], r["last_charge_end"])


def run(req: metrics.Request) -> pl.DataFrame:
    """A semantic-model request through the dashboard's cache (what queries/budgets and queries/anomalies call)."""
    return data.metric(req.measures, req.by, req.where, req.from_ns, req.to_ns, req.grain)


def ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 10**9


def _spend(where: Where, start: date, end: date) -> dict[str, float]:
    """Effective cost per currency in [start, end)."""
    rows = data.metric(("effective_cost",), (), where, ns(start), ns(end))
    return {r["currency"]: float(r["effective_cost"] or 0.0) for r in rows.iter_rows(named=True)}


def _month_after(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class SoFar:
    """The latest billed month in one currency: to date, forecast, and the month before (same days and whole)."""

    currency: str
    month: date
    end: budgets.MonthEnd
    same_days: float
    previous: float
    comparable: bool  # the ledger covers the month before from its 1st: the same days are like with like

    @property
    def change_pct(self) -> float | None:
        if not self.comparable or not self.same_days:
            return None
        return (self.end.actual / self.same_days - 1) * 100


def so_far(where: Where) -> list[SoFar]:
    """The month of the latest charge, per currency, under `where`."""
    led = ledger()
    month = budgets.month_of(led.last_start)
    if month is None or led.last is None:
        return []
    first = date.fromisoformat(f"{month}-01")
    before = (first - timedelta(days=1)).replace(day=1)
    covered = budgets.covered_to(led.last_end)
    upto = min(led.last, _month_after(first) - timedelta(days=1))
    same_end = min(before + timedelta(days=(upto - first).days + 1), first)
    same, whole = _spend(where, before, same_end), _spend(where, before, first)
    currencies = sorted(set(_spend(where, first, _month_after(first))) | set(whole))
    comparable = led.first is not None and led.first <= before
    return [SoFar(c, first, budgets.month_end(run, where, c, month, covered), same.get(c, 0.0), whole.get(c, 0.0),
                  comparable) for c in currencies]


def forecast_kpi(where: Where) -> tuple[str, str, str]:
    """(label, value, help) of the month-end forecast KPI: which month, compact, the exact amounts in the help."""
    found = so_far(where)
    if not found:
        return "Month-end forecast", "–", "the ledger holds no charges"
    amounts = {s.currency: s.end.forecast for s in found}
    name = f"{found[0].month:%b %Y}"
    return (f"Forecast for {name}", charts_costs.compact_money(amounts),
            f"{charts_costs.exact_money(amounts)}: {name} to date + its remaining days × the median daily spend of the "
            f"last {budgets.RUN_RATE_DAYS} days the ledger covers (as `tierwise budgets`); every filter but the time "
            "range")


def section(where: Where, key: str, kpis: bool = True) -> None:
    """KPIs and a chart per currency: month to date, the same days of the month before, the forecast, the month
    before whole."""
    found = so_far(where)
    if not found:
        components.no_rows("charges in the latest month")
        return
    for s in found:
        nxt = _month_after(s.month)
        before = (s.month - timedelta(days=1)).replace(day=1)
        to_date = period_label(s.month, nxt, s.end.as_of)
        days = ((s.end.as_of or s.month) - s.month).days + 1
        same = period_label(before, before + timedelta(days=min(days, (s.month - before).days)), None)
        if s.end.whole:
            st.caption(f"{s.month:%B %Y} is billed whole: no forecast. Beside it, {before:%B %Y}.")
            bars = [(f"{before:%b %Y}\nwhole", s.previous, "previous"), (f"{s.month:%b %Y}\nwhole", s.end.actual,
                                                                            "current")]
        else:
            first = ledger().first
            held = before if s.comparable or first is None else max(before, first)
            whole = (f"{before:%b %Y}\nwhole" if held == before else
                     f"{period_label(held, s.month, None)}\n(ledger starts {data_day(first)})")
            bars = [*([(f"{same}\nsame days", s.same_days, "previous")] if s.comparable else []),
                    (to_date.replace(", to date", "\nto date"), s.end.actual, "current"), (whole, s.previous, "previous"),
                    (f"{s.month:%b %Y}\nforecast", s.end.forecast, "forecast")]
        change = s.change_pct
        components.kpi_row([] if not kpis else [
            (f"To date ({to_date.removesuffix(', to date')})", charts_costs.compact(s.end.actual, s.currency),
             format_value(s.end.actual, "money", s.currency)),
            (f"Same days of {before:%b}", charts_costs.compact(s.same_days, s.currency) if s.comparable else "–",
             f"{same}: " + (format_value(s.same_days, "money", s.currency) if s.comparable else
                            f"not billed: the ledger starts on {data_day(ledger().first)}")),
            ("Change, like with like", "–" if change is None else f"{change:+.1f} %",
             f"{to_date} against {same}" if change is not None else "no like-with-like comparison: the ledger does "
             f"not cover {same} from its first day"),
            (f"Forecast for {s.month:%b %Y}", charts_costs.compact(s.end.forecast, s.currency),
             f"{format_value(s.end.forecast, 'money', s.currency)}: to date + {(nxt - s.month).days - days} remaining "
             f"days × the median daily spend of the last {budgets.RUN_RATE_DAYS} days (as `tierwise budgets`)"),
        ])
        components.chart(charts_costs.month_so_far(bars, s.currency, f"{s.month:%B %Y} so far ({s.currency})"),
                         f"{key}_{s.currency}")
        if s.end.whole:
            continue
        note = "" if s.comparable else (f" The ledger starts on {data_day(ledger().first)}, so {before:%B} is only "
                                        "partly billed: no change ratio.")
        st.caption(f"{s.month:%B %Y} is still being billed (to {data_day(s.end.as_of)}): its month to date stands "
                   f"beside the same days of {before:%B}, and the dashed bar is the forecast for the whole of "
                   f"{s.month:%B %Y}, beside {before:%B} whole.{note}")


def data_day(day: date | None) -> str:
    return f"{day:%b} {day.day} {day.year}" if day else "–"
