"""What a move is worth beyond money: latency and compliance, priced only by a stated method (`[value]` in
tierwise.toml), else given in their own units (ms of p95 saved, requests brought into their trust zone).

```toml
[value]
usd_per_ms_p95_per_1m_requests = 0.5     # USD for 1 ms of p95 saved on 1M requests of a latency-critical workload
usd_per_regulated_request_in_zone = 0.01  # USD for each regulated request per month moved back into its trust zone
```
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from store.settings import load_settings

HOURS_PER_MONTH = 730.0  # the scorecard's month (queries/scorecard.py)
KEYS = ("usd_per_ms_p95_per_1m_requests", "usd_per_regulated_request_in_zone")


class ValueConfigError(ValueError):
    """A `[value]` table tierwise cannot read: an unknown key or a value that is not a non-negative number."""


@dataclass(frozen=True)
class ValueMethod:
    """The configured prices of latency and compliance; None: not priced (shown in ms and requests, never as money)."""

    usd_per_ms_p95_per_1m_requests: float | None = None
    usd_per_regulated_request_in_zone: float | None = None

    def describe(self) -> str:
        """The method in one sentence, for the page, the memo and the docs."""
        lat, zone = self.usd_per_ms_p95_per_1m_requests, self.usd_per_regulated_request_in_zone
        latency = (f"latency: {lat:g} USD per ms of p95 saved per 1M requests per month (latency-critical workloads)"
                   if lat is not None else "latency: not priced (ms of p95 saved, with the requests they apply to)")
        compliance = (f"compliance: {zone:g} USD per regulated request per month brought into its trust zone"
                      if zone is not None else "compliance: not priced (regulated requests per month brought into "
                                               "their zone)")
        return f"[value] in tierwise.toml — {latency}; {compliance}"


def from_config(raw: Mapping[str, Any]) -> ValueMethod:
    """The `[value]` table of a parsed tierwise.toml; absent keys leave that part unpriced."""
    table = raw.get("value", {})
    if not isinstance(table, Mapping):
        raise ValueConfigError("[value] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ValueConfigError(f"[value]: unknown key {', '.join(unknown)} (known: {', '.join(KEYS)})")
    out: dict[str, float] = {}
    for key in KEYS:
        if key not in table:
            continue
        given = table[key]
        if isinstance(given, bool) or not isinstance(given, int | float) or not math.isfinite(given) or given < 0:
            raise ValueConfigError(f"[value] {key} must be a non-negative number, got {given!r}")
        out[key] = float(given)
    return ValueMethod(**out)


def configured(config: Path | None = None) -> ValueMethod:
    """The value method of the config file tierwise uses (TIERWISE_CONFIG or ./tierwise.toml), else unpriced."""
    path = config or load_settings().config_path
    if path is None or not path.is_file():
        return ValueMethod()
    return from_config(tomllib.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Worth:
    """One move's gains: money apart (savings = −Δcost), latency and compliance in their units and, when the method
    prices them, in USD per month (None: a gain the method does not price)."""

    savings_usd_month: float
    ms_p95_saved: float                 # ms of p95 saved on a latency-critical workload (0 otherwise)
    requests_per_month: float           # requests per month of the moved portion
    requests_into_zone_per_month: float  # regulated requests per month brought back into their trust zone
    latency_usd_month: float | None     # 0 when there is no gain; None when the gain is not priced
    compliance_usd_month: float | None

    @property
    def value_usd_month(self) -> float:
        """The ranking value: money saved + the priced gains (an unpriced gain adds nothing, and is shown apart)."""
        return round(self.savings_usd_month + (self.latency_usd_month or 0.0) + (self.compliance_usd_month or 0.0), 2)

    def note(self) -> str:
        """The gains beyond money in words: priced with the method, or in ms and requests."""
        parts = []
        if self.ms_p95_saved > 0:
            what = f"{self.ms_p95_saved:,.0f} ms of p95 saved on {_count(self.requests_per_month)} requests/month"
            parts.append(f"{what} = {self.latency_usd_month:,.2f} USD/month" if self.latency_usd_month is not None
                         else f"{what} (not priced)")
        if self.requests_into_zone_per_month > 0:
            what = f"{_count(self.requests_into_zone_per_month)} regulated requests/month brought into their zone"
            parts.append(f"{what} = {self.compliance_usd_month:,.2f} USD/month"
                         if self.compliance_usd_month is not None else f"{what} (not priced)")
        return "; ".join(parts) or "no latency or compliance gain"


def _count(n: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:,.1f}{suffix}"
    return f"{n:,.0f}"


def requests_per_month(inputs: pl.DataFrame, workload: str, from_tier: str, share: float) -> float:
    """Requests per month of a moved portion: its traffic share × the workload's largest portion's adjusted requests,
    over the days with spans, scaled to a 730-hour month (as the what-if's traffic share is defined)."""
    mine = inputs.filter(pl.col("workload") == workload)
    most = mine["requests_adjusted"].max()
    rows = mine.filter(pl.col("tier") == from_tier)
    days = rows["span_days"].max() if rows.height and "span_days" in rows.columns else None
    span_days = float(days) if isinstance(days, int | float) and days > 0 else 1.0
    total = float(most) if isinstance(most, int | float) else 0.0
    return total * share * HOURS_PER_MONTH / (24.0 * span_days)


def worth(method: ValueMethod, delta_cost: float, delta_p95_ms: float, requests_month: float, critical: bool,
          into_zone: bool) -> Worth:
    """A move's Worth: ms saved count on latency-critical workloads only; a move that ends a trust-zone violation
    brings its requests into their zone."""
    saved = max(0.0, -delta_p95_ms) if critical else 0.0
    zone = requests_month if into_zone else 0.0
    lat = method.usd_per_ms_p95_per_1m_requests
    comp = method.usd_per_regulated_request_in_zone
    return Worth(round(-delta_cost, 2), round(saved, 3), round(requests_month, 1), round(zone, 1),
                 0.0 if saved == 0 else None if lat is None else round(lat * saved * requests_month / 1e6, 2),
                 0.0 if zone == 0 else None if comp is None else round(comp * zone, 2))
