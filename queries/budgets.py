"""Budgets: `[[budget]]` in tierwise.toml, each month's spend and forecast against them, and their status.

Spend is the semantic model's `effective_cost` under the budget's filters for the calendar month (UTC), in the
budget's currency; the forecast adds the month's remaining days at the median daily spend of the last two weeks the
ledger covers. A month the ledger covers whole is forecast at what it spent.
"""

from __future__ import annotations

import statistics
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queries.semantic import metric as metrics
from queries.semantic.model import ModelError
from store import config_tables

if TYPE_CHECKING:
    from queries.engines.engine import Engine

STATUSES = ("ok", "warning", "forecast_breach", "breached")
BREACHES = ("forecast_breach", "breached")  # `tierwise budgets` exits 3 on any of these
RUN_RATE_DAYS = 14
DEFAULT_ALERTS = (80.0, 100.0)
BUDGET_FIELDS = ("name", "amount", "currency", "where", "alert_pct")
Runner = Callable[[metrics.Request], Any]  # runs a semantic-model request: metrics.run, or the dashboard's cache


class BudgetError(ValueError):
    """A budget that cannot be read or measured, named by position and name."""


@dataclass(frozen=True)
class Budget:
    """One `[[budget]]`: a monthly amount in a currency over the money its `where` filters select."""

    name: str
    amount: float
    currency: str
    where: tuple[tuple[str, str], ...] = ()
    alert_pct: tuple[float, ...] = DEFAULT_ALERTS


@dataclass(frozen=True)
class Standing:
    """A budget in one month: spend so far, forecast for the whole month, and what they mean against the amount."""

    budget: Budget
    month: str            # YYYY-MM
    as_of: date | None    # the last day the ledger covers in the month (None: it holds nothing for the month)
    actual: float
    forecast: float
    status: str

    def as_dict(self) -> dict[str, Any]:
        b = self.budget
        return {"name": b.name, "month": self.month, "amount": b.amount, "currency": b.currency,
                "actual": round(self.actual, 2), "forecast": round(self.forecast, 2), "status": self.status,
                "used_pct": round(100 * self.actual / b.amount, 1), "forecast_pct": round(100 * self.forecast / b.amount, 1),
                "as_of": self.as_of.isoformat() if self.as_of else None, "where": dict(b.where),
                "alert_pct": list(b.alert_pct)}


def parse(raw: Any, config: str = "tierwise.toml") -> tuple[Budget, ...]:
    """The `[[budget]]` tables; BudgetError names the budget and the field at fault."""
    out: list[Budget] = []
    for where_, entry in config_tables.entries(raw, "budget", BUDGET_FIELDS, config, BudgetError):
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or name.strip() in {b.name for b in out}:
            raise BudgetError(f"{where_}: `name` must be a non-empty string no other budget has")
        amount = entry.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            raise BudgetError(f"{where_}: `amount` must be a number above 0 (money per month)")
        currency = entry.get("currency")
        if not isinstance(currency, str) or not currency.strip().isalpha() or len(currency.strip()) != 3:
            raise BudgetError(f"{where_}: `currency` must be an ISO 4217 code such as \"USD\"")
        scope = config_tables.scope(entry.get("where"), where_, BudgetError)
        alerts = entry.get("alert_pct", list(DEFAULT_ALERTS))
        if not (isinstance(alerts, list) and alerts and all(
                isinstance(a, int | float) and not isinstance(a, bool) and 0 < a <= 1000 for a in alerts)):
            raise BudgetError(f"{where_}: `alert_pct` must be a list of percentages such as [80, 100]")
        out.append(Budget(name.strip(), float(amount), currency.strip().upper(), scope,
                          tuple(sorted(float(a) for a in alerts))))
    return tuple(out)


def configured(config: Path | None) -> tuple[Budget, ...]:
    """The budgets of a tierwise.toml (none without one)."""
    if config is None:
        return ()
    return parse(tomllib.loads(config.read_text(encoding="utf-8")).get("budget"), str(config))


def status(actual: float, forecast: float, amount: float, alert_pct: Sequence[float], whole_month: bool) -> str:
    """breached (spent the amount), forecast_breach (on course to), warning (spend or forecast past an alert below
    100 %), else ok."""
    if actual >= amount:
        return "breached"
    if not whole_month and forecast >= amount:
        return "forecast_breach"
    lowest = min((a for a in alert_pct if a < 100), default=None)
    if lowest is not None and max(actual, forecast) >= amount * lowest / 100:
        return "warning"
    return "ok"


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 10**9


def _month(text: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise BudgetError(f"month {text!r}: use YYYY-MM") from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt


def latest_month(engine: Engine) -> str | None:
    """The month (YYYY-MM) of the latest charge in the ledger."""
    (last,) = engine.first_row("SELECT max(ChargePeriodStart) FROM costs")
    return month_of(last)


def month_of(last: object) -> str | None:
    """The month (YYYY-MM) of a charge start (None: no charges)."""
    return last.strftime("%Y-%m") if isinstance(last, datetime | date) else None


def covered_to(last_end: object) -> date | None:
    """The day after the last the ledger covers, from its last charge end (a charge ending mid-day covers that day)."""
    covered = last_end.date() if isinstance(last_end, datetime) else last_end if isinstance(last_end, date) else None
    if isinstance(last_end, datetime) and last_end.time() != datetime.min.time():
        covered = covered + timedelta(days=1) if covered else None
    return covered


def _spend(run: Runner, where: tuple[tuple[str, str], ...], currency: str, start: date, end: date,
           by_day: bool) -> dict[date, float]:
    rows = run(metrics.Request(("effective_cost",), ("time",) if by_day else (), where, _ns(start), _ns(end), "day"))
    rows = rows.filter(rows["currency"] == currency) if "currency" in rows.columns else rows.clear()
    if not by_day:
        return {start: float(rows["effective_cost"].sum() or 0.0)}
    return {t.date(): float(v or 0.0) for t, v in zip(rows["time"], rows["effective_cost"], strict=True)}


@dataclass(frozen=True)
class MonthEnd:
    """A month's spend so far under some filters in one currency, and its month-end forecast."""

    month: str            # YYYY-MM
    as_of: date | None    # the last day the ledger covers in the month (None: it holds nothing for the month)
    actual: float
    forecast: float
    whole: bool           # the ledger covers the whole month: the forecast is what it spent


def month_end(run: Runner, where: tuple[tuple[str, str], ...], currency: str, month: str,
              covered: date | None) -> MonthEnd:
    """Spend in `month` and its forecast: spend so far + the remaining days × the median daily spend of the last
    RUN_RATE_DAYS days the ledger covers (a day without charges counts as 0). `covered` is covered_to()'s day."""
    first, nxt = _month(month)
    actual = _spend(run, where, currency, first, nxt, by_day=False)[first]
    end = min(covered, nxt) if covered else first
    whole = end >= nxt
    if whole or end <= first:
        forecast = actual
    else:
        daily = _spend(run, where, currency, end - timedelta(days=RUN_RATE_DAYS), end, by_day=True)
        days = [daily.get(end - timedelta(days=i + 1), 0.0) for i in range(RUN_RATE_DAYS)]
        forecast = actual + statistics.median(days) * (nxt - end).days
    return MonthEnd(month, end - timedelta(days=1) if end > first else None, actual, forecast, whole)


def standing(run: Runner, b: Budget, month: str, covered: date | None) -> Standing:
    """The budget in `month`; `covered` is the day after the last the ledger covers (covered_to)."""
    try:
        m = month_end(run, b.where, b.currency, month, covered)
    except ModelError as e:
        raise BudgetError(f"budget {b.name!r}: {e}") from None
    return Standing(b, month, m.as_of, m.actual, m.forecast,
                    status(m.actual, m.forecast, b.amount, b.alert_pct, m.whole))


def report(engine: Engine, budgets: Sequence[Budget], month: str | None = None,
           currency: metrics.Currency | None = None) -> list[Standing]:
    """Every budget in `month` (default: the month of the latest charge), money converted as `[currency]` says (the
    dashboard's data.metric reads the same table)."""
    (last_end,) = engine.first_row("SELECT max(coalesce(ChargePeriodEnd, ChargePeriodStart)) FROM costs")
    cur = currency or metrics.Currency()
    return report_with(lambda req: metrics.run(engine, replace(req, currency=cur)), budgets,
                       month or latest_month(engine), last_end)


def report_with(run: Runner, budgets: Sequence[Budget], month: str | None, last_end: object) -> list[Standing]:
    """report() through any runner: `month` (YYYY-MM; None: the ledger holds no charges), `last_end` the ledger's
    last charge end."""
    if month is None:
        raise BudgetError("the ledger holds no charges: ingest bills first (tierwise ingest BILLS)")
    return [standing(run, b, month, covered_to(last_end)) for b in budgets]
