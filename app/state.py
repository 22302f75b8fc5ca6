"""The dashboard's global filters: typed, validated against the store's values, and kept in the URL query string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

TRACE_ID = re.compile(r"[0-9a-f]{32}")
MAX_PARAM_CHARS = 200  # longer query-string values are never a tier, site, workload or date: ignored unread


@dataclass(frozen=True)
class Dimensions:
    """The values the filters may take in this store: tiers, sites and workloads seen, and the first and last day."""

    tiers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class Filters:
    """What every page is narrowed to; None means no filter. `end` is inclusive (a whole UTC day)."""

    start: date | None = None
    end: date | None = None
    tier: str | None = None
    site: str | None = None
    workload: str | None = None
    trace_id: str | None = None

    @property
    def start_ns(self) -> int | None:
        return _day_ns(self.start)

    @property
    def end_ns(self) -> int | None:
        """Exclusive end: midnight after the last day."""
        return _day_ns(self.end + timedelta(days=1)) if self.end else None

    def window(self) -> dict[str, object]:
        """The `start_ns`/`end_ns` parameters every query takes."""
        return {"start_ns": self.start_ns, "end_ns": self.end_ns}

    def scope(self) -> dict[str, object]:
        """Window plus tier, site and workload, for queries that take all four."""
        return {**self.window(), "tier": self.tier, "site": self.site, "workload": self.workload}

    def where(self) -> tuple[tuple[str, str], ...]:
        """Tier, site and workload as the semantic model's filters (queries/semantic): they apply to every measure."""
        return tuple((k, v) for k, v in (("tier", self.tier), ("site", self.site), ("workload", self.workload)) if v)

    def to_query_params(self) -> dict[str, str]:
        """The URL form: only set filters, dates as YYYY-MM-DD."""
        raw = {"start": self.start.isoformat() if self.start else None,
               "end": self.end.isoformat() if self.end else None,
               "tier": self.tier, "site": self.site, "workload": self.workload, "trace_id": self.trace_id}
        return {k: v for k, v in raw.items() if v is not None}

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]


def _day_ns(day: date | None) -> int | None:
    if day is None:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000_000


def _text(params: Mapping[str, str | list[str]], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None or len(value) > MAX_PARAM_CHARS:
        return None
    return value.strip() or None


def _day(raw: str | None, dims: Dimensions) -> date | None:
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    if dims.first_day and dims.last_day:
        day = min(max(day, dims.first_day), dims.last_day)
    return day


def _one_of(raw: str | None, allowed: tuple[str, ...]) -> str | None:
    return raw if raw is not None and raw in allowed else None


def parse(params: Mapping[str, str | list[str]], dims: Dimensions) -> Filters:
    """Filters from URL query parameters; any value the store does not hold (or that is malformed) is dropped."""
    start, end = _day(_text(params, "start"), dims), _day(_text(params, "end"), dims)
    if start and end and start > end:
        start, end = end, start
    trace = _text(params, "trace_id")
    return Filters(start=start, end=end,
                   tier=_one_of(_text(params, "tier"), dims.tiers),
                   site=_one_of(_text(params, "site"), dims.sites),
                   workload=_one_of(_text(params, "workload"), dims.workloads),
                   trace_id=trace.lower() if trace and TRACE_ID.fullmatch(trace.lower()) else None)
