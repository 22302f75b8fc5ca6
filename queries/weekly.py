"""A stated test for a weekly cycle in a daily series: the mean of weekend days (Saturday, Sunday, UTC) against the
mean of weekdays; a gap of more than THRESHOLD_PCT either way, over at least one whole week of days, is a cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

THRESHOLD_PCT = 15.0
MIN_WEEKEND_DAYS, MIN_WEEKDAYS = 2, 5


@dataclass(frozen=True)
class Weekly:
    weekend_mean: float
    weekday_mean: float
    weekend_days: int
    weekdays: int
    gap_pct: float          # (weekend mean ÷ weekday mean − 1) × 100
    cycle: bool             # |gap| > THRESHOLD_PCT

    def text(self, what: str, unit: str) -> str:
        """The finding with its numbers and the test it passed or failed."""
        verdict = "a weekly cycle" if self.cycle else "no weekly cycle"
        return (f"Weekly pattern: {verdict}. {what} averages {self.weekend_mean:,.2f} {unit} on the "
                f"{self.weekend_days} weekend days and {self.weekday_mean:,.2f} {unit} on the {self.weekdays} weekdays "
                f"({self.gap_pct:+.0f} %); the test: weekend and weekday means differ by more than "
                f"{THRESHOLD_PCT:g} %.")


def weekly(days: Sequence[date], values: Sequence[float | None]) -> Weekly | None:
    """The test on (day, value) pairs; None with too few days of either kind or a weekday mean of zero."""
    weekend = [float(v) for d, v in zip(days, values, strict=True) if v is not None and d.weekday() >= 5]
    weekday = [float(v) for d, v in zip(days, values, strict=True) if v is not None and d.weekday() < 5]
    if len(weekend) < MIN_WEEKEND_DAYS or len(weekday) < MIN_WEEKDAYS:
        return None
    end, mid = sum(weekend) / len(weekend), sum(weekday) / len(weekday)
    if mid == 0:
        return None
    gap = (end / mid - 1.0) * 100.0
    return Weekly(end, mid, len(weekend), len(weekday), gap, abs(gap) > THRESHOLD_PCT)
