"""Cost anomalies that matter, the way AWS Cost Anomaly Detection reports them: ranked by money impact, with a minimum
impact, each with the dimension that drives it.

Per dimension (cloud service, workload, site, account) and value, each UTC day's `effective_cost` (the semantic
model's) is compared with its expected cost, the median of the previous WINDOW_DAYS days. A day is an anomaly when its
impact (actual − expected) is at least the minimum impact (MIN_IMPACT in the day's currency, or MIN_SHARE of the
expected cost, whichever is larger) and above the series' usual day-to-day noise (K scaled MADs). A spike shows in
every dimension at once (one service, one workload, one site); each day keeps the dimension whose value explains the
most of it, so one spike is reported once, by its driver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from queries.semantic import metric as metrics

if TYPE_CHECKING:
    from queries.engines.engine import Engine

DIMENSIONS = ("cloud_service", "workload", "site", "account")
WINDOW_DAYS = 7
MIN_HISTORY_DAYS = 3
MIN_IMPACT = 50.0
MIN_SHARE = 0.2
K = 3.0
MAD_SCALE = 1.4826
Runner = Callable[[metrics.Request], pl.DataFrame]  # runs a semantic-model request: metrics.run, or the dashboard's cache


@dataclass(frozen=True)
class Anomaly:
    """One day on which one value of one dimension cost more than expected, by `impact` in `currency`."""

    day: date
    dimension: str
    value: str
    actual: float
    expected: float
    currency: str

    @property
    def impact(self) -> float:
        return self.actual - self.expected

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "dimension": self.dimension, "value": self.value,
                "actual": round(self.actual, 2), "expected": round(self.expected, 2),
                "impact": round(self.impact, 2), "impact_pct": round(100 * self.impact / self.expected, 1)
                if self.expected else None, "currency": self.currency}


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 10**9


def judged(daily: pl.LazyFrame, min_impact: float = MIN_IMPACT) -> pl.LazyFrame:
    """daily: dimension, value, currency, day, cost (every day of each series, zero-filled). Rows of the anomalous
    days with their expected cost (pure: frames in, frames out)."""
    key = ["dimension", "value", "currency"]
    history = pl.col("cost").shift(1).rolling_median(WINDOW_DAYS, min_samples=MIN_HISTORY_DAYS).over(key, order_by="day")
    spread = ((pl.col("cost") - pl.col("expected")).abs().shift(1)
              .rolling_median(WINDOW_DAYS, min_samples=MIN_HISTORY_DAYS).over(key, order_by="day"))
    return (daily.with_columns(history.alias("expected"))
            .with_columns(spread.alias("mad"))
            .filter(pl.col("expected").is_not_null())
            .with_columns((pl.col("cost") - pl.col("expected")).alias("impact"))
            .filter((pl.col("impact") >= pl.max_horizontal(pl.lit(min_impact), MIN_SHARE * pl.col("expected")))
                    & (pl.col("impact") > K * MAD_SCALE * pl.col("mad").fill_null(0.0))))


def drivers(anomalous: pl.LazyFrame, order: Sequence[str] = DIMENSIONS) -> pl.LazyFrame:
    """Per day and currency, the anomalies of the one dimension whose largest anomaly is largest (the driver); on a
    tie (a spike of one service on one account moves both by the same money) the first in `order` wins."""
    rank = pl.col("dimension").replace_strict(list(order), list(range(len(order))), default=len(order))
    top = (anomalous.group_by("day", "currency", "dimension").agg(pl.col("impact").max().round(6).alias("top"))
           .sort(pl.col("top"), rank, descending=[True, False])
           .group_by("day", "currency", maintain_order=True).first().select("day", "currency", "dimension"))
    return anomalous.join(top, on=["day", "currency", "dimension"]).sort(
        "impact", "day", "dimension", "value", descending=[True, False, False, False])


def _daily(run: Runner, dimension: str, start: date, end: date) -> pl.DataFrame:
    rows = run(metrics.Request(("effective_cost",), ("time", dimension), (), _ns(start), _ns(end), "day"))
    if rows.is_empty():
        return pl.DataFrame(schema={"dimension": pl.String, "value": pl.String, "currency": pl.String,
                                    "day": pl.Date, "cost": pl.Float64})
    days = pl.DataFrame({"day": pl.date_range(start, end - timedelta(days=1), "1d", eager=True)})
    series = rows.select(pl.col(dimension).cast(pl.String).fill_null("(none)").alias("value"), "currency").unique()
    spend = rows.select(pl.col("time").dt.date().alias("day"), pl.col(dimension).cast(pl.String).fill_null("(none)")
                        .alias("value"), "currency", pl.col("effective_cost").cast(pl.Float64).alias("cost"))
    return (series.join(days, how="cross").join(spend, on=["value", "currency", "day"], how="left")
            .with_columns(pl.col("cost").fill_null(0.0), pl.lit(dimension).alias("dimension"))
            .select("dimension", "value", "currency", "day", "cost"))


def find(engine: Engine, start: date, end: date, min_impact: float = MIN_IMPACT,
         dimensions: Sequence[str] = DIMENSIONS, currency: metrics.Currency | None = None) -> list[Anomaly]:
    """Anomalies on days in [start, end), largest impact first; history before `start` sets the expected cost; money
    converted as `[currency]` says (as the dashboard's data.metric does)."""
    (first,) = engine.first_row("SELECT min(ChargePeriodStart) FROM costs")
    cur = currency or metrics.Currency()
    return find_with(lambda req: metrics.run(engine, replace(req, currency=cur)), first, start, end, min_impact,
                     dimensions)


def find_with(run: Runner, first: object, start: date, end: date, min_impact: float = MIN_IMPACT,
              dimensions: Sequence[str] = DIMENSIONS) -> list[Anomaly]:
    """find() through any runner of the semantic model; `first` is the ledger's first charge start (None: empty)."""
    if not isinstance(first, datetime | date):
        return []
    # days before the ledger's first charge are not days of zero cost: history starts where the ledger does
    lead = max(start - timedelta(days=WINDOW_DAYS), first.date() if isinstance(first, datetime) else first)
    daily = pl.concat([_daily(run, d, lead, end) for d in dimensions])
    found = drivers(judged(daily.lazy(), min_impact).filter(pl.col("day") >= start)).collect()
    return [Anomaly(r["day"], r["dimension"], r["value"], r["cost"], r["expected"], r["currency"])
            for r in found.iter_rows(named=True)]


def default_window(engine: Engine, days: int = 30) -> tuple[date, date] | None:
    """The last `days` days the ledger covers (None when it holds no charges)."""
    (last,) = engine.first_row("SELECT max(ChargePeriodStart) FROM costs")
    return window_before(last, days)


def window_before(last: object, days: int = 30) -> tuple[date, date] | None:
    """The `days` days up to and including the day of `last` (the ledger's latest charge start; None: no charges)."""
    if not isinstance(last, datetime | date):
        return None
    end = (last.date() if isinstance(last, datetime) else last) + timedelta(days=1)
    return end - timedelta(days=days), end
